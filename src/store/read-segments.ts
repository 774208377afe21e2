import { open } from 'node:fs/promises';
import { RecoveryIndex } from './recovery.js';
import { Segment, listSegmentNumbers, segmentPath } from './segment.js';
import { scanSegment } from './segment-scanner.js';
import type { StoreLog } from './store-log.js';

/** Recovery reads sequentially in chunks this big: few syscalls, and the disk sees streaming reads. */
const READ_CHUNK = 4 * 1024 * 1024;

export interface ReadSegments {
  /** Oldest first, each open for reading, torn tails already cut off. */
  readonly segments: Segment[];
  readonly index: RecoveryIndex;
}

/**
 * Recovery's I/O: every segment in order, read in large sequential chunks. A torn tail (a crash in
 * the middle of a write: nothing in it was ever acknowledged as durable) is cut off so new records are
 * never appended behind garbage; a corrupt record in the middle is skipped and logged.
 */
export async function readSegments(dir: string, log: StoreLog): Promise<ReadSegments> {
  const index = new RecoveryIndex();
  const segments: Segment[] = [];
  const reader = { buf: Buffer.allocUnsafeSlow(READ_CHUNK) };
  try {
    for (const number of await listSegmentNumbers(dir)) {
      const path = segmentPath(dir, number);
      const segment = new Segment(number, path);
      segments.push(segment);
      const handle = (segment.handle = await open(path, 'r+'));
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
      if (scan.validEnd < size) {
        log.warn({ segment: path, at: scan.validEnd, bytes: size - scan.validEnd }, 'message store: truncated a torn tail');
        await handle.truncate(scan.validEnd);
        await handle.datasync();
      }
      segment.size = segment.durableSize = scan.validEnd;
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
