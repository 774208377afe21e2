import { randomBytes } from 'node:crypto';
import { preconditionFailed } from '../broker/errors.js';
import type { Message, MessageProperties } from '../broker/message.js';

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

  /**
   * A request's properties with `reply-to: amq.rabbitmq.reply-to` naming the requester's consumer
   * instead (`name`, undefined when it has none: RabbitMQ's 406). Other properties come back as they are.
   */
  rewrite(properties: MessageProperties, name: string | undefined): MessageProperties {
    if (properties.replyTo !== REPLY_TO_QUEUE) return properties;
    if (name === undefined) throw preconditionFailed('fast reply consumer does not exist');
    return { ...properties, replyTo: name };
  }

  /** The requester a reply is for, if it is still there. */
  consumerFor(exchange: string, routingKey: string): ReplyConsumer | undefined {
    if (exchange !== '' || !routingKey.startsWith(REPLY_TO_PREFIX)) return undefined;
    return this.consumers.get(routingKey);
  }
}

/** One connection's (or AMQP channel's) consumer on `amq.rabbitmq.reply-to`: at most one, no-ack only. */
export class ReplySubscription {
  private current: { readonly tag: string; readonly name: string } | undefined;

  constructor(
    private readonly registry: DirectReplyTo,
    private readonly consumer: ReplyConsumer,
  ) {}

  /** The name replies go to; undefined without a consumer. */
  get name(): string | undefined {
    return this.current?.name;
  }

  get tag(): string | undefined {
    return this.current?.tag;
  }

  /** RabbitMQ's refusals, in its words: an acking consumer, a second one. */
  start(tag: string, noAck: boolean): void {
    if (!noAck) throw preconditionFailed('reply consumer cannot acknowledge');
    if (this.current) throw preconditionFailed('reply consumer already set');
    this.current = { tag, name: this.registry.register(this.consumer) };
  }

  /** Cancels it if `tag` is its tag; false for any other tag. */
  cancel(tag: string): boolean {
    if (this.current?.tag !== tag) return false;
    this.stop();
    return true;
  }

  stop(): void {
    if (this.current) this.registry.unregister(this.current.name);
    this.current = undefined;
  }
}
