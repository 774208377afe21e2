import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unobserved, type DiskActivity } from './disk-activity.js';
import { replaceFile } from './replace-file.js';
import { MESSAGES_DIR, syncDirectory } from './segment.js';

/** In the message store's directory, beside the segment files it lists. */
export const INVENTORY_FILE = 'segments.json';
/** Its name relative to the data dir, for the change stream. */
const INVENTORY_NAME = `${MESSAGES_DIR}/${INVENTORY_FILE}`;

/** Inclusive ranges of segment numbers, oldest first. */
type Ranges = Array<[number, number]>;

/**
 * `segments.json`: the segment files the store had when it last deleted one (or last started), and
 * the number the next new segment would get.
 *
 * Warren deletes segments out of order — a settled segment goes while an older one still holds a
 * backlog — so a gap in the numbering is normal, and a settlement pointing at a message no file holds
 * is normal too (that message's segment was deleted once it was settled). Neither tells a file an
 * operator removed from one the store deleted. So the store writes this list, durably, before it
 * unlinks anything: at the next start a missing file that the list names, or that is numbered from its
 * `next` up to a file that is there, was not deleted by Warren.
 */
export type SegmentInventory =
  | { readonly kind: 'listed'; readonly numbers: readonly number[]; readonly next: number }
  | { readonly kind: 'none'; readonly why: string };

export async function readSegmentInventory(dir: string): Promise<SegmentInventory> {
  const path = join(dir, INVENTORY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none', why: `${path} does not exist` };
    throw error;
  }
  return parseInventory(text) ?? { kind: 'none', why: `${path} is not a list of segments` };
}

/**
 * Replaces the list (temp file, fsync, rename, fsync of the dir) before the caller unlinks what it
 * leaves out. When that cannot be written — the disk is full, and deleting segments is what frees it
 * — the old list is removed instead, which needs no space: the next start then cannot check, but it
 * never reports a segment the store deleted as lost. Returns why the list could not be written, if so.
 */
export async function writeSegmentInventory(dir: string, numbers: Iterable<number>, next: number, activity: DiskActivity = unobserved): Promise<unknown> {
  const path = join(dir, INVENTORY_FILE);
  const temp = `${path}.tmp`;
  const bytes = Buffer.from(`${JSON.stringify({ segments: toRanges([...numbers].sort((a, b) => a - b)), next })}\n`);
  const started = activity.began();
  try {
    await replaceFile(dir, path, bytes, activity, INVENTORY_NAME);
    return undefined;
  } catch (error) {
    try {
      await rm(temp, { force: true });
      await rm(path, { force: true });
      activity.unlink(INVENTORY_NAME);
      await syncDirectory(dir);
    } catch {
      throw error;
    }
    return error;
  } finally {
    activity.ended(started);
  }
}

/**
 * The segments that should be on disk and are not, as inclusive ranges: those the list names, and
 * those numbered from its `next` up to the newest file there (created since the list was written;
 * had the store deleted one, it would have rewritten the list first).
 */
export function missingSegments(listed: readonly number[], next: number, onDisk: readonly number[]): Array<[number, number]> {
  const present = new Set(onDisk);
  const expected = new Set(listed);
  const newest = onDisk.reduce((a, b) => Math.max(a, b), 0);
  for (let number = next; number <= newest; number++) expected.add(number);
  return toRanges([...expected].filter((number) => !present.has(number)).sort((a, b) => a - b));
}

function toRanges(sorted: readonly number[]): Ranges {
  const ranges: Ranges = [];
  for (const number of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && number === last[1] + 1) last[1] = number;
    else ranges.push([number, number]);
  }
  return ranges;
}

function parseInventory(text: string): SegmentInventory | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { segments: ranges, next } = value as { segments?: unknown; next?: unknown };
  if (!Array.isArray(ranges) || !isSegmentNumber(next)) return undefined;
  const numbers: number[] = [];
  for (const range of ranges as unknown[]) {
    if (!Array.isArray(range) || range.length !== 2) return undefined;
    const [from, to] = range as unknown[];
    if (!isSegmentNumber(from) || !isSegmentNumber(to) || to < from || to > next) return undefined;
    // Written from the segments in memory, so it never spans more than the files there were.
    if (to - from > 1_000_000) return undefined;
    for (let number = from; number <= to; number++) numbers.push(number);
  }
  return { kind: 'listed', numbers, next };
}

function isSegmentNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
