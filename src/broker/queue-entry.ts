import type { Message } from './message.js';

/** One message's place in one queue. A message routed to several queues has one entry in each. */
export class QueueEntry {
  constructor(
    readonly message: Message,
    public redelivered: boolean,
    /**
     * How often this queue got the message back unsettled (nack/reject with requeue, recover, a closed
     * channel, a consumer timeout): `x-delivery-count`, checked against `x-delivery-limit`. Per queue,
     * not per message, because a fan-out's copies fail independently.
     */
    public deliveryCount = 0,
  ) {}

  /**
   * Order of arrival in this queue; a requeued entry goes back to this position. Message ids increase
   * in publish order and a message enters its queues as it is published, so the id is that order and
   * no entry needs a field of its own for it.
   */
  get seq(): number {
    return this.message.id;
  }
}

/** A ready-list item's message: never-handed-out messages are held bare, others as entries. */
export function asMessage(item: Message | QueueEntry): Message {
  return item instanceof QueueEntry ? item.message : item;
}

/** A ready-list item as an entry (a bare message was never delivered, so never returned: count 0). */
export function asEntry(item: Message | QueueEntry): QueueEntry {
  return item instanceof QueueEntry ? item : new QueueEntry(item, false);
}
