import type { Message } from '../broker/message.js';
import { HEADER_SIZE, REF_SETTLED, RecordType, recordLength, refFlagOffset, sealRecord } from './record-codec.js';
import type { SegmentWriter } from './segment-writer.js';
import type { StoreState } from './store-state.js';
import type { Batch, Part } from './write-batch.js';

/** What a failed write did to the messages of the unwritten batches (see `salvage`). */
export interface Salvaged {
  /** Never handed out: forgotten, to be taken out of their queues and their publishes answered with an error. */
  readonly refused: Set<Message>;
  /** Handed out and still held by a queue: appended again, in the retry's `added`. */
  readonly kept: readonly Message[];
  /** The highest id among the unwritten batches' messages, whatever became of them. */
  readonly highestId: number;
}

/**
 * Puts right what a failed write left (see SegmentWriter). Each message added in the unwritten batches:
 * - that no queue has handed out is refused: forgotten here, taken out of its queues by the broker,
 *   its publish answered with an error — so it may never reach the disk later;
 * - that some queue has handed out, and some queue still holds, is kept: a consumer has it, so its
 *   publisher must not hear "not stored" and publish it again. Its record is appended again, and it
 *   counts where that copy is;
 * - that was handed out and is settled everywhere already needs no record at all.
 * Copies moved forward are abandoned (the originals still count). Every other record (settlements,
 * first deliveries, queue deletions) must still be written, and is appended again — except those
 * about a message that is refused or needs no record. Appending in the original order keeps each kept
 * message's record before the records about it.
 */
export function salvage(state: StoreState, writer: SegmentWriter, unwritten: readonly Batch[]): Salvaged {
  const refused = new Set<Message>();
  /** Messages whose records and refs are all dropped: refused, or settled everywhere. */
  const dropped = new Set<number>();
  const keeping = new Map<number, Message>();
  let highestId = 0;
  for (const batch of unwritten) {
    for (const message of batch.added) {
      if (message.id > highestId) highestId = message.id;
      const slot = message.storeRef;
      const held = typeof slot === 'number' && state.slots.isLive(slot);
      if (message.handedOut && held) {
        keeping.set(message.id, message);
        continue;
      }
      dropped.add(message.id);
      if (!message.handedOut) {
        refused.add(message);
        forget(state, message);
      }
    }
    for (const move of batch.moved) if (state.moves.get(move.slot) === move) state.moves.delete(move.slot);
  }
  const kept = new Map<number, Message>();
  for (const batch of unwritten) for (const part of batch.parts) appendKept(state, writer, part, dropped, keeping, kept);
  // Every kept message's record was in these batches; one that was not found cannot be written, so it
  // is refused as before rather than left pointing at bytes that were cut off.
  for (const message of keeping.values()) {
    refused.add(message);
    forget(state, message);
  }
  return { refused, kept: [...kept.values()], highestId };
}

function forget(state: StoreState, message: Message): void {
  const slot = message.storeRef;
  if (typeof slot !== 'number' || !state.slots.isLive(slot)) return;
  const count = state.queueCount(slot);
  for (let q = 0; q < count; q++) state.slots.setFlag(slot, q, REF_SETTLED);
  state.free(slot, message);
}

/**
 * A slice holds whole records back to back, so each is found by its header. `keeping` is consumed: a
 * message leaves it for `kept` once its record is appended again.
 */
function appendKept(
  state: StoreState,
  writer: SegmentWriter,
  part: Part,
  dropped: ReadonlySet<number>,
  keeping: Map<number, Message>,
  kept: Map<number, Message>,
): void {
  let position = part.position;
  for (const { buf, start, end } of part.slices) {
    for (let at = start; at < end; ) {
      const type = buf[at + 1];
      const length = recordLength(buf.readUInt32LE(at + 4));
      const isRef = type === RecordType.Settle || type === RecordType.Delivered;
      // Message records and refs alike start their payload with the message id; a QueueDeleted has none.
      const id = type === RecordType.Message || isRef ? buf.readDoubleLE(at + HEADER_SIZE) : 0;
      if (type === RecordType.Message) {
        const message = keeping.get(id);
        // Anything else of this type is a copy moved forward, abandoned.
        if (message && isRecordOf(state, message, part, position)) {
          keeping.delete(id);
          appendKeptMessage(state, writer, message, buf, at, length);
          kept.set(id, message);
        }
      } else if (!(isRef && dropped.has(id))) {
        const into = writer.begin(length);
        buf.copy(writer.buf, into, at, at + length);
        // It may land in a newer segment: that one must then outlive whatever the record was about.
        const target = writer.segment;
        if (target !== part.segment) {
          target.dependOn(part.segment.number);
          for (const older of part.segment.deps) target.dependOn(older);
        }
        // About a message kept just before: its record moved, and the ref must outlive it where it is now.
        const about = isRef ? kept.get(id) : undefined;
        if (about) target.dependOn(state.slots.seg(about.storeRef as number));
      }
      at += length;
      position += length;
    }
  }
}

/** Whether the record at `position` of `part` is where the message's slot says its record is. */
function isRecordOf(state: StoreState, message: Message, part: Part, position: number): boolean {
  const slot = message.storeRef as number;
  return state.slots.seg(slot) === part.segment.number && state.slots.off(slot) === position;
}

/**
 * The record goes again with every queue's flags as of now, like a copy moved forward: it must say
 * on its own which queues settled it, or were deleted, whatever becomes of the records after it.
 */
function appendKeptMessage(state: StoreState, writer: SegmentWriter, message: Message, buf: Buffer, at: number, length: number): void {
  const { slots, registry } = state;
  const slot = message.storeRef as number;
  const into = writer.begin(length);
  const target = writer.segment;
  buf.copy(writer.buf, into, at, at + length);
  const queueCount = state.queueCount(slot);
  for (let q = 0; q < queueCount; q++) {
    const deleted = registry.isDeleted(state.qidAt(slot, q)) ? REF_SETTLED : 0;
    writer.buf[into + refFlagOffset(q)] = slots.flags(slot, q) | deleted;
  }
  sealRecord(writer.buf, into);
  state.relocate(slot, target, writer.offset);
  for (let q = 0; q < queueCount; q++) registry.noteSegment(state.qidAt(slot, q), target.number);
  // Its record was never on disk, so it cannot have been copied forward; a move would be stale anyway.
  if (state.moves.size !== 0) state.moves.delete(slot);
  writer.batch.added.push(message);
}
