import type { Message } from '../broker/message.js';
import { REF_SETTLED, planMessageRecord, writeMessageRecord } from './record-codec.js';
import type { SegmentWriter } from './segment-writer.js';
import type { Batch } from './write-batch.js';
import { MULTI, UNWRITTEN } from './slot-table.js';
import type { StoreState } from './store-state.js';

/**
 * Whether the message, staged in `batch`, is still held by some queue and its record not yet encoded
 * (see SegmentMessageStore.add). An unwritten slot's offset is the message's index in its batch's
 * `unwritten`: a slot freed through a stand-in (the scheduler settles a fired message through a
 * content-less copy, whose storeRef is cleared, not the original's) and reused by a later message is
 * then not mistaken for the original's.
 */
export function isUnwritten(state: StoreState, message: Message, batch: Batch): boolean {
  const slot = message.storeRef;
  const { slots } = state;
  return typeof slot === 'number' && slots.isLive(slot) && slots.seg(slot) === UNWRITTEN && batch.unwritten[slots.off(slot)] === message;
}

/**
 * Encodes an unwritten message's record into the writer's pending batch, with each queue's flags as of
 * now: the settlements and first deliveries that happened before it carry no records of their own. A
 * queue deleted since counts as settled, as in a copy moved forward: its QueueDeleted record may have
 * gone before this one.
 */
export function writeUnwritten(state: StoreState, writer: SegmentWriter, message: Message): void {
  const { slots, registry } = state;
  const slot = message.storeRef as number;
  const ref = slots.ref(slot);
  const count = state.queueCount(slot);
  const section = ref & MULTI ? registry.list(ref & ~MULTI).section : registry.section(ref);
  const content = message.content;
  const plan = planMessageRecord(content, count, section);
  const at = writer.begin(plan.length, false);
  const flagsOf = (q: number): number => slots.flags(slot, q) | (registry.isDeleted(state.qidAt(slot, q)) ? REF_SETTLED : 0);
  writeMessageRecord(writer.buf, at, plan, message.id, message.publishedAt, content, count, section, flagsOf);
  const segment = writer.segment;
  slots.place(slot, segment.number, writer.offset, plan.length);
  state.place(slot, segment);
  for (let q = 0; q < count; q++) registry.noteSegment(state.qidAt(slot, q), segment.number);
  writer.batch.added.push(message);
}

/** The batch is about to be written: the records of its messages some queue still holds go into it. */
export function encodeUnwritten(state: StoreState, writer: SegmentWriter, batch: Batch): void {
  for (const message of batch.unwritten) if (isUnwritten(state, message, batch)) writeUnwritten(state, writer, message);
}

/**
 * Whether a message added to the batch since the last check is held by a queue that has not handed it
 * out: no ack is coming soon, so its publisher waits for the disk, and the batch must go now.
 */
export function awaitsConsumer(state: StoreState, batch: Batch): boolean {
  const { unwritten } = batch;
  for (let i = batch.unwrittenChecked; i < unwritten.length; i++) {
    const message = unwritten[i] as Message;
    if (!message.handedOut && isUnwritten(state, message, batch)) return true;
    batch.unwrittenChecked = i + 1;
  }
  return false;
}
