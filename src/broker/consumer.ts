import type { Channel } from './channel.js';
import { preconditionFailed } from './errors.js';
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

/**
 * The consume arguments Warren acts on. `x-cancel-on-ha-failover` asks to be cancelled when a mirrored
 * queue fails over; Warren's queues are not mirrored, so that never happens and the flag is true as given.
 */
const CONSUME_ARGUMENTS: ReadonlySet<string> = new Set(['x-priority', 'x-consumer-timeout', 'x-cancel-on-ha-failover']);

/** `x-priority`, an integer (RabbitMQ takes any integer type); 0 without it. Unknown arguments are refused. */
function consumerPriority(args: Readonly<Record<string, unknown>>): number {
  for (const key of Object.keys(args)) {
    if (!CONSUME_ARGUMENTS.has(key)) throw preconditionFailed(`invalid arg '${key}' for consume: not supported by Warren`);
  }
  const priority = args['x-priority'];
  if (priority === undefined) return 0;
  if (typeof priority === 'number' && Number.isInteger(priority)) return priority;
  throw preconditionFailed(`invalid arg 'x-priority' for consume: expected an integer, got ${JSON.stringify(priority)}`);
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
    this.priority = consumerPriority(options.arguments);
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
