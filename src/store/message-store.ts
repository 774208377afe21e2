import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message, MessageContent } from '../broker/message.js';
import type { DurabilityBarrier, MessageStore, StoredQueue, StoreWatcher } from '../broker/persistence.js';
import type { Queue } from '../broker/queue.js';
import { ContentReader } from './content-reader.js';
import { openDataDir } from './data-dir.js';
import { unobserved, type DiskActivity } from './disk-activity.js';
import type { SpaceLedger } from './disk-guard.js';
import { salvage } from './failed-write.js';
import { copyForward, deleteDeadSegments, type MaintenanceStats } from './maintenance.js';
import { readSegments } from './read-segments.js';
import { REF_DELIVERED, REF_SETTLED, RecordType } from './record-codec.js';
import { appendQueueDeleted, appendRef } from './ref-records.js';
import { adoptRecovered, type RecoveredQueues } from './recovered-queues.js';
import { MESSAGES_DIR, Segment, segmentPath } from './segment.js';
import { WriteTimings } from './write-timings.js';
import { SegmentWriter, type Batch, type WriterHooks, type WriterOptions, type WriterStats } from './segment-writer.js';
import { MULTI, UNWRITTEN } from './slot-table.js';
import { silentLog, type StoreLog } from './store-log.js';
import { SettleWaiters } from './settle-waiters.js';
import { StoreState } from './store-state.js';
import { StoredMark } from './stored-mark.js';
import { awaitsConsumer, encodeUnwritten, isUnwritten, writeUnwritten } from './unwritten-record.js';

export type { StoreLog } from './store-log.js';
export type { RecoveredMessage, RecoveredQueues } from './recovered-queues.js';

export interface SegmentStoreOptions {
  /** Bytes per segment file (default 32 MiB); a bigger record gets a segment of its own. */
  readonly segmentSize?: number;
  /** How long appends wait for others to share their write and fsync (default 0: those of the same event-loop turn). */
  readonly flushIntervalMs?: number;
  readonly log?: StoreLog;
  /** Told of every byte before it is written (the disk guard). */
  readonly space?: SpaceLedger;
  /** After a failed write, how long before the next try (default 1 s, or sooner on `retryNow`). */
  readonly retryMs?: number;
  /** How segment files are opened; a test passes one whose handles fail on cue. */
  readonly openFile?: WriterOptions['openFile'];
  /**
   * Told of every change to the store's files (and the format stamp), and of the writes and fsyncs in
   * flight: the cluster's change stream and disk-stall watchdog (see DurableStateOptions).
   */
  readonly activity?: DiskActivity;
  /**
   * Whether a message every queue of which handed it out at once may wait for the lazy write, and is
   * not written at all if settled by then (default true). A cluster leader turns it off: it confirms a
   * publish only once its record is on the followers' disks, so the wait would hold every confirm.
   */
  readonly deferHandedOut?: boolean;
}

export interface SegmentStoreStats extends WriterStats, MaintenanceStats {
  /** Persistent messages every queue settled before their record was written: never written. */
  messagesNeverWritten: number;
}

const DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024;
const FLUSH_BYTES = 1024 * 1024;

/**
 * The message store: an append-only log of segment files (see docs/storage.md). A persistent message
 * is written once, with the list of its durable queues; settlements, first deliveries and queue
 * deletions are small records after it. Everything is buffered and written in groups (SegmentWriter),
 * old segments are deleted once nothing in them matters, and released contents are read back from the
 * files on demand.
 */
export class SegmentMessageStore implements MessageStore, DurabilityBarrier {
  readonly stats: SegmentStoreStats = {
    fsyncs: 0,
    flushes: 0,
    bytesWritten: 0,
    segmentsDeleted: 0,
    messagesCopied: 0,
    messagesNeverWritten: 0,
    timings: new WriteTimings(),
  };
  private readonly state = new StoreState();
  private writer!: SegmentWriter;
  private readonly reader: ContentReader;
  private closing: Promise<void> | undefined;
  private closed = false;
  private watcher: StoreWatcher | undefined;
  private readonly activity: DiskActivity;
  /** Every message added with an id up to this is on disk, or was refused: told to the watcher. */
  private storedThroughId = 0;
  /** How far `storedThroughId` may go (not past a message kept after a failed write). */
  private mark = new StoredMark(0);
  private readonly settleWaiters = new SettleWaiters();

  private constructor(
    private readonly dir: string,
    private readonly segmentSize: number,
    private readonly options: SegmentStoreOptions,
    private readonly log: StoreLog,
  ) {
    this.reader = new ContentReader(log);
    this.activity = options.activity ?? unobserved;
  }

  /** Opens (or creates) the store in `dataDir`/messages, after checking the data dir's format. */
  static async open(dataDir: string, options: SegmentStoreOptions = {}): Promise<{ store: SegmentMessageStore; recovered: RecoveredQueues }> {
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isInteger(segmentSize) || segmentSize < 4096 || segmentSize > 0xffffffff) {
      throw new RangeError(`segmentSize must be an integer from 4096 to 4294967295, got ${segmentSize}`);
    }
    await openDataDir(dataDir, options.activity);
    const dir = join(dataDir, MESSAGES_DIR);
    await mkdir(dir, { recursive: true });
    const store = new SegmentMessageStore(dir, segmentSize, options, options.log ?? silentLog);
    try {
      return { store, recovered: await store.recover() };
    } catch (error) {
      await store.closeFiles();
      throw error;
    }
  }

  get writes(): number {
    return this.writer.writes;
  }

  /** Resolves once everything buffered is on disk; a failed write is retried until it is. */
  synced(): Promise<void> {
    return this.writer.synced();
  }

  /**
   * Resolves once the messages added so far are on disk; rejects with a WriteFailure if their write
   * failed, naming those refused (the others, handed out already, are kept: `synced()` tells when).
   */
  stored(): Promise<void> {
    return this.writer.stored();
  }

  /** Space is back: a failed write is tried again now. */
  retryNow(): void {
    this.writer.retryNow();
  }

  watch(watcher: StoreWatcher): void {
    this.watcher = watcher;
    watcher.storedThrough(this.storedThroughId);
  }

  /** Segment files on disk. */
  get segmentCount(): number {
    let count = 0;
    for (const segment of this.state.segments.values()) if (segment.handle) count++;
    return count;
  }

  get diskBytes(): number {
    return this.state.diskBytes;
  }

  /**
   * Its record is encoded when its batch is written, with each queue's flags as of then, and not at all
   * if every queue has settled it by then (docs/storage.md, "Messages written when their batch goes").
   */
  add(message: Message, queues: readonly StoredQueue[]): void {
    this.checkOpen();
    const count = queues.length;
    if (count === 0) return;
    const { registry, slots } = this.state;
    const ref = count === 1 ? registry.qidOf(queues[0] as StoredQueue) : (MULTI | registry.listFor(queues.map((queue) => registry.qidOf(queue)))) >>> 0;
    // Until it is written, its offset is its index among the batch's unwritten messages (see isUnwritten).
    message.storeRef = slots.allocate(UNWRITTEN, this.writer.batch.unwritten.length, 0, ref, count);
    if (this.options.deferHandedOut !== false) this.writer.stage(message, message.size);
    else {
      this.writer.writes++;
      writeUnwritten(this.state, this.writer, message);
      this.writer.commit();
    }
  }

  remove(message: Message, queue: StoredQueue): void {
    if (this.closed) return;
    const slot = this.slotOf(message);
    if (slot === undefined) return;
    const qid = this.state.registry.qidOf(queue);
    const index = this.state.refIndex(slot, qid);
    if (index < 0 || this.state.slots.flags(slot, index) & REF_SETTLED) return;
    this.state.slots.setFlag(slot, index, REF_SETTLED);
    // A deleted queue's QueueDeleted record already covers every message it had; an unwritten record
    // will carry the flag.
    if (!this.state.registry.isDeleted(qid) && this.state.slots.seg(slot) !== UNWRITTEN) appendRef(this.state, this.writer, RecordType.Settle, message.id, slot, index);
    if (this.state.slots.allSettled(slot, this.state.queueCount(slot))) {
      if (this.state.slots.seg(slot) === UNWRITTEN) this.stats.messagesNeverWritten++;
      this.state.free(slot, message);
      this.settleWaiters.settled(message.id);
    }
  }

  /** See DurabilityBarrier.onAllSettled. */
  onAllSettled(message: Message, settled: () => void): void {
    if (message.id <= this.storedThroughId) return;
    if (this.slotOf(message) !== undefined) this.settleWaiters.add(message.id, settled);
    // Gone already: settled by a queue that handed it out (a noAck consumer during the publish). A
    // message a failed write refused is gone too, but no queue ever handed that one out.
    else if (message.handedOut) settled();
  }

  delivered(message: Message, queue: Queue): void {
    if (this.closed) return;
    const slot = this.slotOf(message);
    if (slot === undefined) return;
    const qid = this.state.registry.qidOf(queue);
    const index = this.state.refIndex(slot, qid);
    if (index < 0 || this.state.slots.flags(slot, index) !== 0) return;
    this.state.slots.setFlag(slot, index, REF_DELIVERED);
    if (!this.state.registry.isDeleted(qid) && this.state.slots.seg(slot) !== UNWRITTEN) appendRef(this.state, this.writer, RecordType.Delivered, message.id, slot, index);
  }

  returned(message: Message, queue: Queue, count: number): void {
    if (this.closed) return;
    const slot = this.slotOf(message);
    if (slot === undefined) return;
    const qid = this.state.registry.qidOf(queue);
    const index = this.state.refIndex(slot, qid);
    if (index < 0 || this.state.slots.flags(slot, index) & REF_SETTLED) return;
    // A return count has no place in the message record: the record goes now, the count after it.
    if (isUnwritten(this.state, message, this.writer.batch)) {
      writeUnwritten(this.state, this.writer, message);
      this.writer.commit();
    }
    const { returns } = this.state;
    let counts = returns.get(slot);
    if (!counts) returns.set(slot, (counts = []));
    counts[index] = count;
    if (!this.state.registry.isDeleted(qid) && this.state.slots.seg(slot) !== UNWRITTEN) appendRef(this.state, this.writer, RecordType.Delivered, message.id, slot, index, count);
  }

  queueDeleted(queue: StoredQueue): void {
    if (this.closed) return;
    // A queue the store never saw has nothing on disk to cancel.
    const qid = this.state.registry.find(queue);
    if (qid !== undefined && !this.state.registry.isDeleted(qid)) appendQueueDeleted(this.state, this.writer, qid);
  }

  /** Reads released contents back off the event loop, one read per run of records close together. */
  load(messages: readonly Message[]): Promise<Array<MessageContent | undefined>> {
    // After close the broker is going away: nothing to read, and nothing worth a warning.
    if (this.closed) return Promise.resolve(messages.map(() => undefined));
    return this.reader.readAll(messages.map((message) => this.state.placeOf(message)));
  }

  /** Writes and fsyncs everything buffered so far, and waits for the segment clean-up it triggers. */
  async flush(): Promise<void> {
    if (!this.closed) await this.writer.drain();
  }

  /** Writes and fsyncs everything buffered, then closes the files; the next open needs no repair. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    try {
      await this.writer.drain();
      this.writer.close(new Error('the message store is closed'));
    } catch (error) {
      this.writer.close(error);
      throw error;
    } finally {
      this.closed = true;
      await this.closeFiles();
    }
  }

  private async closeFiles(): Promise<void> {
    for (const segment of this.state.segments.values()) {
      await segment.handle?.close();
      segment.handle = undefined;
    }
  }

  private async recover(): Promise<RecoveredQueues> {
    const started = Date.now();
    const { segments, index } = await readSegments(this.dir, this.log, { activity: this.activity });
    for (const segment of segments) this.state.segments.set(segment.number, segment);
    const recovered = adoptRecovered(index, this.state, this);
    this.storedThroughId = index.maxMessageId;
    this.mark = new StoredMark(index.maxMessageId);
    const next = (segments[segments.length - 1]?.number ?? 0) + 1;
    const active = new Segment(next, segmentPath(this.dir, next));
    this.state.segments.set(next, active);
    const { flushIntervalMs = 0, retryMs, space, openFile } = this.options;
    const writerOptions: WriterOptions = {
      dir: this.dir,
      segmentSize: this.segmentSize,
      flushIntervalMs,
      flushBytes: FLUSH_BYTES,
      retryMs,
      space,
      openFile,
      activity: this.activity,
    };
    this.writer = new SegmentWriter(active, writerOptions, this.hooks(), this.stats);
    await deleteDeadSegments(this.state, this.writer, this.dir, this.stats, this.activity);
    if (segments.length > 0) {
      const ms = Date.now() - started;
      this.log.info({ messages: this.state.slots.live, segments: this.segmentCount, ms, maxMessageId: index.maxMessageId }, 'message store recovered');
    }
    return recovered;
  }

  private hooks(): WriterHooks {
    return {
      nextSegment: (full) => {
        const segment = new Segment(full.number + 1, segmentPath(this.dir, full.number + 1));
        this.state.segments.set(segment.number, segment);
        return segment;
      },
      encode: (batch: Batch) => encodeUnwritten(this.state, this.writer, batch),
      awaitsConsumer: (batch: Batch) => awaitsConsumer(this.state, batch),
      synced: (batch: Batch) => {
        for (const move of batch.moved) this.state.applyMove(move);
        // Not before the fsync: a failed one cuts the file back, and a message kept from it must still
        // have its content in memory, since it cannot be read back until the retry is on disk.
        for (const message of batch.added) if (message.evictable && typeof message.storeRef === 'number') message.release(this);
        this.mark.synced(batch);
        this.storedThrough(this.mark.through);
      },
      idle: async () => {
        try {
          await deleteDeadSegments(this.state, this.writer, this.dir, this.stats, this.activity);
          // Copying needs room to make room: not while space is short, nor while a failed write waits.
          if (this.closing || this.writer.retrying || this.options.space?.alarm) return;
          const budget = Math.min(this.segmentSize, 8 * 1024 * 1024);
          await copyForward(this.state, this.writer, { segmentSize: this.segmentSize, budget }, this.stats, this.log);
        } catch (error) {
          // Only disk space is at stake: the next round tries again.
          this.log.warn({ err: error }, 'message store: segment clean-up failed');
        }
      },
      failed: (error, unwritten) => {
        const { refused, kept, highestId } = salvage(this.state, this.writer, unwritten);
        this.log.error(
          { err: error, dir: this.dir, refused: refused.size, kept: kept.length },
          'message store: write or fsync failed; the messages in it no consumer has yet are refused, the rest is retried',
        );
        // Messages settled before their records were encoded count too: they need none.
        const through = unwritten.reduce((highest, batch) => Math.max(highest, batch.unwrittenThrough), highestId);
        this.mark.failed(through, kept, this.writer.batch);
        if (refused.size > 0) this.tell((watcher) => watcher.refused(refused));
        this.storedThrough(this.mark.through);
        return refused;
      },
      truncateFailed: (segment, error) =>
        this.log.error({ err: error, segment: segment.path, length: segment.durableSize }, 'message store: could not truncate a failed write back'),
    };
  }

  private storedThrough(id: number): void {
    if (id <= this.storedThroughId) return;
    this.storedThroughId = id;
    this.settleWaiters.storedThrough(id);
    this.tell((watcher) => watcher.storedThrough(id));
  }

  /** Runs inside the writer's loop: a failure in the broker must not pass for a failed write. */
  private tell(what: (watcher: StoreWatcher) => void): void {
    if (!this.watcher) return;
    try {
      what(this.watcher);
    } catch (error) {
      this.log.error({ err: error }, 'message store: the broker failed to take a write outcome');
    }
  }

  private slotOf(message: Message): number | undefined {
    const ref = message.storeRef;
    return typeof ref === 'number' && this.state.slots.isLive(ref) ? ref : undefined;
  }

  /**
   * Only an add must not be lost silently. Settlements arriving after close (connections torn down at
   * shutdown) are ignored: those messages come back after the restart, as unacked ones do anyway.
   */
  private checkOpen(): void {
    if (this.closed) throw new Error('the message store is closed');
  }
}
