import type { Clock } from './clock.js';
import type { Queue } from './queue.js';

/**
 * `x-expires`: a queue unused for its period is deleted. As in RabbitMQ, a queue is used while it has
 * consumers, and by a basic.get (found a message or not) and a declare of it (passive or not); a publish
 * or a purge is not a use. The countdown starts at the declare (at start-up for a recovered queue, as
 * RabbitMQ restarts its leases) and again when the last consumer leaves.
 *
 * One timer per queue, never rescheduled on use: a use only moves `lastUsed`, and a timer that fires
 * before the period is up re-arms for what is left. A busy basic.get loop costs a clock read per get.
 */
export class QueueExpiry {
  private lastUsed: number;
  private cancelTimer: () => void;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    /** Whether the queue has consumers now; while it has, the countdown has not begun. */
    private readonly inUse: () => boolean,
    private readonly expire: () => void,
  ) {
    this.lastUsed = clock.now();
    this.cancelTimer = clock.schedule(periodMs, () => this.due());
  }

  used(): void {
    this.lastUsed = this.clock.now();
  }

  /** The queue is gone by other means: its timer must not outlive it. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private due(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    // A consumer present counts as a use at every check; the last one leaving counts once more (`used`).
    if (this.inUse()) this.lastUsed = now;
    const left = this.lastUsed + this.periodMs - now;
    if (left > 0) this.cancelTimer = this.clock.schedule(left, () => this.due());
    else this.expire();
  }
}

/** Starts the countdown of a queue declared with `x-expires`; undefined for a queue without. */
export function startExpiry(queue: Queue, clock: Clock, expire: () => void): QueueExpiry | undefined {
  const periodMs = queue.limits.expiresMs;
  return periodMs === undefined ? undefined : new QueueExpiry(clock, periodMs, () => queue.consumerCount > 0, expire);
}
