import type { FileHandle } from 'node:fs/promises';
import { HEADER_SIZE, MAGIC, isPlausibleHeader, recordChecksum, recordLength } from './record-codec.js';

/** Called for every record whose header and checksum are good; `buf` is only valid during the call. */
export type RecordVisitor = (type: number, buf: Buffer, payloadAt: number, payloadLength: number, offset: number, length: number) => void;

/**
 * The read buffer, shared by all segments of one recovery: a fresh multi-MiB buffer per segment would
 * be freed again and again, and the allocator answers that by keeping such memory around (as RSS).
 */
export interface ScanBuffer {
  buf: Buffer;
}

export interface ScanResult {
  /** End of the last good record: anything after it is a torn tail. */
  readonly validEnd: number;
  /** Byte ranges skipped in the middle because they held no good record. */
  readonly corrupt: ReadonlyArray<readonly [number, number]>;
}

/**
 * A sliding window over the file, refilled with large sequential reads: recovery reads every byte of
 * every segment, and a read per record would cost a syscall per message.
 */
class Window {
  buf: Buffer;
  /** File offset of buf[0]. */
  start = 0;
  filled = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
    buf: Buffer,
  ) {
    this.buf = buf;
  }

  has(pos: number, n: number): boolean {
    return pos >= this.start && pos + n <= this.start + this.filled;
  }

  /** Makes bytes [pos, pos+n) available; false past the end of the file. */
  async load(pos: number, n: number): Promise<boolean> {
    if (pos + n > this.fileSize) return false;
    if (this.has(pos, n)) return true;
    let keep = 0;
    if (pos >= this.start && pos < this.start + this.filled) {
      keep = this.start + this.filled - pos;
      this.buf.copy(this.buf, 0, pos - this.start, this.start + this.filled);
    }
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n);
      this.buf.copy(bigger, 0, 0, keep);
      this.buf = bigger;
    }
    this.start = pos;
    this.filled = keep;
    while (this.filled < n) {
      const want = Math.min(this.buf.length - this.filled, this.fileSize - (this.start + this.filled));
      const { bytesRead } = await this.handle.read(this.buf, this.filled, want, this.start + this.filled);
      if (bytesRead === 0) return false;
      this.filled += bytesRead;
    }
    return true;
  }
}

/**
 * Reads a segment's records in order. A record that fails its checks is skipped by searching forward
 * for the next magic byte that starts a good record; if none follows, the file ends in a torn tail
 * (a crash mid-write) and `validEnd` says where to truncate.
 */
export async function scanSegment(handle: FileHandle, fileSize: number, visit: RecordVisitor, reader: ScanBuffer): Promise<ScanResult> {
  const window = new Window(handle, fileSize, reader.buf);
  try {
    return await scan(window, visit);
  } finally {
    // A record bigger than the buffer made the window grow: keep the bigger buffer for the next segment.
    reader.buf = window.buf;
  }
}

async function scan(window: Window, visit: RecordVisitor): Promise<ScanResult> {
  const fileSize = window.fileSize;
  const corrupt: Array<readonly [number, number]> = [];
  let pos = 0;
  while (pos < fileSize) {
    let length = recordAt(window, pos);
    if (length < 0) length = await loadRecordAt(window, pos);
    if (length > 0) {
      const at = pos - window.start;
      visit(window.buf[at + 1] as number, window.buf, at + HEADER_SIZE, window.buf.readUInt32LE(at + 4), pos, length);
      pos += length;
      continue;
    }
    const next = await resync(window, pos + 1);
    if (next < 0) return { validEnd: pos, corrupt };
    corrupt.push([pos, next]);
    pos = next;
  }
  return { validEnd: pos, corrupt };
}

/**
 * Length of the good record at `pos`, 0 if there is none, or minus the bytes the window must hold
 * first. Synchronous, so the common case (the record is already in the window) costs no promise.
 */
function recordAt(window: Window, pos: number): number {
  if (!window.has(pos, HEADER_SIZE)) return pos + HEADER_SIZE > window.fileSize ? 0 : -HEADER_SIZE;
  const at = pos - window.start;
  const buf = window.buf;
  if (!isPlausibleHeader(buf, at)) return 0;
  const payloadLength = buf.readUInt32LE(at + 4);
  const length = recordLength(payloadLength);
  if (pos + length > window.fileSize) return 0;
  if (!window.has(pos, length)) return -length;
  return recordChecksum(buf, at, payloadLength) === buf.readUInt32LE(at + HEADER_SIZE + payloadLength) ? length : 0;
}

async function loadRecordAt(window: Window, pos: number): Promise<number> {
  for (;;) {
    const length = recordAt(window, pos);
    if (length >= 0) return length;
    if (!(await window.load(pos, -length))) return 0;
  }
}

async function resync(window: Window, from: number): Promise<number> {
  let pos = from;
  while (pos + HEADER_SIZE <= window.fileSize) {
    if (!window.has(pos, HEADER_SIZE) && !(await window.load(pos, HEADER_SIZE))) return -1;
    const index = window.buf.subarray(0, window.filled).indexOf(MAGIC, pos - window.start);
    if (index < 0) {
      pos = window.start + window.filled;
      continue;
    }
    pos = window.start + index;
    if ((await loadRecordAt(window, pos)) > 0) return pos;
    pos++;
  }
  return -1;
}
