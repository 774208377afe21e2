import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { U32List } from './slot-table.js';

const SEGMENT_FILE = /^(\d{16})\.seg$/;

/**
 * One append-only segment file. Records are placed (`size` grows) when they are buffered; the file
 * catches up when the batch is written, and `durableSize` when it is fsynced.
 */
export class Segment {
  handle: FileHandle | undefined;
  size: number;
  durableSize: number;
  /** Messages whose current record is here and that some queue still holds. */
  liveCount = 0;
  liveBytes = 0;
  /** Slots ever placed here (stale entries are skipped by checking the slot's segment). */
  readonly slots = new U32List();
  /**
   * Older segments this one must not outlive: it holds settlements, deliveries, copies or queue
   * deletions about records in them, and without those the older records would come back to life.
   */
  readonly deps = new Set<number>();
  deleted = false;

  constructor(
    readonly number: number,
    readonly path: string,
    size = 0,
  ) {
    this.size = size;
    this.durableSize = size;
  }

  /** Everything placed here is on disk. */
  get settled(): boolean {
    return this.durableSize === this.size;
  }

  dependOn(older: number): void {
    if (older !== this.number) this.deps.add(older);
  }
}

export function segmentPath(dir: string, number: number): string {
  return join(dir, `${String(number).padStart(16, '0')}.seg`);
}

export async function listSegmentNumbers(dir: string): Promise<number[]> {
  const numbers: number[] = [];
  for (const name of await readdir(dir)) {
    const match = SEGMENT_FILE.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

/** Makes creating or unlinking a file durable: the directory entry has to reach the disk too. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A positional write may be short (e.g. interrupted); the record boundaries must not be. */
export async function writeFully(handle: FileHandle, buf: Buffer, start: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(buf, start + done, length - done, position + done);
    if (bytesWritten <= 0) throw new Error('segment write made no progress');
    done += bytesWritten;
  }
}
