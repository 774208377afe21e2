import type { Message } from './message.js';

/** One message's place in one queue. A message routed to several queues has one entry in each. */
export class QueueEntry {
  constructor(
    readonly message: Message,
    public redelivered: boolean,
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

/** A ready-list item as an entry (a bare message was never delivered). */
export function asEntry(item: Message | QueueEntry): QueueEntry {
  return item instanceof QueueEntry ? item : new QueueEntry(item, false);
}
