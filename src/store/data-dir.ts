import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unobserved, type DiskActivity } from './disk-activity.js';
import { replaceFile } from './replace-file.js';

/** The layout this Warren writes and understands. Bump it when an older Warren could misread the data. */
const DATA_DIR_FORMAT = 1;
const FORMAT_FILE = 'format.json';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/**
 * Claims `dir` as a Warren data dir: creates it and stamps `format.json` on first use; refuses a dir
 * stamped by a newer Warren (or by something else) rather than misreading or rewriting its data. The
 * stamp is never changed once written.
 */
export async function openDataDir(dir: string, activity: DiskActivity = unobserved): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!(await checkDataDir(dir))) await writeStamp(dir, join(dir, FORMAT_FILE), activity);
}

/**
 * The same checks as `openDataDir`, writing nothing: a start that is about to be refused for another
 * reason must leave the data dir exactly as it found it. False if there is no stamp yet.
 */
export async function checkDataDir(dir: string): Promise<boolean> {
  const path = join(dir, FORMAT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  checkStamp(path, text);
  return true;
}

function checkStamp(path: string, text: string): void {
  let stamp: unknown;
  try {
    stamp = JSON.parse(text);
  } catch {
    throw new DataDirError(`${path} is not valid JSON: cannot tell which format the data dir has; refusing to use it`);
  }
  const format = typeof stamp === 'object' && stamp !== null ? (stamp as { format?: unknown }).format : undefined;
  if (typeof format !== 'number' || !Number.isInteger(format) || format < 1) {
    throw new DataDirError(`${path} names an unknown data dir format (${JSON.stringify(format) ?? 'none'}); refusing to use it`);
  }
  if (format > DATA_DIR_FORMAT) {
    throw new DataDirError(
      `data dir format ${format} in ${path} is newer than this Warren understands (format ${DATA_DIR_FORMAT}): ` +
        'it was written by a newer Warren; run that version or point --data-dir elsewhere',
    );
  }
}

/** Temp file, fsync, rename, fsync of the dir: a crash leaves either no stamp or a whole one. */
async function writeStamp(dir: string, path: string, activity: DiskActivity): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify({ format: DATA_DIR_FORMAT, createdBy: 'warren' })}\n`);
  const started = activity.began();
  try {
    await replaceFile(dir, path, bytes, activity, FORMAT_FILE);
  } finally {
    activity.ended(started);
  }
}
