import type { Message } from '../broker/message.js';
import { REF_SETTLED, planMessageRecord, writeMessageRecord } from './record-codec.js';
import type { SegmentWriter } from './segment-writer.js';
import { MULTI, UNWRITTEN } from './slot-table.js';
import type { StoreState } from './store-state.js';

/** Whether the message is still held by some queue and its record not yet encoded (see SegmentMessageStore.add). */
export function isUnwritten(state: StoreState, message: Message): boolean {
  const slot = message.storeRef;
  // A settled one was freed: its storeRef is no longer a slot, so a slot reused since is not mistaken for it.
  return typeof slot === 'number' && state.slots.isLive(slot) && state.slots.seg(slot) === UNWRITTEN;
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
