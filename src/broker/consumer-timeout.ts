import type { Clock } from './clock.js';
import { preconditionFailed } from './errors.js';

/** RabbitMQ's default `consumer_timeout`: 30 minutes. */
export const DEFAULT_CONSUMER_TIMEOUT_MS = 1_800_000;

/** The largest timeout accepted anywhere (the same ten years as the queue arguments' TTLs). */
export const MAX_CONSUMER_TIMEOUT_MS = 315_360_000_000;

/** What a consumer's timeout needs from the channel that holds its deliveries. */
export interface TimeoutHost {
  /** Whether the delivery is still unsettled: deliveries are settled on the channel, not here. */
  isUnacked(deliveryTag: number): boolean;
  /** The oldest unsettled delivery has waited `ms`: the consumer must go. */
  timedOut(deliveryTag: number, ms: number): void;
}

/**
 * `x-consumer-timeout` from a consume's arguments: undefined when absent; a 406 when it is not an
 * integer number of milliseconds from 0 (off) to ten years.
 */
export function consumeTimeoutArgument(args: Readonly<Record<string, unknown>>): number | undefined {
  const value = args['x-consumer-timeout'];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_CONSUMER_TIMEOUT_MS) return value;
  throw preconditionFailed(
    `invalid arg 'x-consumer-timeout' for consume: expected an integer from 0 to ${MAX_CONSUMER_TIMEOUT_MS}, got ${JSON.stringify(value)}`,
  );
}

/**
 * Watches one consumer's unacked deliveries for the oldest one passing its deadline. Deliveries are
 * acked mostly in order, so a FIFO of (tag, delivery time) is enough: the head is the oldest unsettled
 * one once settled heads are dropped. There is no timer per delivery: one timer per consumer, armed for
 * the head's deadline; when it fires early (acks moved the head on) it is armed again for the new head.
 * Nothing is cancelled on an ack, so the hot path is a clock read and two array writes per delivery.
 */
export class ConsumerTimeout {
  /** A ring of (tag, time) pairs in a Float64Array: no allocation per delivery, times beyond small integers. */
  private ring = new Float64Array(64);
  private head = 0;
  private count = 0;
  private disarm: (() => void) | undefined;
  private readonly check = (): void => this.onTimer();

  constructor(
    readonly ms: number,
    private readonly clock: Clock,
    private readonly host: TimeoutHost,
  ) {}

  /** Unsettled deliveries tracked, settled ones not yet dropped included. */
  get tracked(): number {
    return this.count;
  }

  delivered(deliveryTag: number): void {
    if (this.count * 2 === this.ring.length) this.grow();
    const at = (this.head + this.count * 2) % this.ring.length;
    this.ring[at] = deliveryTag;
    this.ring[at + 1] = this.clock.now();
    this.count++;
    this.disarm ??= this.clock.schedule(this.ms, this.check);
  }

  /**
   * After one of its deliveries was settled (`unacked` still open): drops settled heads, so memory follows
   * the unacked count. Out-of-order acks leave settled entries behind an old head; once they are more than
   * half the ring they are swept out, which keeps this O(1) amortised.
   */
  settled(unacked: number): void {
    this.dropSettledHeads();
    if (this.count > 2 * unacked + 64) this.compact();
  }

  /** The consumer went (cancelled, or its channel closed): no more checks. */
  stop(): void {
    this.disarm?.();
    this.disarm = undefined;
    this.head = 0;
    this.count = 0;
  }

  private onTimer(): void {
    this.disarm = undefined;
    this.dropSettledHeads();
    if (this.count === 0) return; // the next delivery arms it again
    const deadline = (this.ring[this.head + 1] as number) + this.ms;
    const now = this.clock.now();
    if (now >= deadline) this.host.timedOut(this.ring[this.head] as number, this.ms);
    else this.disarm = this.clock.schedule(deadline - now, this.check);
  }

  private dropSettledHeads(): void {
    while (this.count > 0 && !this.host.isUnacked(this.ring[this.head] as number)) {
      this.head = (this.head + 2) % this.ring.length;
      this.count--;
    }
  }

  private compact(): void {
    const next = new Float64Array(Math.max(64, this.ring.length));
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i * 2) % this.ring.length;
      const tag = this.ring[at] as number;
      if (!this.host.isUnacked(tag)) continue;
      next[kept * 2] = tag;
      next[kept * 2 + 1] = this.ring[at + 1] as number;
      kept++;
    }
    this.ring = next;
    this.head = 0;
    this.count = kept;
  }

  private grow(): void {
    const next = new Float64Array(this.ring.length * 2);
    for (let i = 0; i < this.count * 2; i++) next[i] = this.ring[(this.head + i) % this.ring.length] as number;
    this.ring = next;
    this.head = 0;
  }
}
