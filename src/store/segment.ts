import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT_FILE = /^(\d{16})\.seg$/;
/** The message store's directory inside the data dir. */
export const MESSAGES_DIR = 'messages';

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
  /**
   * Older segments this one must outlive: it holds settlements, deliveries, copies or queue
   * deletions about records in them, and without those the older records would come back to life.
   */
  readonly deps = new Set<number>();
  deleted = false;
  /** Holds a record that cannot be read back, so copy-forward leaves it alone. */
  uncopyable = false;
  /** Its name relative to the data dir, as the change stream tells it: `messages/NNNNNNNNNNNNNNNN.seg`. */
  readonly file: string;

  constructor(
    readonly number: number,
    readonly path: string,
    size = 0,
  ) {
    this.size = size;
    this.durableSize = size;
    this.file = `${MESSAGES_DIR}/${segmentName(number)}`;
  }

  /** Everything placed here is on disk. */
  get settled(): boolean {
    return this.durableSize === this.size;
  }

  dependOn(older: number): void {
    if (older !== this.number) this.deps.add(older);
  }
}

/** A record copied forward, not yet durable: until it is, the slot keeps pointing at the original. */
export interface Move {
  readonly slot: number;
  readonly segment: number;
  readonly offset: number;
}

export function segmentPath(dir: string, number: number): string {
  return join(dir, segmentName(number));
}

function segmentName(number: number): string {
  return `${String(number).padStart(16, '0')}.seg`;
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

/** One writev at `position`; a short write (e.g. interrupted) is finished slice by slice. */
export async function writeFully(handle: FileHandle, slices: Buffer[], position: number): Promise<void> {
  const { bytesWritten } = await handle.writev(slices, position);
  let skip = bytesWritten;
  let at = position;
  for (const slice of slices) {
    let done = Math.min(skip, slice.length);
    skip -= done;
    while (done < slice.length) {
      const { bytesWritten: n } = await handle.write(slice, done, slice.length - done, at + done);
      if (n <= 0) throw new Error('segment write made no progress');
      done += n;
    }
    at += slice.length;
  }
}
