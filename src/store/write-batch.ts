import type { Message } from '../broker/message.js';
import type { WriteFailure } from '../broker/persistence.js';
import type { Move, Segment } from './segment.js';

/** A run of a chunk's bytes: whole records, one after another. */
export interface Slice {
  readonly buf: Buffer;
  readonly start: number;
  end: number;
}

/** A run of a batch's bytes that goes to one segment, contiguous there, possibly over several chunks. */
export interface Part {
  readonly segment: Segment;
  /** Offset in the segment file. */
  readonly position: number;
  length: number;
  readonly slices: Slice[];
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/**
 * Everything appended between two flushes: written with one writev per segment and one fdatasync.
 * The bytes live in fixed-size pooled chunks rather than one growing buffer, so a burst does not leave
 * ever larger freed buffers behind (which the allocator keeps, as RSS).
 */
export class Batch {
  used = 0;
  readonly chunks: Buffer[] = [];
  /** Fill of the last chunk. */
  chunkUsed = 0;
  readonly parts: Part[] = [];
  /**
   * Messages added in this batch (first, after a failed write, those kept from it: see `salvage`):
   * those their queue made evictable are released once it is on disk.
   */
  readonly added: Message[] = [];
  /** Records copied forward in this batch; the store switches to them once they are durable. */
  readonly moved: Move[] = [];
  /**
   * Messages added since the last batch left whose records are not encoded yet: encoded just before this
   * batch is written, and only those some queue still holds (see SegmentMessageStore.add).
   */
  readonly unwritten: Message[] = [];
  /** Their content bytes, towards `flushBytes`. */
  unwrittenBytes = 0;
  /** How many of `unwritten` were found handed out already (see SegmentWriter's `mustWrite`). */
  unwrittenChecked = 0;
  /** The highest id among `unwritten`: once this batch is on disk, each of them is, or needs not be. */
  unwrittenThrough = 0;
  /** Whether `used` bytes were told to the ledger as written. */
  wrote = false;
  /** Waiters for every record in the batch: carried over to the retry if the write fails. */
  private synced: Deferred | undefined;
  /** Waiters for the messages added: a failed write refuses those not handed out yet. */
  private stored: Deferred | undefined;
  /** Waiters of failed batches whose kept records this one writes again. */
  private readonly carried: Deferred[] = [];

  /**
   * Someone waits for all of this batch, or it holds encoded messages or copies: it is flushed at once.
   * A batch of nothing but settlements, delivery marks and unwritten messages is not urgent by itself
   * (the writer asks whether any unwritten one still waits for a consumer). `stored` waiters are not
   * urgent either: a publish is also safe once its queues settle it.
   */
  get urgent(): boolean {
    return this.added.length > 0 || this.moved.length > 0 || this.synced !== undefined || this.carried.length > 0;
  }

  /** Something to write, or unwritten messages to encode first. */
  get hasWork(): boolean {
    return this.used > 0 || this.unwritten.length > 0;
  }

  whenSynced(): Promise<void> {
    this.synced ??= deferred();
    return this.synced.promise;
  }

  whenStored(): Promise<void> {
    this.stored ??= deferred();
    return this.stored.promise;
  }

  /** Written and fsynced. */
  finish(): void {
    this.synced?.resolve();
    this.stored?.resolve();
    for (const waiting of this.carried) waiting.resolve();
  }

  /**
   * The write failed. Who waits for the messages hears which were refused (the rest are kept, and
   * written with `retry`); who waits for everything waits for `retry`, if it has any of it.
   */
  fail(failure: WriteFailure, retry: Batch | undefined): void {
    this.stored?.reject(failure);
    const waiting = this.synced ? [this.synced, ...this.carried] : this.carried;
    if (retry) retry.carried.push(...waiting);
    else for (const w of waiting) w.resolve();
  }

  /** The writer is closing with this batch unwritten. */
  abandon(error: unknown): void {
    this.synced?.reject(error);
    this.stored?.reject(error);
    for (const waiting of this.carried) waiting.reject(error);
  }
}
