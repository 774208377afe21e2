import { open } from 'node:fs/promises';
import { unobserved, type DiskActivity } from './disk-activity.js';
import { LostSegments } from './lost-segments.js';
import { RecoveryIndex } from './recovery.js';
import { Segment, listSegmentNumbers, segmentPath } from './segment.js';
import { missingSegments, readSegmentInventory, writeSegmentInventory } from './segment-inventory.js';
import { scanSegment } from './segment-scanner.js';
import type { StoreLog } from './store-log.js';

/** Recovery reads sequentially in chunks this big: few syscalls, and the disk sees streaming reads. */
const READ_CHUNK = 4 * 1024 * 1024;

export interface ReadSegments {
  /** Oldest first, each open for reading, torn tails already cut off. */
  readonly segments: Segment[];
  readonly index: RecoveryIndex;
}

export interface ReadOptions {
  /**
   * Changes nothing on disk (torn tails are left, not cut off) and does not look for lost files: for
   * a start that is about to be refused and must leave the data dir as it found it.
   */
  readonly readOnly?: boolean;
  /** Told of the torn tails cut off and the list of files written. */
  readonly activity?: DiskActivity;
}

/**
 * Recovery's I/O: every segment in order, read in large sequential chunks. A torn tail (a crash in
 * the middle of a write: nothing in it was ever acknowledged as durable) is cut off so new records are
 * never appended behind garbage; a corrupt record in the middle is skipped and logged. Segment files
 * that are gone though the store never deleted them are reported with what later records tell of
 * them, and the list of files is written afresh, so each loss is reported once.
 */
export async function readSegments(dir: string, log: StoreLog, options: ReadOptions = {}): Promise<ReadSegments> {
  const readOnly = options.readOnly === true;
  const activity = options.activity ?? unobserved;
  const index = new RecoveryIndex();
  const segments: Segment[] = [];
  const reader = { buf: Buffer.allocUnsafeSlow(READ_CHUNK) };
  const numbers = await listSegmentNumbers(dir);
  const missing = readOnly ? [] : await findMissing(dir, numbers, log);
  const lost = new LostSegments();
  if (missing.length > 0) index.lost = lost;
  // Each run of missing files is noted where it was in the sequence: what follows was written after it.
  const gaps = missing.values();
  let gap = gaps.next();
  try {
    for (const number of numbers) {
      for (; !gap.done && gap.value[0] < number; gap = gaps.next()) lost.gap(...gap.value);
      const path = segmentPath(dir, number);
      const segment = new Segment(number, path);
      segments.push(segment);
      const handle = (segment.handle = await open(path, readOnly ? 'r' : 'r+'));
      const { size } = await handle.stat();
      index.beginSegment(number);
      const malformedBefore = index.malformed;
      const scan = await scanSegment(handle, size, (type, buf, at, payloadLength, offset, length) => {
        if (!index.apply(type, buf, at, payloadLength, offset, length)) index.malformed++;
      }, reader);
      for (const [from, to] of scan.corrupt) {
        log.warn({ segment: path, from, to }, 'message store: skipped corrupt bytes in the middle of a segment');
      }
      if (index.malformed > malformedBefore) {
        log.warn({ segment: path, records: index.malformed - malformedBefore }, 'message store: ignored malformed records');
      }
      if (scan.validEnd < size && !readOnly) {
        log.warn({ segment: path, at: scan.validEnd, bytes: size - scan.validEnd }, 'message store: truncated a torn tail');
        activity.truncate(segment.file, scan.validEnd);
        const started = activity.began();
        try {
          await handle.truncate(scan.validEnd);
          await handle.datasync();
        } finally {
          activity.ended(started);
        }
      }
      segment.size = segment.durableSize = scan.validEnd;
    }
    for (; !gap.done; gap = gaps.next()) lost.gap(...gap.value);
    for (const { files, ids, message } of lost.reports(dir)) {
      if (log.error) log.error({ segments: files, ids }, message);
      else log.warn({ segments: files, ids }, message);
    }
    if (!readOnly) {
      // The store's next new segment follows the newest there is (see SegmentMessageStore.recover).
      const failed = await writeSegmentInventory(dir, numbers, (numbers[numbers.length - 1] ?? 0) + 1, activity);
      if (failed !== undefined) log.warn({ err: failed, dir }, 'message store: cannot write the list of segment files; the next start cannot check for lost ones');
    }
  } catch (error) {
    await Promise.all(segments.map((segment) => segment.handle?.close()));
    throw error;
  }
  for (const segment of segments) {
    for (const older of index.deps.get(segment.number) ?? []) segment.dependOn(older);
  }
  return { segments, index };
}

/** Segment files the store expected and did not delete: lost. Without a list (an older data dir) none can be told. */
async function findMissing(dir: string, numbers: readonly number[], log: StoreLog): Promise<Array<[number, number]>> {
  const inventory = await readSegmentInventory(dir);
  if (inventory.kind === 'listed') return missingSegments(inventory.numbers, inventory.next, numbers);
  if (numbers.length > 0) log.info({ dir }, `message store: cannot check for lost segment files this time: ${inventory.why}`);
  return [];
}
