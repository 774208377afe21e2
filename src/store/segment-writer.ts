import { open } from 'node:fs/promises';
import type { Message } from '../broker/message.js';
import { syncDirectory, writeFully, type Move, type Segment } from './segment.js';

interface Slice {
  readonly buf: Buffer;
  readonly start: number;
  end: number;
}

/** A run of a batch's bytes that goes to one segment, contiguous there, possibly over several chunks. */
interface Part {
  readonly segment: Segment;
  /** Offset in the segment file. */
  readonly position: number;
  length: number;
  readonly slices: Slice[];
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
  /** Messages added in this batch: those their queue made evictable are released once it is written. */
  readonly added: Message[] = [];
  /** Records copied forward in this batch; the store switches to them once they are durable. */
  readonly moved: Move[] = [];
  private done: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;

  whenSynced(): Promise<void> {
    if (!this.done) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      this.done = { promise, resolve, reject };
    }
    return this.done.promise;
  }

  finish(error?: unknown): void {
    if (!this.done) return;
    if (error === undefined) this.done.resolve();
    else this.done.reject(error);
  }
}

export interface WriterHooks {
  /** The active segment is full: register and return the next one. */
  nextSegment(full: Segment): Segment;
  /** The batch is in the files (maybe not yet on the disk). */
  written(batch: Batch): void;
  /** The batch is on disk. */
  synced(batch: Batch): void;
  /** Between batches: segment deletion and copy-forward, which may append more. Must not throw. */
  idle(): Promise<void>;
  /** A write or fsync failed: what was not yet on disk never will be. */
  failed(error: unknown): void;
}

export interface WriterOptions {
  readonly dir: string;
  readonly segmentSize: number;
  readonly flushIntervalMs: number;
  readonly flushBytes: number;
}

export interface WriterStats {
  fsyncs: number;
  flushes: number;
  bytesWritten: number;
}

const CHUNK_SIZE = 256 * 1024;
const POOLED_CHUNKS = 64;

/**
 * Group commit. Appends only reserve space in the in-memory batch (`begin`) and are encoded in place by
 * the caller; a timer or a full buffer starts a flush, and while one batch is being written and
 * fsynced the next accumulates, so many publishers share each fsync.
 */
export class SegmentWriter {
  /** Where the record reserved by the last `begin` goes: in this buffer at the returned index, and in the file. */
  buf: Buffer = Buffer.alloc(0);
  segment: Segment;
  offset = 0;
  writes = 0;
  failure: unknown;
  private pending: Batch;
  private inFlight: Batch | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly pool: Buffer[] = [];

  constructor(
    public active: Segment,
    private readonly options: WriterOptions,
    private readonly hooks: WriterHooks,
    readonly stats: WriterStats,
  ) {
    this.segment = active;
    this.pending = new Batch();
  }

  get batch(): Batch {
    return this.pending;
  }

  /** Reserves `length` bytes for one record; returns where in `buf` to encode it. Call `commit` after. */
  begin(length: number): number {
    const batch = this.pending;
    // After a failed write nothing more reaches the disk; keep the buffer from growing without bound.
    if (this.failure !== undefined) {
      batch.used = batch.chunkUsed = 0;
      batch.chunks.length = batch.parts.length = batch.added.length = batch.moved.length = 0;
    }
    if (this.active.size > 0 && this.active.size + length > this.options.segmentSize) {
      this.active = this.hooks.nextSegment(this.active);
    }
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
    this.writes++;
    return at;
  }

  commit(): void {
    if (this.running || this.failure !== undefined) return;
    if (this.pending.used >= this.options.flushBytes) {
      this.start();
    } else if (!this.timer) {
      // With no wait configured, the batch is what arrived in this event-loop turn: every frame already
      // read from every socket. While its fsync runs, the next batch gathers on its own.
      const flush = (): void => {
        this.timer = undefined;
        this.start();
      };
      this.timer = this.options.flushIntervalMs > 0 ? setTimeout(flush, this.options.flushIntervalMs) : setImmediate(flush);
    }
  }

  synced(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending.used > 0) {
      this.commit();
      return this.pending.whenSynced();
    }
    return this.inFlight ? this.inFlight.whenSynced() : Promise.resolve();
  }

  /** Writes and fsyncs everything appended so far, including what maintenance appends meanwhile. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.loop;
      else if (this.pending.used > 0 && this.failure === undefined) this.start();
      else break;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.pending.used > 0 && this.failure === undefined) {
        const batch = this.pending;
        this.pending = new Batch();
        this.inFlight = batch;
        try {
          await this.writeOut(batch);
        } catch (error) {
          this.failure = error;
          batch.finish(error);
          this.pending.finish(error);
          this.hooks.failed(error);
          break;
        } finally {
          this.inFlight = undefined;
        }
        batch.finish();
        for (const chunk of batch.chunks) if (chunk.length === CHUNK_SIZE && this.pool.length < POOLED_CHUNKS) this.pool.push(chunk);
        // idle() reports its own errors; this only keeps a bug there from stopping all writes.
        await this.hooks.idle().catch(() => undefined);
      }
    } finally {
      // Synchronous with the loop's last check, so an append can never find `running` set but unserved.
      this.running = false;
    }
  }

  private async writeOut(batch: Batch): Promise<void> {
    const touched = new Set<Segment>();
    let created = false;
    for (const part of batch.parts) {
      const segment = part.segment;
      if (!segment.handle) {
        segment.handle = await open(segment.path, 'wx+');
        created = true;
      }
      await writeFully(segment.handle, part.slices.map((slice) => slice.buf.subarray(slice.start, slice.end)), part.position);
      touched.add(segment);
    }
    this.stats.flushes++;
    this.stats.bytesWritten += batch.used;
    this.hooks.written(batch);
    await Promise.all([...touched].map((segment) => (segment.handle as NonNullable<Segment['handle']>).datasync()));
    this.stats.fsyncs += touched.size;
    if (created) {
      await syncDirectory(this.options.dir);
      this.stats.fsyncs++;
    }
    for (const part of batch.parts) part.segment.durableSize = Math.max(part.segment.durableSize, part.position + part.length);
    this.hooks.synced(batch);
  }
}
