import type { Message } from '../broker/message.js';
import { REF_SETTLED, RecordType, recordLength } from './record-codec.js';
import type { SegmentWriter } from './segment-writer.js';
import type { StoreState } from './store-state.js';
import type { Batch, Part } from './write-batch.js';

/**
 * Puts right what a failed write left (see SegmentWriter). The messages added in the unwritten batches
 * are refused: forgotten here, taken out of their queues by the broker, their publishes answered with
 * an error — so none of them may reach the disk later. Copies moved forward are abandoned (the
 * originals still count). Every other record (settlements, first deliveries, queue deletions) must
 * still be written, and is appended again — except those about a refused message. Returns the refused.
 */
export function salvage(state: StoreState, writer: SegmentWriter, unwritten: readonly Batch[]): Set<Message> {
  const refused = new Set<Message>();
  const refusedIds = new Set<number>();
  for (const batch of unwritten) {
    for (const message of batch.added) {
      refused.add(message);
      refusedIds.add(message.id);
      forget(state, message);
    }
    for (const move of batch.moved) if (state.moves.get(move.slot) === move) state.moves.delete(move.slot);
  }
  for (const batch of unwritten) for (const part of batch.parts) appendKept(writer, part, refusedIds);
  return refused;
}

function forget(state: StoreState, message: Message): void {
  const slot = message.storeRef;
  if (typeof slot !== 'number' || !state.slots.isLive(slot)) return;
  const count = state.queueCount(slot);
  for (let q = 0; q < count; q++) state.slots.setFlag(slot, q, REF_SETTLED);
  state.free(slot, message);
}

/** A slice holds whole records back to back, so each is found by its header. */
function appendKept(writer: SegmentWriter, part: Part, refusedIds: ReadonlySet<number>): void {
  for (const { buf, start, end } of part.slices) {
    for (let at = start; at < end; ) {
      const type = buf[at + 1];
      const length = recordLength(buf.readUInt32LE(at + 4));
      const isRef = type === RecordType.Settle || type === RecordType.Delivered;
      if (type !== RecordType.Message && !(isRef && refusedIds.has(buf.readDoubleLE(at + 8)))) {
        const into = writer.begin(length);
        buf.copy(writer.buf, into, at, at + length);
        // It may land in a newer segment: that one must then outlive whatever the record was about.
        const target = writer.segment;
        if (target !== part.segment) {
          target.dependOn(part.segment.number);
          for (const older of part.segment.deps) target.dependOn(older);
        }
      }
      at += length;
    }
  }
}
