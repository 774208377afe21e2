import type { Clock } from './clock.js';
import type { MessageStats } from './message-stats.js';
import type { Queue } from './queue.js';
import type { QueueEntry } from './queue-entry.js';

export type QueueState = 'live' | 'deleted';

export interface QueueProperties {
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Who declared it (`user_who_performed_action`). */
  readonly declaredBy: string;
}

/**
 * What `enqueue` did: a full `reject-publish` queue refuses the message (the publisher hears of it);
 * a `drop-head` queue too small for even this one message accepts and drops it at once, as RabbitMQ does.
 */
export type EnqueueOutcome = 'queued' | 'rejected' | 'dropped';

/** What happened to a queue's message, for whoever keeps the books (the store, the counters). */
export interface QueueObserver {
  /** The entry left the queue for good: acked, delivered with noAck, purged, dropped or rejected. */
  settled(queue: Queue, entry: QueueEntry): void;
  /** The entry was handed out for the first time and must now be acked. */
  delivered(queue: Queue, entry: QueueEntry): void;
  /** The entry came back unsettled and is ready again; `entry.deliveryCount` says how often so far. */
  returned(queue: Queue, entry: QueueEntry): void;
  /** Broker-wide counters, which outlive any one queue. */
  readonly stats: MessageStats;
  /**
   * Every message the message store took with an id up to this is on disk (or was refused and taken
   * out of its queues). Consumers get a stored message before that; an operator's move does not (see
   * `Queue.takeOut`).
   */
  readonly durableThrough: number;
  /** Time for message expiry. */
  readonly clock: Clock;
}
