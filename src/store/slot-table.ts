import { REF_SETTLED } from './record-codec.js';

/** `ref` of a message routed to several queues: this bit plus an index into the registry's lists. */
export const MULTI = 0x80000000;
/** Up to this many queues, a message's per-queue flags fit 2 bits each in one u32. */
export const PACKED_REFS = 16;
const FREE = 0xffffffff;
/**
 * The `seg` of a message whose record is not written yet (see SegmentMessageStore.add): no segment has
 * this number, so nothing that walks a segment's records finds it.
 */
export const UNWRITTEN = 0xfffffffe;

const PAGE_BITS = 16;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;
const FIELDS = 5;
const SEG = 0;
const OFF = 1;
const LEN = 2;
const REF = 3;
const BITS = 4;

/**
 * Per-message bookkeeping, 20 bytes a message, indexed by the slot number that `Message.storeRef`
 * holds: where the record is (segment, offset, length), which queue(s) it went to (`ref`: a queue id,
 * or MULTI | list index) and each queue's flags (REF_SETTLED, REF_DELIVERED), 2 bits per queue.
 *
 * Fixed-size pages rather than one growable array: growing a million-entry array by copying leaves
 * slack and freed blocks the allocator rarely gives back, which showed up as tens of MB of RSS.
 */
export class SlotTable {
  /** Flags of messages with more than PACKED_REFS queues, one byte per queue. */
  readonly wide = new Map<number, Uint8Array>();
  live = 0;
  private readonly pages: Uint32Array[] = [];
  private used = 0;
  /** Freed slots form a linked list through their OFF field, so the free list costs no memory. */
  private freeHead = FREE;

  /** Slots handed out so far (live or freed): the range to scan. */
  get extent(): number {
    return this.used;
  }

  allocate(seg: number, off: number, len: number, ref: number, queueCount: number): number {
    let slot = this.freeHead;
    if (slot !== FREE) {
      this.freeHead = this.get(slot, OFF);
    } else {
      slot = this.used++;
      if (slot >>> PAGE_BITS >= this.pages.length) this.pages.push(new Uint32Array(PAGE_SLOTS * FIELDS));
    }
    const page = this.page(slot);
    const at = (slot & PAGE_MASK) * FIELDS;
    page[at + SEG] = seg;
    page[at + OFF] = off;
    page[at + LEN] = len;
    page[at + REF] = ref;
    page[at + BITS] = 0;
    if (queueCount > PACKED_REFS) this.wide.set(slot, new Uint8Array(queueCount));
    this.live++;
    return slot;
  }

  release(slot: number): void {
    this.set(slot, SEG, FREE);
    this.set(slot, OFF, this.freeHead);
    this.freeHead = slot;
    if (this.wide.size !== 0) this.wide.delete(slot);
    this.live--;
  }

  isLive(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.used && this.get(slot, SEG) !== FREE;
  }

  seg(slot: number): number {
    return this.get(slot, SEG);
  }

  off(slot: number): number {
    return this.get(slot, OFF);
  }

  len(slot: number): number {
    return this.get(slot, LEN);
  }

  ref(slot: number): number {
    return this.get(slot, REF);
  }

  /** An unwritten message's record is now encoded, at `off` of `seg`, `len` bytes long. */
  place(slot: number, seg: number, off: number, len: number): void {
    this.set(slot, SEG, seg);
    this.set(slot, OFF, off);
    this.set(slot, LEN, len);
  }

  /** The record was copied forward to here. */
  move(slot: number, seg: number, off: number): void {
    this.set(slot, SEG, seg);
    this.set(slot, OFF, off);
  }

  flags(slot: number, index: number): number {
    const wide = this.wideFlags(slot);
    if (wide) return wide[index] ?? 0;
    return (this.get(slot, BITS) >>> (2 * index)) & 3;
  }

  setFlag(slot: number, index: number, flag: number): void {
    const wide = this.wideFlags(slot);
    if (wide) wide[index] = (wide[index] ?? 0) | flag;
    else this.set(slot, BITS, this.get(slot, BITS) | (flag << (2 * index)));
  }

  /** True once every one of the message's `queueCount` queues has settled it. */
  allSettled(slot: number, queueCount: number): boolean {
    const wide = this.wideFlags(slot);
    if (wide) return wide.every((flags) => (flags & REF_SETTLED) !== 0);
    const mask = queueCount >= PACKED_REFS ? 0x55555555 : 0x55555555 & ((1 << (2 * queueCount)) - 1);
    return (this.get(slot, BITS) & mask) === mask;
  }

  /** Almost always none: a message with more than PACKED_REFS queues is rare, and this is on every settlement. */
  private wideFlags(slot: number): Uint8Array | undefined {
    return this.wide.size === 0 ? undefined : this.wide.get(slot);
  }

  private page(slot: number): Uint32Array {
    return this.pages[slot >>> PAGE_BITS] as Uint32Array;
  }

  private get(slot: number, field: number): number {
    return this.page(slot)[(slot & PAGE_MASK) * FIELDS + field] as number;
  }

  private set(slot: number, field: number, value: number): void {
    this.page(slot)[(slot & PAGE_MASK) * FIELDS + field] = value;
  }
}
