import {
  REF_PAYLOAD,
  RETURNED_PAYLOAD,
  recordLength,
  writeQueueDeletedRecord,
  writeRefRecord,
  writeReturnedRecord,
} from './record-codec.js';
import type { SegmentWriter } from './segment-writer.js';
import type { StoreState } from './store-state.js';

/**
 * A Settle or first Delivered record about the message in `slot`, or with `returns` a return (see
 * RETURNED_PAYLOAD). The segment it lands in must outlive the one holding the message's record (and
 * its pending copy), or a crash after a clean-up would bring the message back.
 */
export function appendRef(state: StoreState, writer: SegmentWriter, type: number, id: number, slot: number, index: number, returns?: number): void {
  const at = writer.begin(recordLength(returns === undefined ? REF_PAYLOAD : RETURNED_PAYLOAD));
  if (returns === undefined) writeRefRecord(writer.buf, at, type, id, index);
  else writeReturnedRecord(writer.buf, at, id, index, returns);
  const segment = writer.segment;
  segment.dependOn(state.slots.seg(slot));
  const move = state.moves.size === 0 ? undefined : state.moves.get(slot);
  if (move) segment.dependOn(move.segment);
  writer.commit();
}

/** Cancels every record naming the queue `qid`, in whichever segments they are. */
export function appendQueueDeleted(state: StoreState, writer: SegmentWriter, qid: number): void {
  const { segments, section } = state.registry.markDeleted(qid);
  // No record ever named this instance with a live reference: there is nothing to cancel.
  if (segments.size === 0) return;
  const at = writer.begin(recordLength(section.length));
  writeQueueDeletedRecord(writer.buf, at, section);
  for (const older of segments) writer.segment.dependOn(older);
  writer.commit();
}
