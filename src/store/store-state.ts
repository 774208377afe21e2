import type { Message } from '../broker/message.js';
import type { RecordPlace } from './content-reader.js';
import { QueueRegistry } from './queue-registry.js';
import { REF_SETTLED } from './record-codec.js';
import type { Move, Segment } from './segment.js';
import { MULTI, SlotTable, UNWRITTEN } from './slot-table.js';

/**
 * Where a fully settled message's record was. `storeRef` becomes this when the slot is freed because
 * the broker may still read the content right after the last settlement (a noAck delivery settles the
 * message before the channel sends it), and by then the slot may already hold another message.
 */
export interface SettledRecord {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export function isSettledRecord(ref: unknown): ref is SettledRecord {
  return typeof ref === 'object' && ref !== null && 'segment' in ref && 'offset' in ref && 'length' in ref;
}

/** The store's in-memory view of what is on disk: messages (slots), queues, segments and their liveness. */
export class StoreState {
  readonly slots = new SlotTable();
  readonly registry = new QueueRegistry();
  /** Ascending by number: Map keeps insertion order and segments are only ever added at the end. */
  readonly segments = new Map<number, Segment>();
  /** Pending copies by slot (see Move). */
  readonly moves = new Map<number, Move>();
  /**
   * Per slot, per queue index, how often that queue got the message back (see RETURNED_PAYLOAD). Sparse:
   * only messages ever returned are in it, so a backlog costs nothing; a copy-forward re-appends them.
   */
  readonly returns = new Map<number, number[]>();
  liveBytes = 0;

  queueCount(slot: number): number {
    const ref = this.slots.ref(slot);
    return ref & MULTI ? this.registry.list(ref & ~MULTI).qids.length : 1;
  }

  qidAt(slot: number, index: number): number {
    const ref = this.slots.ref(slot);
    return ref & MULTI ? (this.registry.list(ref & ~MULTI).qids[index] as number) : ref;
  }

  /** Which of the message's queues `qid` is, preferring one it has not settled; -1 if none. */
  refIndex(slot: number, qid: number): number {
    const ref = this.slots.ref(slot);
    if ((ref & MULTI) === 0) return ref === qid ? 0 : -1;
    const qids = this.registry.list(ref & ~MULTI).qids;
    let found = -1;
    for (let i = 0; i < qids.length; i++) {
      if (qids[i] !== qid) continue;
      if ((this.slots.flags(slot, i) & REF_SETTLED) === 0) return i;
      found = i;
    }
    return found;
  }

  segment(number: number): Segment {
    const segment = this.segments.get(number);
    if (!segment) throw new Error(`message store segment ${number} is gone`);
    return segment;
  }

  /** Counts a message whose record now sits in `segment`. */
  place(slot: number, segment: Segment): void {
    const length = this.slots.len(slot);
    segment.liveCount++;
    segment.liveBytes += length;
    this.liveBytes += length;
  }

  /** Every queue settled the message: forget it, leaving `message` able to read its record for now. */
  free(slot: number, message: Message | undefined): void {
    const slots = this.slots;
    const seg = slots.seg(slot);
    // Both nearly always empty: no hashing then, on the path of every settlement.
    if (this.moves.size !== 0) this.moves.delete(slot);
    if (this.returns.size !== 0) this.returns.delete(slot);
    const queues = slots.ref(slot);
    if (queues & MULTI) this.registry.releaseList(queues & ~MULTI);
    if (seg === UNWRITTEN) {
      // Settled before its record was written: it never will be, and its content is still in memory.
      if (message) message.storeRef = undefined;
    } else {
      const segment = this.segment(seg);
      const length = slots.len(slot);
      segment.liveCount--;
      segment.liveBytes -= length;
      this.liveBytes -= length;
      if (message) message.storeRef = { segment: segment.number, offset: slots.off(slot), length } satisfies SettledRecord;
    }
    this.slots.release(slot);
  }

  /** The copy is durable: the message now lives there, and the original no longer counts. */
  applyMove(move: Move): void {
    if (this.moves.get(move.slot) !== move) return;
    this.moves.delete(move.slot);
    const slot = move.slot;
    const from = this.segment(this.slots.seg(slot));
    const to = this.segment(move.segment);
    const length = this.slots.len(slot);
    from.liveCount--;
    from.liveBytes -= length;
    this.liveBytes -= length;
    this.slots.move(slot, move.segment, move.offset);
    this.place(slot, to);
  }

  /**
   * A record that never reached the disk was appended again (a failed write's retry, see `salvage`):
   * the message lives there now. Unlike a move there is no durable original to fall back on.
   */
  relocate(slot: number, to: Segment, offset: number): void {
    const from = this.segment(this.slots.seg(slot));
    const length = this.slots.len(slot);
    from.liveCount--;
    from.liveBytes -= length;
    to.liveCount++;
    to.liveBytes += length;
    this.slots.move(slot, to.number, offset);
  }

  /** Where the message's record is now, taken when a read starts: the slot may be reused after it settles. */
  placeOf(message: Message): RecordPlace {
    const ref = message.storeRef;
    const { slots, segments } = this;
    if (typeof ref === 'number' && slots.isLive(ref)) {
      return { segment: segments.get(slots.seg(ref)), offset: slots.off(ref), length: slots.len(ref), id: message.id };
    }
    if (isSettledRecord(ref)) return { segment: segments.get(ref.segment), offset: ref.offset, length: ref.length, id: message.id };
    return { segment: undefined, offset: 0, length: 0, id: message.id };
  }

  get diskBytes(): number {
    let bytes = 0;
    for (const segment of this.segments.values()) bytes += segment.size;
    return bytes;
  }
}
