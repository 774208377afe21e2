import type { DeathReason } from './dead-letter.js';

/**
 * Monotonic message counters, named as RabbitMQ's `message_stats` fields. Rates are derived from them
 * by sampling (the management API's job); the domain only counts.
 */
export class MessageStats {
  /** Messages published into the broker, an exchange or a queue. */
  publish = 0;
  /** Messages an exchange routed to at least one destination. */
  publishOut = 0;
  /** Publisher confirms sent. */
  confirm = 0;
  /** Mandatory messages returned unroutable. */
  returnUnroutable = 0;
  /** Non-mandatory messages dropped unroutable. */
  dropUnroutable = 0;
  deliver = 0;
  deliverNoAck = 0;
  get = 0;
  getNoAck = 0;
  /** basic.get on an empty queue. */
  getEmpty = 0;
  /** Deliveries (and gets) that carried the redelivered flag. */
  redeliver = 0;
  ack = 0;
  /** Rejected or nacked without requeue. */
  reject = 0;
  /**
   * Messages that died in a queue with a dead-letter exchange, by reason (RabbitMQ's
   * `messages_dead_lettered_<reason>_total`), whether or not a copy reached a queue.
   */
  readonly deadLettered: Record<DeathReason, number> = { rejected: 0, expired: 0, maxlen: 0, delivery_limit: 0 };
  /** Dead letters dropped: their dead-letter exchange did not exist, or every target closed a cycle. */
  deadLetterDropped = 0;

  /** deliver + deliverNoAck + get + getNoAck, as RabbitMQ's `deliver_get`. */
  get deliverGet(): number {
    return this.deliver + this.deliverNoAck + this.get + this.getNoAck;
  }
}

/** How an entry left a queue: a consumer or basic.get, with or without ack. */
export type HandOut = 'deliver' | 'deliverNoAck' | 'get' | 'getNoAck';
