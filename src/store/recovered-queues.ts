import { Message, type ContentLoader } from '../broker/message.js';
import { REF_DELIVERED, REF_SETTLED } from './record-codec.js';
import type { RecoveryIndex } from './recovery.js';
import { MULTI } from './slot-table.js';
import type { StoreState } from './store-state.js';

export interface RecoveredMessage {
  readonly message: Message;
  readonly redelivered: boolean;
  /** How often its queue had it back before the restart (0 from a data dir older than delivery counts). */
  readonly deliveryCount: number;
  /** Its own `expiration` in ms, if it has one: the queue counts its expiry from the publish time. */
  readonly expiration: number | undefined;
}

export interface RecoveredQueues {
  /** vhost → queue name → the queue's live messages, oldest first. */
  readonly queues: Map<string, Map<string, RecoveredMessage[]>>;
  readonly maxMessageId: number;
}

/**
 * Turns recovery's live records into the store's bookkeeping (a slot per message) and into what the
 * broker restores: per queue, content-less Message stubs that read their content back through `loader`.
 * A message held by several queues is one Message, as it was before the restart.
 */
export function adoptRecovered(index: RecoveryIndex, state: StoreState, loader: ContentLoader): RecoveredQueues {
  const { registry, slots } = state;
  const qids = index.queueNames.map(({ vhost, name }) => registry.qidForName(vhost, name));
  const targets = index.queueNames.map((): RecoveredMessage[] => []);
  index.finish((record) => {
    const count = record.queues.length;
    const ref =
      count === 1
        ? (qids[record.queues[0] as number] as number)
        : (MULTI | registry.listFor(record.queues.map((key) => qids[key] as number))) >>> 0;
    const slot = slots.allocate(record.segment, record.offset, record.length, ref, count);
    state.place(slot, state.segment(record.segment));
    const message = new Message(record.id, true, record.size, record.publishedAt, undefined, loader, record.priority);
    message.storeRef = slot;
    if (record.returns) state.returns.set(slot, [...record.returns]);
    for (let q = 0; q < count; q++) {
      const flags = record.flags[q] as number;
      if (flags !== 0) slots.setFlag(slot, q, flags);
      if (flags & REF_SETTLED) continue;
      const key = record.queues[q] as number;
      registry.noteSegment(qids[key] as number, record.segment);
      (targets[key] as RecoveredMessage[]).push({
        message,
        redelivered: (flags & REF_DELIVERED) !== 0,
        deliveryCount: record.returns?.[q] ?? 0,
        expiration: record.expiration,
      });
    }
  });
  const queues = new Map<string, Map<string, RecoveredMessage[]>>();
  index.queueNames.forEach(({ vhost, name }, key) => {
    const messages = targets[key] as RecoveredMessage[];
    if (messages.length === 0) return;
    let byName = queues.get(vhost);
    if (!byName) queues.set(vhost, (byName = new Map()));
    byName.set(name, messages);
  });
  return { queues, maxMessageId: index.maxMessageId };
}
