import { unlink } from 'node:fs/promises';
import type { DiskActivity } from './disk-activity.js';
import {
  HEADER_SIZE,
  REF_SETTLED,
  RETURNED_PAYLOAD,
  isValidRecord,
  recordLength,
  refFlagOffset,
  sealRecord,
  writeReturnedRecord,
} from './record-codec.js';
import { syncDirectory, type Move, type Segment } from './segment.js';
import { writeSegmentInventory } from './segment-inventory.js';
import type { SegmentWriter } from './segment-writer.js';
import type { StoreLog } from './store-log.js';
import type { StoreState } from './store-state.js';

export interface MaintenanceStats {
  segmentsDeleted: number;
  messagesCopied: number;
}

/**
 * Deletes every segment that no queue needs any more. A segment can go when nothing live is in it, all
 * its records are on disk, and every older segment it depends on is gone — otherwise an older record it
 * settles would come back on recovery. Segments are visited oldest first so a chain of such
 * dependencies goes in one pass, and unlinked in that order.
 */
export async function deleteDeadSegments(
  state: StoreState,
  writer: SegmentWriter,
  dir: string,
  stats: MaintenanceStats,
  activity: DiskActivity,
): Promise<void> {
  const doomed: Segment[] = [];
  for (const segment of state.segments.values()) {
    if (segment === writer.active || !segment.settled || segment.liveCount > 0) continue;
    let pinned = false;
    for (const older of segment.deps) {
      const dependency = state.segments.get(older);
      if (!dependency || dependency.deleted) segment.deps.delete(older);
      else pinned = true;
    }
    if (pinned) continue;
    segment.deleted = true;
    state.segments.delete(segment.number);
    doomed.push(segment);
  }
  if (doomed.length === 0) return;
  // Before any unlink: a segment file missing at the next start that this list still names was lost.
  const kept: number[] = [];
  for (const segment of state.segments.values()) if (segment.handle) kept.push(segment.number);
  const started = activity.began();
  try {
    await writeSegmentInventory(dir, kept, writer.active.number, activity);
    for (const segment of doomed) {
      const handle = segment.handle;
      segment.handle = undefined;
      await handle?.close();
      await unlink(segment.path);
      // Told once done, in the order done: a follower never deletes a file the leader still has.
      activity.unlink(segment.file);
      stats.segmentsDeleted++;
    }
    await syncDirectory(dir);
  } finally {
    activity.ended(started);
  }
}

const READ_SPAN = 1024 * 1024;

export interface CopyOptions {
  readonly segmentSize: number;
  /** Most bytes copied per round, so one round never holds up the next flush for long. */
  readonly budget: number;
}

/**
 * Copies the live messages of the emptiest old segment to the end of the log, so that a few messages
 * nobody acks (and the chain of dead segments depending on theirs) do not keep the disk forever. Only
 * runs once the files hold much more than the live messages, so a plain backlog is never rewritten.
 */
export async function copyForward(state: StoreState, writer: SegmentWriter, options: CopyOptions, stats: MaintenanceStats, log: StoreLog): Promise<void> {
  if (state.diskBytes <= 2 * state.liveBytes + 2 * options.segmentSize) return;
  const source = emptiest(state, writer.active);
  if (!source?.handle) return;
  const { slots } = state;
  // A scan of all slots (a few ms for a million) rather than a per-segment list costing 4 bytes a message.
  const picks: number[] = [];
  for (let slot = 0; slot < slots.extent; slot++) if (stillThere(state, slot, source.number)) picks.push(slot);
  picks.sort((a, b) => slots.off(a) - slots.off(b));
  let buf = Buffer.allocUnsafe(READ_SPAN);
  let copied = 0;
  for (let i = 0; i < picks.length && copied < options.budget && !source.uncopyable; ) {
    // Each read yields: messages settled meanwhile free their slots, which new messages may reuse with an
    // offset in another segment. Only picks still in the source may shape the next read.
    if (!stillThere(state, picks[i] as number, source.number)) {
      i++;
      continue;
    }
    // One read for a run of records close together.
    const start = slots.off(picks[i] as number);
    let j = i;
    let end = start + slots.len(picks[i] as number);
    while (j + 1 < picks.length) {
      const next = picks[j + 1] as number;
      if (!stillThere(state, next, source.number)) {
        j++;
        continue;
      }
      const nextEnd = slots.off(next) + slots.len(next);
      if (nextEnd - start > READ_SPAN) break;
      end = nextEnd;
      j++;
    }
    if (end - start > buf.length) buf = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await source.handle.read(buf, 0, end - start, start);
    for (; i <= j && !source.uncopyable; i++) {
      const slot = picks[i] as number;
      const offset = slots.off(slot);
      // The read yielded: the message may have been settled meanwhile.
      if (!stillThere(state, slot, source.number)) continue;
      const at = offset - start;
      const length = slots.len(slot);
      if (at + length > bytesRead || !isValidRecord(buf, at, length)) {
        log.warn({ segment: source.path, offset }, 'message store: a record is unreadable, its segment cannot be compacted');
        source.uncopyable = true;
        break;
      }
      copyRecord(state, writer, source, slot, buf, at, length);
      copied += length;
      stats.messagesCopied++;
    }
  }
  if (copied > 0) writer.commit();
}

/** Re-appends one record with every queue's flags as of now: a queue deleted since must not get it back. */
function copyRecord(state: StoreState, writer: SegmentWriter, source: Segment, slot: number, buf: Buffer, at: number, length: number): void {
  const { slots, registry } = state;
  const queueCount = state.queueCount(slot);
  for (let q = 0; q < queueCount; q++) {
    const deleted = registry.isDeleted(state.qidAt(slot, q)) ? REF_SETTLED : 0;
    buf[at + refFlagOffset(q)] = slots.flags(slot, q) | deleted;
  }
  sealRecord(buf, at);
  const into = writer.begin(length);
  buf.copy(writer.buf, into, at, at + length);
  const target = writer.segment;
  target.dependOn(source.number);
  for (let q = 0; q < queueCount; q++) registry.noteSegment(state.qidAt(slot, q), target.number);
  const move: Move = { slot, segment: target.number, offset: writer.offset };
  state.moves.set(slot, move);
  writer.batch.moved.push(move);
  copyReturns(state, writer, slot, buf.readDoubleLE(at + HEADER_SIZE), target.number);
}

/**
 * The copy's flags carry no delivery counts, and the return records that did may go with the old
 * segments once the copy is durable: write the counts again, after the copy.
 */
function copyReturns(state: StoreState, writer: SegmentWriter, slot: number, id: number, copiedTo: number): void {
  const counts = state.returns.get(slot);
  if (!counts) return;
  counts.forEach((count, q) => {
    if (!count || state.slots.flags(slot, q) & REF_SETTLED || state.registry.isDeleted(state.qidAt(slot, q))) return;
    const at = writer.begin(recordLength(RETURNED_PAYLOAD));
    writeReturnedRecord(writer.buf, at, id, q, count);
    writer.segment.dependOn(copiedTo);
  });
}

function stillThere(state: StoreState, slot: number, segment: number): boolean {
  return state.slots.isLive(slot) && state.slots.seg(slot) === segment && !state.moves.has(slot);
}

/** The old segment with the smallest share of live bytes: copying it frees the most for the least. */
function emptiest(state: StoreState, active: Segment): Segment | undefined {
  let best: Segment | undefined;
  let bestRatio = Number.POSITIVE_INFINITY;
  for (const segment of state.segments.values()) {
    if (segment === active || !segment.settled || segment.liveCount === 0 || segment.uncopyable) continue;
    const ratio = segment.liveBytes / segment.size;
    if (ratio < bestRatio) {
      best = segment;
      bestRatio = ratio;
    }
  }
  return best;
}
