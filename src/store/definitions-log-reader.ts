import { open, readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { damagedRecord, decodeDefinitionRecord, frameLengthAt, nextFrameAfter } from './definitions-codec.js';
import { DefinitionsFold } from './definitions-fold.js';
import { unobserved, type DiskActivity } from './disk-activity.js';
import type { StoreLog } from './store-log.js';

/** The definitions log as read at start-up. */
export interface StoredDefinitions {
  readonly fold: DefinitionsFold;
  /** Bytes of whole records: where the next append goes. */
  readonly size: number;
  /** Records in the file, live or not: how much a compaction would save. */
  readonly records: number;
}

/**
 * Reads the whole log into its fold; undefined if there is none. A record that fails its checks with
 * nothing valid after it is a write a crash interrupted — never confirmed, since replies wait for the
 * fsync — and is cut off. One with valid records after it is damage: the start stops with a
 * DefinitionsLogError rather than replay a log with a hole in it.
 */
export async function readDefinitionsLog(path: string, log: StoreLog, activity: DiskActivity = unobserved): Promise<StoredDefinitions | undefined> {
  // A compaction a crash interrupted: the log it was going to replace is still whole.
  await rm(compactionPath(path), { force: true });
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const fold = new DefinitionsFold();
  let at = 0;
  let records = 0;
  while (at < buf.length) {
    const length = frameLengthAt(buf, at);
    if (length === 0) {
      const next = nextFrameAfter(buf, at + 1);
      if (next !== -1) {
        throw damagedRecord(path, at, `it is not a whole record with a good checksum, yet a valid record follows at byte offset ${next}`);
      }
      log.warn(
        { file: path, offset: at, bytes: buf.length - at },
        `definitions log ${path}: cutting off a torn last record at byte offset ${at} (a write interrupted by a crash, never confirmed)`,
      );
      activity.truncate(basename(path), at);
      const started = activity.began();
      try {
        await truncateFile(path, at);
      } finally {
        activity.ended(started);
      }
      break;
    }
    fold.apply(decodeDefinitionRecord(buf, at, path));
    records++;
    at += length;
  }
  return { fold, size: at, records };
}

export function compactionPath(path: string): string {
  return `${path}.tmp`;
}

async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
