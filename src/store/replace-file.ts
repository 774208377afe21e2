import { open, rename } from 'node:fs/promises';
import type { DiskActivity } from './disk-activity.js';
import { syncDirectory } from './segment.js';

/**
 * Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never a mix: a temp
 * file, fsynced, renamed over it, then the directory fsynced. `told` is the name the change stream
 * knows the file by; the temp file is never told, only what the rename put in place.
 */
export async function replaceFile(dir: string, path: string, bytes: Buffer, activity: DiskActivity, told: string): Promise<void> {
  const temp = `${path}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  activity.replace(told, [bytes]);
  await syncDirectory(dir);
}
