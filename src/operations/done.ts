import { BrokerError } from '../broker/errors.js';
import type { Message } from '../broker/message.js';
import { WriteFailure, type DurabilityBarrier } from '../broker/persistence.js';

/**
 * What an operation did, and when it is safe to say so: `durable` is set when the operation wrote to
 * disk (a durable declare, a persistent publish, a settlement) and resolves once that is synced (a
 * persistent publish: or once every durable queue settled its message). It rejects with an
 * INTERNAL_ERROR BrokerError if the write failed: for a publish, that means the message was refused
 * (not delivered, not stored); the stores retry what else they were given until it is on disk.
 * Callers that reply (a confirm, a REST 201) wait for it.
 */
export interface Done<T> {
  readonly value: T;
  readonly durable: Promise<void> | undefined;
  /**
   * The outcome `durable` would give, told to callbacks without making a promise (a confirm per publish
   * is on the hot path): `safe` or `failed`, either possibly more than once — the first one counts.
   * Only on a Done that waits for something; use `durable` where it is absent.
   */
  whenDurable?(safe: () => void, failed: (error: unknown) => void): void;
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
  private readonly changes: SharedWrapper;
  private readonly messages: SharedWrapper;

  constructor(
    private readonly barrier: DurabilityBarrier | undefined,
    log: OperationsLog,
  ) {
    this.changes = new SharedWrapper(log, 'write to disk failed: the change is in memory but not on disk');
    this.messages = new SharedWrapper(log, 'write to disk failed: the messages in it no consumer had were refused (not delivered, not stored); the rest are written again');
  }

  /** A mark to pass to `done` after acting. */
  get mark(): number {
    return this.barrier?.writes ?? 0;
  }

  done<T>(value: T, mark: number): Done<T> {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.writes === mark) return { value, durable: undefined };
    return { value, durable: this.changes.wrap(barrier.synced()) };
  }

  /**
   * As `done`, for what nothing usually waits for (an ack: AMQP has no reply to it): the promise is
   * only made when `durable` is read, so an unread one leaves the write to be batched lazily with the
   * next publishes instead of asking for an fsync of its own.
   */
  lazy<T>(value: T, mark: number): Done<T> {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.writes === mark) return { value, durable: undefined };
    const changes = this.changes;
    let durable: Promise<void> | undefined;
    return {
      value,
      get durable(): Promise<void> {
        const made = durable ?? changes.wrap(barrier.synced());
        durable = made;
        return made;
      },
    };
  }

  /**
   * As `done`, for a publish of `message`. It is safe once on disk, or once every durable queue has
   * settled it (consumers may get it before its write is done). Its error means the write failed and
   * the message was refused — taken out of its queues, and no consumer had it. If a consumer had it, a
   * failed write keeps it and writes it again: the wait then goes on until that retry is on disk. The
   * promise is only made when `durable` is read (a publish without a confirm never reads it).
   */
  stored<T>(value: T, mark: number, message: Message): Done<T> {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.writes === mark) return { value, durable: undefined };
    const raw = barrier.stored ? barrier.stored() : barrier.synced();
    // One wrapper per write: a failure is logged once, however many publishes it held.
    return new StoredPublish(value, message, raw, this.messages.wrap(raw), barrier, this.changes);
  }

  /**
   * As `stored`, for copies of messages made by the broker itself (an operator's move): resolves once
   * they are on disk, or rejects with the WriteFailure, whose `refused` names the copies refused.
   */
  copiesStored(mark: number): Promise<void> | undefined {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.writes === mark) return undefined;
    const raw = barrier.stored ? barrier.stored() : barrier.synced();
    const failed = this.messages.wrap(raw);
    return raw.then(undefined, (error: unknown) => (error instanceof WriteFailure ? Promise.reject(error) : failed));
  }

  /** Resolves once everything written so far is on disk. */
  flushed(): Promise<void> {
    return this.barrier ? this.changes.wrap(this.barrier.synced()) : Promise.resolve();
  }
}

/** One wrapper per barrier promise: a failure is turned into one BrokerError and logged once. */
class SharedWrapper {
  private lastRaw: Promise<void> | undefined;
  private lastWrapped: Promise<void> | undefined;

  constructor(
    private readonly log: OperationsLog,
    private readonly message: string,
  ) {}

  wrap(raw: Promise<void>): Promise<void> {
    if (raw === this.lastRaw && this.lastWrapped) return this.lastWrapped;
    const wrapped = raw.catch((error: unknown) => {
      // A refusal the barrier chose (a cluster leader short of in-sync replicas, or no longer leader) is
      // not a failed write: it goes to the reply as it is, with its own code and text.
      if (error instanceof BrokerError) throw error;
      this.log.error({ err: error }, this.message);
      throw new BrokerError('INTERNAL_ERROR', 'could not write to disk');
    });
    // The reply path attaches its own handler; this one keeps an unobserved failure from crashing the process.
    wrapped.catch(() => undefined);
    this.lastRaw = raw;
    this.lastWrapped = wrapped;
    return wrapped;
  }
}

/**
 * A persistent publish's Done (see `DurabilityWatch.stored`): safe once its write is on disk, or once
 * every durable queue settled the message, whichever is first; failed if the write failed and refused it.
 * The promise is only made when `durable` is read; a confirm takes `whenDurable`, which makes none.
 */
class StoredPublish<T> implements Done<T> {
  private promise: Promise<void> | undefined;

  constructor(
    readonly value: T,
    private readonly message: Message,
    private readonly written: Promise<void>,
    private readonly refused: Promise<void>,
    private readonly barrier: DurabilityBarrier,
    private readonly changes: SharedWrapper,
  ) {}

  get durable(): Promise<void> {
    if (this.promise) return this.promise;
    const promise = new Promise<void>((resolve, reject) => this.whenDurable(resolve, reject));
    // The reply path attaches its own handler; this one keeps an unread failure from crashing the process.
    promise.catch(() => undefined);
    this.promise = promise;
    return promise;
  }

  whenDurable(safe: () => void, failed: (error: unknown) => void): void {
    if (this.promise) {
      this.promise.then(safe, failed);
      return;
    }
    this.written.then(safe, (error: unknown) => this.afterFailure(error).then(safe, failed));
    this.barrier.onAllSettled?.(this.message, safe);
  }

  /** A consumer had the message: the failed write kept it, and the wait goes on until the retry is on disk. */
  private afterFailure(error: unknown): Promise<void> {
    return kept(error, this.message) ? this.changes.wrap(this.barrier.synced()) : this.refused;
  }
}

/** A failed write kept `message` to write it again (a consumer had it already), rather than refuse it. */
function kept(error: unknown, message: Message): boolean {
  return error instanceof WriteFailure && !error.refused.has(message);
}

/** An operation that wrote nothing. */
export function immediate<T>(value: T): Done<T> {
  return { value, durable: undefined };
}
