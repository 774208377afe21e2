import type { Channel } from './channel.js';
import { consumeTimeoutArgument, ConsumerTimeout } from './consumer-timeout.js';
import type { Queue } from './queue.js';

/** A consumer is active until it is cancelled, by its client or by the broker; it never comes back. */
export type ConsumerState = 'active' | 'cancelled';

export interface ConsumerOptions {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** Maximum unacked deliveries; 0 = unlimited. Ignored for noAck consumers, as in AMQP. */
  readonly prefetch: number;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export class Consumer {
  state: ConsumerState = 'active';
  /** Deliveries handed to this consumer and not yet settled. */
  unacked = 0;
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly prefetch: number;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** From `x-priority`: higher-priority consumers are served first while they have capacity. */
  readonly priority: number;
  /**
   * Milliseconds an unacked delivery may wait: the consume's `x-consumer-timeout`, else the queue's,
   * else the broker's; 0 = none, always 0 for noAck (nothing to wait for).
   */
  readonly timeoutMs: number;
  /** Undefined when `timeoutMs` is 0. */
  readonly timeout: ConsumerTimeout | undefined;

  constructor(
    readonly channel: Channel,
    readonly queue: Queue,
    options: ConsumerOptions,
  ) {
    this.tag = options.tag;
    this.noAck = options.noAck;
    this.exclusive = options.exclusive;
    this.prefetch = options.prefetch;
    this.arguments = options.arguments;
    const priority = options.arguments['x-priority'];
    this.priority = typeof priority === 'number' && Number.isInteger(priority) ? priority : 0;
    const ownTimeout = consumeTimeoutArgument(options.arguments);
    this.timeoutMs = this.noAck ? 0 : (ownTimeout ?? queue.limits.consumerTimeout ?? channel.vhost.consumerTimeout);
    this.timeout =
      this.timeoutMs > 0
        ? new ConsumerTimeout(this.timeoutMs, channel.vhost.clock, {
            isUnacked: (deliveryTag) => channel.isUnacked(deliveryTag),
            timedOut: (deliveryTag, ms) => channel.consumerTimedOut(this, deliveryTag, ms),
          })
        : undefined;
  }

  /** Whether the queue may hand this consumer one more message now. */
  get hasCapacity(): boolean {
    if (this.state !== 'active' || !this.channel.writable) return false;
    if (this.noAck) return true;
    return (this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.hasSharedRoom;
  }
}
