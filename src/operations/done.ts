import { BrokerError } from '../broker/errors.js';
import type { DurabilityBarrier } from '../broker/persistence.js';

/**
 * What an operation did, and when it is safe to say so: `durable` is set when the operation wrote to
 * disk (a durable declare, a persistent publish, a settlement) and resolves once that is synced. It
 * rejects with an INTERNAL_ERROR BrokerError if the write failed. Callers that reply (a confirm, a
 * REST 201) wait for it; the change itself is already visible to everyone.
 */
export interface Done<T> {
  readonly value: T;
  readonly durable: Promise<void> | undefined;
}

export interface OperationsLog {
  error(obj: object, msg?: string): void;
}

/**
 * Turns "this operation wrote something" into one promise for its reply to wait on. The barrier gives
 * the same promise to every caller of one group commit; so does this, so a burst of confirms shares a
 * single wrapper and a single failure log line.
 */
export class DurabilityWatch {
  private lastRaw: Promise<void> | undefined;
  private lastWrapped: Promise<void> | undefined;

  constructor(
    private readonly barrier: DurabilityBarrier | undefined,
    private readonly log: OperationsLog,
  ) {}

  /** A mark to pass to `done` after acting. */
  get mark(): number {
    return this.barrier?.writes ?? 0;
  }

  done<T>(value: T, mark: number): Done<T> {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.writes === mark) return { value, durable: undefined };
    return { value, durable: this.synced(barrier) };
  }

  /** Resolves once everything written so far is on disk. */
  flushed(): Promise<void> {
    return this.barrier ? this.synced(this.barrier) : Promise.resolve();
  }

  private synced(barrier: DurabilityBarrier): Promise<void> {
    const raw = barrier.synced();
    if (raw === this.lastRaw && this.lastWrapped) return this.lastWrapped;
    const wrapped = raw.catch((error: unknown) => {
      this.log.error({ err: error }, 'write to disk failed: the change is in memory but not on disk');
      throw new BrokerError('INTERNAL_ERROR', 'could not write to disk');
    });
    // The reply path attaches its own handler; this one keeps an unobserved failure from crashing the process.
    wrapped.catch(() => undefined);
    this.lastRaw = raw;
    this.lastWrapped = wrapped;
    return wrapped;
  }
}

/** An operation that wrote nothing. */
export function immediate<T>(value: T): Done<T> {
  return { value, durable: undefined };
}
