import { randomBytes } from 'node:crypto';
import type { Message } from '../broker/message.js';

/** The pseudo-queue a requester consumes from, and the prefix of the names its replies are sent to. */
export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_TO_PREFIX = `${REPLY_TO_QUEUE}.`;

/** A channel consuming from `amq.rabbitmq.reply-to`: replies go straight to it, no queue between. */
export interface ReplyConsumer {
  deliverReply(message: Message): void;
}

/**
 * RabbitMQ's direct reply-to: a requester consumes from `amq.rabbitmq.reply-to` (no-ack) and publishes
 * with that as its `reply-to`; the broker rewrites it to a name of its own, and a reply published to the
 * default exchange with that name as routing key is delivered straight to the requester's consumer.
 * A reply to a requester that is gone is unroutable, as in RabbitMQ.
 */
export class DirectReplyTo {
  private readonly consumers = new Map<string, ReplyConsumer>();

  /** The name replies to this consumer are sent to. Random, so that one requester cannot guess another's. */
  register(consumer: ReplyConsumer): string {
    const name = `${REPLY_TO_PREFIX}${randomBytes(18).toString('base64url')}`;
    this.consumers.set(name, consumer);
    return name;
  }

  unregister(name: string): void {
    this.consumers.delete(name);
  }

  /** The requester a reply is for, if it is still there. */
  consumerFor(exchange: string, routingKey: string): ReplyConsumer | undefined {
    if (exchange !== '' || !routingKey.startsWith(REPLY_TO_PREFIX)) return undefined;
    return this.consumers.get(routingKey);
  }
}
