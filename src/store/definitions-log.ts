import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { DurabilityBarrier } from '../broker/persistence.js';
import type { DefinitionRecord } from './definition-record.js';
import { encodeDefinitionRecord } from './definitions-codec.js';
import { unobserved, type DiskActivity } from './disk-activity.js';
import { unguarded, type SpaceLedger } from './disk-guard.js';
import { DefinitionsFold } from './definitions-fold.js';
import { Flush } from './definitions-flush.js';
import { compactionPath, type StoredDefinitions } from './definitions-log-reader.js';
import { syncDirectory, writeFully } from './segment.js';
import type { StoreLog } from './store-log.js';

export interface ErrorLog extends StoreLog {
  error(obj: object, msg?: string): void;
}

/** How the log opens its files; a test passes one whose handles fail on cue. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>;

export interface DefinitionsLogOptions {
  readonly openFile?: OpenFile;
  /** Told of every byte before it is buffered (the disk guard). */
  readonly space?: SpaceLedger;
  /** After a failed flush, how long before the next try (default 1 s, or sooner on `retryNow`). */
  readonly retryMs?: number;
  /** Told of every change to the file, and of the writes and fsyncs in flight. */
  readonly activity?: DiskActivity;
}

/**
 * - recovering: the broker is being rebuilt from this very log; what it tells is already here.
 * - collecting: first start or migration; changes go into the fold, and `create` writes the fold as
 *   the new log in one atomic step, so a crash half-way leaves no log rather than half of one.
 * - live: every change is appended.
 */
type LogState = 'recovering' | 'collecting' | 'live' | 'closed';

/** Compaction waits for at least this many records in the file, so small logs are never rewritten. */
const MIN_COMPACTION_RECORDS = 1000;
const COMPACTION_CHUNK = 1024 * 1024;
const RETRY_MS = 1000;

/**
 * The durable definitions as an append-only log (docs/storage.md): one checksummed record per change,
 * written in groups like the message store — the records of one event-loop turn share one write and
 * one fdatasync, run beside that turn's message batch. The live state (the fold) is kept in memory;
 * once the file holds more than twice as many records as there are live ones, the fold is written to a
 * new file that replaces the log atomically.
 */
export class DefinitionsLog implements DurabilityBarrier {
  /** Records appended since start; replies whose request appended one wait for `synced()`. */
  writes = 0;
  /** Appends (one writev and one fdatasync each) and compactions done. */
  flushes = 0;
  compactions = 0;
  readonly fold: DefinitionsFold;
  private state: LogState = 'recovering';
  private handle: FileHandle | undefined;
  /** Bytes of whole, durable records in the file: where the next append goes. */
  private size: number;
  private fileRecords: number;
  private pending = new Flush();
  private inFlight: Flush | undefined;
  private compactRequested = false;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Immediate | undefined;
  private failure: unknown;
  /** Set after a failed flush: until it fires (or `retryNow`), new changes do not start another. */
  private retryTimer: NodeJS.Timeout | undefined;
  /** Every record up to this sequence number is on disk. */
  private onDisk = 0;
  private waiting: Array<{ readonly seq: number; resolve(): void; reject(error: unknown): void }> = [];
  private readonly openFile: OpenFile;
  private readonly space: SpaceLedger;
  private readonly retryMs: number;
  private readonly activity: DiskActivity;
  /** The log's name as the change stream tells it: it sits at the top of the data dir. */
  private readonly file: string;

  constructor(
    readonly path: string,
    stored: StoredDefinitions | undefined,
    private readonly log: ErrorLog,
    options: DefinitionsLogOptions = {},
  ) {
    this.openFile = options.openFile ?? open;
    this.space = options.space ?? unguarded;
    this.retryMs = options.retryMs ?? RETRY_MS;
    this.activity = options.activity ?? unobserved;
    this.file = basename(path);
    this.fold = stored?.fold ?? new DefinitionsFold();
    this.size = stored?.size ?? 0;
    this.fileRecords = stored?.records ?? 0;
  }

  /** The replay is over: from now on every change is appended to the existing file. */
  async goLive(): Promise<void> {
    this.handle = await this.openFile(this.path, 'r+');
    this.state = 'live';
  }

  collect(): void {
    this.state = 'collecting';
  }

  /** Writes what was collected as the log (temp file, fsync, rename, fsync of the dir) and goes live. */
  create(): Promise<void> {
    this.state = 'live';
    return this.compact();
  }

  get compactionDue(): boolean {
    return this.fileRecords > Math.max(MIN_COMPACTION_RECORDS, 2 * this.fold.size);
  }

  /** True when nothing is waiting to be written or being written: `synced()` would have nothing to wait for. */
  get settled(): boolean {
    return this.pending.count === 0 && this.inFlight === undefined;
  }

  /** False while replaying (the broker is telling what is already here) and after close. */
  get accepting(): boolean {
    return this.state === 'collecting' || this.state === 'live';
  }

  record(record: DefinitionRecord): void {
    if (!this.accepting) return;
    if (!this.fold.apply(record) || this.state === 'collecting') return;
    const frame = encodeDefinitionRecord(record);
    this.space.reserve(frame.length);
    this.pending.add(frame, ++this.writes);
    this.schedule();
  }

  /** Resolves once what was told so far is on disk; rejects if that write fails (it is retried later). Tries at once. */
  synced(): Promise<void> {
    if (this.pending.count > 0) {
      this.clearRetry();
      this.schedule();
      return this.pending.whenSynced();
    }
    return this.inFlight ? this.inFlight.whenSynced() : Promise.resolve();
  }

  /**
   * Resolves once what was told so far is on disk, however many tries that takes: a reply that waits
   * for it says "done" only when it is, and never says "failed" about a change that will still be
   * written. Rejects only if the log is closed first.
   */
  written(): Promise<void> {
    const seq = this.writes;
    if (this.onDisk >= seq) return Promise.resolve();
    this.schedule();
    return new Promise((resolve, reject) => this.waiting.push({ seq, resolve, reject }));
  }

  /** Space may be back: a failed flush is tried again now. */
  retryNow(): void {
    if (!this.retryTimer) return;
    this.clearRetry();
    if (this.pending.count > 0 || this.compactRequested) this.start();
  }

  /** Rewrites the log as its live records, after whatever is being written now. */
  compact(): Promise<void> {
    this.compactRequested = true;
    const done = this.pending.whenSynced();
    this.start();
    return done;
  }

  /** Writes what is pending, then closes the file. Changes told after this are not recorded. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      if (this.state === 'live') await this.drain();
    } finally {
      this.state = 'closed';
      this.clearRetry();
      if (this.scheduled) clearImmediate(this.scheduled);
      this.scheduled = undefined;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`definitions log ${this.path} closed before the change was written`));
      await this.handle?.close();
      this.handle = undefined;
    }
  }

  private async drain(): Promise<void> {
    while (this.running || this.pending.count > 0) {
      if (!this.running) this.start();
      await this.loop;
      if (this.failure !== undefined) throw this.failure;
    }
  }

  private schedule(): void {
    if (this.state !== 'live' || this.running || this.scheduled || this.retryTimer) return;
    // The flush runs after every frame read in this turn, as the message store's does, so a turn's
    // definitions and messages are fsynced side by side.
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.start();
    });
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private start(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let retry = false;
    try {
      while (this.pending.count > 0 || this.compactRequested) {
        const batch = this.pending;
        this.pending = new Flush();
        this.inFlight = batch;
        const compacting = this.compactRequested || this.fileRecords + batch.count > Math.max(MIN_COMPACTION_RECORDS, 2 * this.fold.size);
        this.compactRequested = false;
        try {
          // The fold already holds the batch's records, so a compaction covers them: they need no append.
          if (compacting) {
            await this.writeCompacted();
            this.space.dropped(batch.bytes);
          } else await this.append(batch);
          this.failure = undefined;
        } catch (error) {
          this.failure = error;
          this.space.failed(batch.bytes, error);
          this.log.error(
            { err: error, file: this.path, records: batch.count },
            `definitions log ${this.path}: ${compacting ? 'compaction' : 'write'} failed; the records stay pending and the next flush retries them`,
          );
          // Records that arrived during the failed flush get their try; the failed ones are not retried
          // in a loop against a failing disk, only with the next change or `synced()`.
          retry = this.pending.count > 0;
          this.pending.putBack(batch);
          batch.finish(error);
          if (this.state === 'live' || this.state === 'collecting') {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined;
              this.schedule();
            }, this.retryMs);
            this.retryTimer.unref();
          }
          break;
        } finally {
          this.inFlight = undefined;
        }
        this.onDisk = Math.max(this.onDisk, batch.lastSeq);
        batch.finish();
        this.releaseWaiters();
      }
    } finally {
      // Synchronous with the loop's last check, so a record can never find `running` set but unserved.
      this.running = false;
    }
    if (retry) {
      this.clearRetry();
      this.schedule();
    }
  }

  private releaseWaiters(): void {
    if (this.waiting.length === 0 || (this.waiting[0]?.seq ?? 0) > this.onDisk) return;
    const still = [];
    for (const waiter of this.waiting) {
      if (waiter.seq <= this.onDisk) waiter.resolve();
      else still.push(waiter);
    }
    this.waiting = still;
  }

  private async append(batch: Flush): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new Error(`definitions log ${this.path} is not open`);
    const started = this.activity.began();
    try {
      this.activity.write(this.file, this.size, batch.frames);
      await writeFully(handle, batch.frames, this.size);
      await handle.datasync();
    } catch (error) {
      // Leave the file as it was, so the retry appends at the same place and no half record remains.
      this.activity.truncate(this.file, this.size);
      await handle.truncate(this.size).catch((truncateError: unknown) =>
        this.log.error({ err: truncateError, file: this.path, length: this.size }, `definitions log ${this.path}: could not truncate back after a failed write`),
      );
      throw error;
    } finally {
      this.activity.ended(started);
    }
    this.space.wrote(batch.bytes);
    this.size += batch.bytes;
    this.fileRecords += batch.count;
    this.flushes++;
  }

  private async writeCompacted(): Promise<void> {
    const { chunks, bytes, records } = await this.snapshot();
    // The new file is written beside the old one: counted as the space it takes until the next check.
    this.space.reserve(bytes);
    this.space.wrote(bytes);
    const temp = compactionPath(this.path);
    const started = this.activity.began();
    try {
      const handle = await this.openFile(temp, 'w+');
      try {
        if (chunks.length > 0) await writeFully(handle, chunks, 0);
        await handle.sync();
        await rename(temp, this.path);
      } catch (error) {
        await handle.close();
        await rm(temp, { force: true }).catch(() => undefined);
        throw error;
      }
      // Told once the rename is done, not before: a follower that replaced a file the leader could not
      // would then take the leader's next appends at offsets of the old file.
      this.activity.replace(this.file, chunks);
      // From the rename on, the old handle points at an unlinked file: switch before anything else can fail.
      const old = this.handle;
      this.handle = handle;
      this.size = bytes;
      this.fileRecords = records;
      this.compactions++;
      await old?.close();
      await syncDirectory(dirname(this.path));
    } finally {
      this.activity.ended(started);
    }
  }

  /**
   * The fold encoded, a chunk at a time with a turn of the event loop in between, so a large one does
   * not stall the broker (some 2.6 µs a record). Changes made meanwhile may or may not be in it, but
   * each of them is also a record of a later flush, appended after it; applying a record over a state
   * that already has it changes nothing, so the log replays to the same state either way.
   */
  private async snapshot(): Promise<{ chunks: Buffer[]; bytes: number; records: number }> {
    const chunks: Buffer[] = [];
    let frames: Buffer[] = [];
    let chunkBytes = 0;
    let bytes = 0;
    let records = 0;
    for (const record of this.fold.records()) {
      const frame = encodeDefinitionRecord(record);
      frames.push(frame);
      chunkBytes += frame.length;
      records++;
      if (chunkBytes >= COMPACTION_CHUNK) {
        chunks.push(Buffer.concat(frames, chunkBytes));
        bytes += chunkBytes;
        frames = [];
        chunkBytes = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (chunkBytes > 0) chunks.push(Buffer.concat(frames, chunkBytes));
    return { chunks, bytes: bytes + chunkBytes, records };
  }
}
