import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { CHUNK_SIZE, isStoreFile, type InventoryFile } from './replication-frames.js';

/** The store's files under `dataDir` (relative, `/`-separated), those that exist. */
export async function listStoreFiles(dataDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of await readdirOrEmpty(dataDir)) if (isStoreFile(name)) files.push(name);
  for (const name of await readdirOrEmpty(join(dataDir, 'messages'))) {
    const file = `messages/${name}`;
    if (isStoreFile(file)) files.push(file);
  }
  return files.sort();
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * CRC-32 of each chunk of an open file, read asynchronously one chunk at a time, yielding to the event
 * loop between chunks so that a data dir of many GiB does not hold up anything else.
 */
export async function chunkCrcs(handle: FileHandle, size: number, buffer = Buffer.allocUnsafe(CHUNK_SIZE)): Promise<number[]> {
  const crcs: number[] = [];
  for (let position = 0; position < size; position += CHUNK_SIZE) {
    const length = Math.min(CHUNK_SIZE, size - position);
    const chunk = await readExactly(handle, buffer, position, length);
    crcs.push(crc32(chunk));
    await yieldToLoop();
  }
  return crcs;
}

/** Reads `length` bytes at `position` into `buffer` (a short file gives a short chunk). */
export async function readExactly(handle: FileHandle, buffer: Buffer, position: number, length: number): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** A file opened for reading, or undefined if it is gone (deleted meanwhile: whoever deleted it says so). */
export async function openIfPresent(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** What a follower tells the leader it has: every store file with its size and chunk checksums. */
export async function takeInventory(dataDir: string): Promise<InventoryFile[]> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  const inventory: InventoryFile[] = [];
  for (const file of await listStoreFiles(dataDir)) {
    const handle = await openIfPresent(join(dataDir, file));
    if (!handle) continue;
    try {
      const { size } = await handle.stat();
      inventory.push({ file, size, crcs: await chunkCrcs(handle, size, buffer) });
    } finally {
      await handle.close();
    }
  }
  return inventory;
}
