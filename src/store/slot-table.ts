import { REF_SETTLED } from './record-codec.js';

/** A growable list of u32, 4 bytes an entry: the per-segment slot lists would cost 8+ as a JS array. */
export class U32List {
  data: Uint32Array;
  length = 0;

  constructor(capacity = 16) {
    this.data = new Uint32Array(capacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) this.data = grow(this.data, this.length + 1);
    this.data[this.length++] = value;
  }

  pop(): number | undefined {
    return this.length === 0 ? undefined : this.data[--this.length];
  }
}

/** Grows by half, not double: at a million messages doubling would leave up to 20 MB of slack. */
export function grow<T extends Uint32Array | Float64Array>(array: T, needed: number): T {
  return resized(array, nextCapacity(array.length, needed));
}

export function nextCapacity(current: number, needed: number): number {
  return Math.max(needed, Math.ceil(current * 1.5), 64);
}

export function resized<T extends Uint32Array | Float64Array>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity);
  bigger.set(array.subarray(0, Math.min(array.length, capacity)));
  return bigger;
}

/** `ref` of a message routed to several queues: this bit plus an index into the registry's lists. */
export const MULTI = 0x80000000;
/** Up to this many queues, a message's per-queue flags fit 2 bits each in one u32. */
export const PACKED_REFS = 16;
export const FREE = 0xffffffff;

/**
 * Per-message bookkeeping in parallel typed arrays, 20 bytes a message, indexed by a slot number that
 * `Message.storeRef` holds: where the record is (segment, offset, length), which queue(s) it went to
 * (`ref`: a queue id, or MULTI | list index) and each queue's flags (REF_SETTLED, REF_DELIVERED).
 */
export class SlotTable {
  seg = new Uint32Array(0);
  off = new Uint32Array(0);
  len = new Uint32Array(0);
  ref = new Uint32Array(0);
  bits = new Uint32Array(0);
  /** Flags of messages with more than PACKED_REFS queues, one byte per queue. */
  readonly wide = new Map<number, Uint8Array>();
  live = 0;
  private used = 0;
  private readonly free = new U32List();

  allocate(seg: number, off: number, len: number, ref: number, queueCount: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (slot >= this.seg.length) this.resize(slot + 1);
    }
    this.seg[slot] = seg;
    this.off[slot] = off;
    this.len[slot] = len;
    this.ref[slot] = ref;
    this.bits[slot] = 0;
    if (queueCount > PACKED_REFS) this.wide.set(slot, new Uint8Array(queueCount));
    this.live++;
    return slot;
  }

  release(slot: number): void {
    this.seg[slot] = FREE;
    this.wide.delete(slot);
    this.free.push(slot);
    this.live--;
  }

  isLive(slot: number): boolean {
    return slot < this.used && this.seg[slot] !== FREE;
  }

  flags(slot: number, index: number): number {
    const wide = this.wide.get(slot);
    if (wide) return wide[index] ?? 0;
    return ((this.bits[slot] as number) >>> (2 * index)) & 3;
  }

  setFlag(slot: number, index: number, flag: number): void {
    const wide = this.wide.get(slot);
    if (wide) wide[index] = (wide[index] ?? 0) | flag;
    else this.bits[slot] = (this.bits[slot] as number) | (flag << (2 * index));
  }

  /** True once every one of the message's `queueCount` queues has settled it. */
  allSettled(slot: number, queueCount: number): boolean {
    const wide = this.wide.get(slot);
    if (wide) return wide.every((flags) => (flags & REF_SETTLED) !== 0);
    const mask = queueCount >= PACKED_REFS ? 0x55555555 : 0x55555555 & ((1 << (2 * queueCount)) - 1);
    return ((this.bits[slot] as number) & mask) === mask;
  }

  /** Bytes of the typed arrays, for the memory estimate. */
  get capacityBytes(): number {
    return this.seg.length * 20 + this.free.data.byteLength;
  }

  private resize(needed: number): void {
    const capacity = nextCapacity(this.seg.length, needed);
    this.seg = resized(this.seg, capacity);
    this.off = resized(this.off, capacity);
    this.len = resized(this.len, capacity);
    this.ref = resized(this.ref, capacity);
    this.bits = resized(this.bits, capacity);
  }
}
