import { open, type FileHandle } from 'node:fs/promises';
import type { Message } from '../broker/message.js';
import { WriteFailure } from '../broker/persistence.js';
import { unobserved, type DiskActivity } from './disk-activity.js';
import { unguarded, type SpaceLedger } from './disk-guard.js';
import { syncDirectory, writeFully, type Segment } from './segment.js';
import { FlushSchedule } from './flush-schedule.js';
import { Batch } from './write-batch.js';
import type { WriteTimings } from './write-timings.js';

export { Batch } from './write-batch.js';

export interface WriterHooks {
  /** The active segment is full: register and return the next one. */
  nextSegment(full: Segment): Segment;
  /** The batch is on disk (or needed no write: its unwritten messages were all settled). */
  synced(batch: Batch): void;
  /**
   * The batch is about to be written: encode the records of its unwritten messages that some queue
   * still holds, with `begin`, into it.
   */
  encode(batch: Batch): void;
  /** Whether an unwritten message of the batch, from `unwrittenChecked` on, is not handed out: it must go now. */
  awaitsConsumer(batch: Batch): boolean;
  /** Between batches: segment deletion and copy-forward, which may append more. Must not throw. */
  idle(): Promise<void>;
  /**
   * A write or fsync failed. `unwritten` is every batch not on disk (their segments are already back
   * at their durable size): the hook refuses the messages that must not reach the disk, and appends
   * again, with `begin`, the records that still must (kept messages among them). Returns the refused.
   * Must not throw.
   */
  failed(error: unknown, unwritten: readonly Batch[]): ReadonlySet<Message>;
  /** A write failed and could not be undone: the segment may hold bytes past its durable size. */
  truncateFailed(segment: Segment, error: unknown): void;
}

export interface WriterOptions {
  readonly dir: string;
  readonly segmentSize: number;
  readonly flushIntervalMs: number;
  readonly flushBytes: number;
  /** After a failed write, how long before the next try (unless `retryNow`). */
  readonly retryMs?: number;
  readonly space?: SpaceLedger;
  /** How segment files are opened; a test passes one whose handles fail on cue. */
  readonly openFile?: (path: string, flags: string) => Promise<FileHandle>;
  /** Told of every write and truncation, and of the writes and fsyncs in flight. */
  readonly activity?: DiskActivity;
}

export interface WriterStats {
  fsyncs: number;
  flushes: number;
  bytesWritten: number;
  readonly timings: WriteTimings;
}

const CHUNK_SIZE = 256 * 1024;
const POOLED_CHUNKS = 64;
const RETRY_MS = 1000;
/** What a new file costs beyond its bytes: its last, partly used block. */
const NEW_FILE_BYTES = 4096;

/**
 * Group commit. Appends only reserve space in the in-memory batch (`begin`) and are encoded in place by
 * the caller; a timer or a full buffer starts a flush, and while one batch is being written and
 * fsynced the next accumulates, so many publishers share each fsync.
 *
 * A failed write or fsync is undone: the segments are truncated back to what is on disk, the hook
 * refuses the messages of every unwritten batch that no consumer has yet and re-appends the records
 * that must still be written (the other messages, settlements and the like), and those are tried
 * again after `retryMs` or on `retryNow`.
 */
export class SegmentWriter {
  /** Where the record reserved by the last `begin` goes: in this buffer at the returned index, and in the file. */
  buf: Buffer = Buffer.alloc(0);
  segment: Segment;
  offset = 0;
  writes = 0;
  /** Failed writes so far; the last one's error. */
  failures = 0;
  lastError: unknown;
  private pending: Batch;
  private inFlight: Batch | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly schedule: FlushSchedule;
  /** The next batch is written even if it is not urgent (its lazy timer fired, or `drain` wants it). */
  private forced = false;
  /** Set while waiting to try again after a failed write: no flush starts before it fires. */
  private retryTimer: NodeJS.Timeout | undefined;
  /** A failed write is being undone (before `retryTimer` is set), and whether `retryNow` came meanwhile. */
  private undoing = false;
  private retryAsked = false;
  /** A segment file was created and the directory not yet fsynced since. */
  private directoryDirty = false;
  private closed = false;
  private readonly pool: Buffer[] = [];
  private readonly space: SpaceLedger;
  private readonly activity: DiskActivity;
  private readonly openFile: (path: string, flags: string) => Promise<FileHandle>;

  constructor(
    public active: Segment,
    private readonly options: WriterOptions,
    private readonly hooks: WriterHooks,
    readonly stats: WriterStats,
  ) {
    this.segment = active;
    this.pending = new Batch();
    this.space = options.space ?? unguarded;
    this.activity = options.activity ?? unobserved;
    this.openFile = options.openFile ?? open;
    this.schedule = new FlushSchedule(options.flushIntervalMs, {
      pending: () => this.pending,
      awaitsConsumer: (batch) => hooks.awaitsConsumer(batch),
      flush: () => this.start(true),
      busy: () => this.running || this.retryTimer !== undefined || this.closed,
    });
  }

  get batch(): Batch {
    return this.pending;
  }

  /** Waiting to try a failed write again. */
  get retrying(): boolean {
    return this.retryTimer !== undefined;
  }

  /**
   * Reserves `length` bytes for one record; returns where in `buf` to encode it. Call `commit` after.
   * `counted` false: the append was counted in `writes` already (an unwritten message, when staged).
   */
  begin(length: number, counted = true): number {
    const batch = this.pending;
    if (this.active.size > 0 && this.active.size + length > this.options.segmentSize) {
      this.active = this.hooks.nextSegment(this.active);
      this.space.reserve(NEW_FILE_BYTES);
    }
    this.space.reserve(length);
    const segment = this.active;
    let chunk = batch.chunks[batch.chunks.length - 1];
    if (!chunk || batch.chunkUsed + length > chunk.length) {
      chunk = length <= CHUNK_SIZE ? (this.pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE)) : Buffer.allocUnsafeSlow(length);
      batch.chunks.push(chunk);
      batch.chunkUsed = 0;
    }
    const at = batch.chunkUsed;
    let part = batch.parts[batch.parts.length - 1];
    if (!part || part.segment !== segment) {
      part = { segment, position: segment.size, length: 0, slices: [] };
      batch.parts.push(part);
    }
    const slice = part.slices[part.slices.length - 1];
    if (slice && slice.buf === chunk && slice.end === at) slice.end += length;
    else part.slices.push({ buf: chunk, start: at, end: at + length });
    part.length += length;
    batch.chunkUsed += length;
    this.buf = chunk;
    this.segment = segment;
    this.offset = segment.size;
    segment.size += length;
    batch.used += length;
    if (counted) this.writes++;
    return at;
  }

  /**
   * A message whose record is encoded only when its batch is written, and not at all if every queue has
   * settled it by then. `bytes` counts towards `flushBytes`.
   */
  stage(message: Message, bytes: number): void {
    const batch = this.pending;
    batch.unwritten.push(message);
    batch.unwrittenBytes += bytes;
    if (message.id > batch.unwrittenThrough) batch.unwrittenThrough = message.id;
    this.writes++;
    this.commit();
  }

  commit(): void {
    if (this.running || this.retryTimer || this.closed) return;
    const batch = this.pending;
    if (batch.used + batch.unwrittenBytes >= this.options.flushBytes) this.start(true);
    else this.schedule.appended(batch);
  }

  /**
   * Resolves once everything appended so far is on disk — after however many tries that takes, since
   * a failed write keeps the records that must reach the disk. Rejects only if the writer closes first.
   */
  synced(): Promise<void> {
    if (this.pending.hasWork) {
      const synced = this.pending.whenSynced();
      this.commit();
      return synced;
    }
    return this.inFlight ? this.inFlight.whenSynced() : Promise.resolve();
  }

  /**
   * Resolves once the messages added so far are on disk; rejects with a WriteFailure if their write
   * failed, naming those refused (the others are written with the retry: see `synced`).
   */
  stored(): Promise<void> {
    if (this.pending.hasWork) {
      const stored = this.pending.whenStored();
      this.commit();
      return stored;
    }
    return this.inFlight ? this.inFlight.whenStored() : Promise.resolve();
  }

  /** Space may be back: try a failed write again now rather than at the next retry. */
  retryNow(): void {
    if (this.undoing) this.retryAsked = true;
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.pending.hasWork) this.start();
  }

  /**
   * Writes and fsyncs everything appended so far, including what maintenance appends meanwhile.
   * Throws if a write fails on the way (what it kept stays pending).
   */
  async drain(): Promise<void> {
    const failuresBefore = this.failures;
    for (;;) {
      if (this.running) await this.loop;
      else if (this.failures > failuresBefore) throw this.lastError;
      else if (this.pending.hasWork) {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.start(true);
      } else break;
    }
  }

  /** No more flushes; whoever still waits for what is pending hears `error`. */
  close(error: unknown): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.schedule.clear();
    this.pending.abandon(error);
  }

  private start(force = false): void {
    if (force) this.forced = true;
    this.schedule.clear();
    if (this.running || this.closed) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.hasWork && !this.retryTimer && (this.forced || this.schedule.mustWrite(this.pending))) {
        this.forced = false;
        this.hooks.encode(this.pending);
        const batch = this.pending;
        this.pending = new Batch();
        if (batch.used === 0) {
          // Every message in it was settled before its record was written: nothing goes to the disk.
          this.hooks.synced(batch);
          batch.finish();
          continue;
        }
        this.inFlight = batch;
        try {
          await this.writeOut(batch);
        } catch (error) {
          this.inFlight = undefined;
          await this.undo(batch, error);
          break;
        }
        this.inFlight = undefined;
        batch.finish();
        for (const chunk of batch.chunks) if (chunk.length === CHUNK_SIZE && this.pool.length < POOLED_CHUNKS) this.pool.push(chunk);
        // idle() reports its own errors; this only keeps a bug there from stopping all writes.
        await this.hooks.idle().catch(() => undefined);
      }
    } finally {
      // Synchronous with the loop's last check, so an append can never find `running` set but unserved.
      this.running = false;
      // A `retryNow` while a failed write was being undone found the loop still running; a batch that is
      // not urgent waits for its timer.
      if (this.pending.hasWork && !this.retryTimer) this.commit();
    }
  }

  /**
   * After a failed write: nothing of the unwritten batches may reach the disk except what the hook
   * appends again. Sizes go back first, synchronously, so appends made while the files are truncated
   * are placed where the next write puts them.
   */
  private async undo(failed: Batch, error: unknown): Promise<void> {
    this.undoing = true;
    this.retryAsked = false;
    try {
      await this.cutBack(failed, error);
    } finally {
      this.undoing = false;
    }
    if (!this.closed) {
      // Asked for while the files were being cut back (the stored() waiters hear of the failure before):
      // the retry comes at once, but still through the timer, so the clean-up below copies nothing.
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          if (this.pending.hasWork) this.start();
        },
        this.retryAsked ? 0 : (this.options.retryMs ?? RETRY_MS),
      );
      this.retryTimer.unref();
    }
    // Segments whose messages are all settled can go even now: that may be what frees the space.
    await this.hooks.idle().catch(() => undefined);
  }

  /** Tells the hook, the waiters and the followers, and truncates the files back to their durable size. */
  private async cutBack(failed: Batch, error: unknown): Promise<void> {
    // Encoded now, so that a message added meanwhile is refused or kept like the others.
    this.hooks.encode(this.pending);
    const unwritten = [failed, this.pending];
    this.pending = new Batch();
    this.failures++;
    this.lastError = error;
    const touched = new Set<Segment>();
    let bytes = 0;
    for (const batch of unwritten) {
      for (const part of batch.parts) touched.add(part.segment);
      // Bytes already told as written stay counted until the next statfs: too little free, never too much.
      if (!batch.wrote) this.space.dropped(batch.used);
      bytes += batch.used;
    }
    for (const segment of touched) segment.size = segment.durableSize;
    this.space.failed(bytes, error);
    const failure = new WriteFailure(error, this.hooks.failed(error, unwritten));
    const retry = this.pending.used > 0 ? this.pending : undefined;
    for (const batch of unwritten) batch.fail(failure, retry);
    for (const segment of touched) {
      if (!segment.handle) continue;
      // Told before it is done: a follower must drop the refused records even if the leader cannot.
      this.activity.truncate(segment.file, segment.durableSize);
      const started = this.activity.began();
      try {
        await segment.handle.truncate(segment.durableSize);
      } catch (truncateError) {
        this.hooks.truncateFailed(segment, truncateError);
      } finally {
        this.activity.ended(started);
      }
    }
  }

  private async writeOut(batch: Batch): Promise<void> {
    const started = this.activity.began();
    try {
      await this.writeAndSync(batch);
    } finally {
      this.activity.ended(started);
    }
    for (const part of batch.parts) part.segment.durableSize = Math.max(part.segment.durableSize, part.position + part.length);
    this.hooks.synced(batch);
  }

  /** One writev per touched segment (each told just before it starts), then their fdatasyncs. */
  private async writeAndSync(batch: Batch): Promise<void> {
    const touched = new Set<Segment>();
    for (const part of batch.parts) {
      const segment = part.segment;
      if (!segment.handle) {
        segment.handle = await this.openFile(segment.path, 'wx+');
        this.directoryDirty = true;
      }
      const data = part.slices.map((slice) => slice.buf.subarray(slice.start, slice.end));
      // A follower creates the file on its first write: a new segment needs no change of its own.
      this.activity.write(segment.file, part.position, data);
      await writeFully(segment.handle, data, part.position);
      touched.add(segment);
    }
    this.space.wrote(batch.used);
    batch.wrote = true;
    this.stats.flushes++;
    this.stats.bytesWritten += batch.used;
    const syncStarted = performance.now();
    await Promise.all([...touched].map((segment) => (segment.handle as NonNullable<Segment['handle']>).datasync()));
    const { timings } = this.stats;
    timings.fsyncSeconds.observe((performance.now() - syncStarted) / 1000);
    timings.batchBytes.observe(batch.used);
    timings.batchMessages.observe(batch.added.length);
    this.stats.fsyncs += touched.size;
    if (this.directoryDirty) {
      await syncDirectory(this.options.dir);
      this.directoryDirty = false;
      this.stats.fsyncs++;
    }
  }
}
