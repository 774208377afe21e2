import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { listStoreFiles, openIfPresent, readExactly } from './file-inventory.js';
import { CHUNK_SIZE, encodeChunk, jsonFrame, ReplicationFrameTypes, type CatchUpPlan, type Inventory } from './replication-frames.js';

/**
 * The leader's files as they were at the snapshot point P (the last entry told before it): what the
 * replicator knew then of files replaced or deleted by entries whose effect may not have reached the
 * directory yet (the store tells a change before it makes it).
 */
export interface SnapshotPoint {
  readonly seq: number;
  /** Files whose last change up to P replaced them whole: their contents as of P. */
  readonly replaced: ReadonlyMap<string, Buffer>;
  /** Files whose last change up to P deleted them. */
  readonly unlinked: ReadonlySet<string>;
}

/** Where catch-up writes its frames; a socket, seen only through what flow control needs. */
export interface FrameSink {
  write(frame: Buffer | Buffer[]): void;
  /** Resolves once the bytes not yet handed to the kernel are below the sender's mark. */
  drained(): Promise<void>;
  readonly closed: boolean;
}

interface SnapshotFile {
  readonly file: string;
  readonly size: number;
  read(position: number, length: number, buffer: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export interface CatchUpResult {
  readonly chunks: number;
  readonly bytes: number;
}

/**
 * Sends one follower what it needs to hold the leader's files at P: the plan (files and sizes, files to
 * delete), then every chunk whose CRC-32 differs from the follower's, and the tails it lacks. Handles
 * are opened before anything is read, so a rename or unlink after P does not disturb the reading; the
 * bytes read may already hold some entries after P, which the follower applies again afterwards, in
 * order, so its files end as the leader's.
 */
export async function sendCatchUp(o: {
  readonly dataDir: string;
  readonly epoch: bigint;
  readonly point: SnapshotPoint;
  readonly inventory: Inventory;
  readonly sink: FrameSink;
  /** Every write told up to now is in the files. */
  readonly localSynced: () => Promise<void>;
}): Promise<CatchUpResult> {
  await o.localSynced();
  const files = await openSnapshot(o.dataDir, o.point);
  try {
    const leaderFiles = new Set(files.map((file) => file.file));
    const plan: CatchUpPlan = {
      epoch: o.epoch.toString(),
      snapshotSeq: o.point.seq,
      files: files.map(({ file, size }) => ({ file, size })),
      deletes: o.inventory.files.map((file) => file.file).filter((file) => !leaderFiles.has(file)),
    };
    o.sink.write(jsonFrame(ReplicationFrameTypes.PLAN, plan));
    const theirs = new Map(o.inventory.files.map((file) => [file.file, file]));
    let chunks = 0;
    let bytes = 0;
    for (const file of files) {
      const their = theirs.get(file.file);
      for (let position = 0, index = 0; position < file.size; position += CHUNK_SIZE, index += 1) {
        if (o.sink.closed) throw new Error('the follower went away during catch-up');
        const length = Math.min(CHUNK_SIZE, file.size - position);
        // A fresh buffer per chunk: it is handed to the socket and must not be overwritten.
        const data = await file.read(position, length, Buffer.allocUnsafe(length));
        const crc = crc32(data);
        const theirSize = their ? Math.min(CHUNK_SIZE, their.size - position) : 0;
        if (theirSize === data.length && their?.crcs[index] === crc) {
          await yieldToLoop();
          continue;
        }
        o.sink.write(encodeChunk(file.file, position, crc, data));
        chunks += 1;
        bytes += data.length;
        await o.sink.drained();
      }
    }
    o.sink.write(jsonFrame(ReplicationFrameTypes.SNAPSHOT_DONE, { snapshotSeq: o.point.seq }));
    return { chunks, bytes };
  } finally {
    await Promise.all(files.map((file) => file.close().catch(() => undefined)));
  }
}

async function openSnapshot(dataDir: string, point: SnapshotPoint): Promise<SnapshotFile[]> {
  const names = new Set(await listStoreFiles(dataDir));
  for (const file of point.replaced.keys()) names.add(file);
  const files: SnapshotFile[] = [];
  try {
    for (const file of [...names].sort()) {
      if (point.unlinked.has(file)) continue;
      const replaced = point.replaced.get(file);
      if (replaced) {
        files.push(memoryFile(file, replaced));
        continue;
      }
      // Gone: deleted after P, and the entry that deleted it follows the snapshot.
      const handle = await openIfPresent(join(dataDir, file));
      if (!handle) continue;
      const { size } = await handle.stat();
      files.push({ file, size, read: (position, length, buffer) => readExactly(handle, buffer, position, length), close: () => handle.close() });
    }
  } catch (error) {
    await Promise.all(files.map((file) => file.close().catch(() => undefined)));
    throw error;
  }
  return files;
}

function memoryFile(file: string, data: Buffer): SnapshotFile {
  return {
    file,
    size: data.length,
    read: async (position, length) => data.subarray(position, position + length),
    close: async () => undefined,
  };
}
