import type { Channel } from './channel.js';
import type { DueOrder } from './delay-index.js';
import { packContent, unpackContent } from './packed-content.js';
import type { MessageContent } from './message.js';

const INITIAL_SLOTS = 1024;
const SLAB_SIZE = 1024 * 1024;
/** Columns per slot in `num`. */
const DUE = 0;
const SEQ = 1;
const PUBLISHED = 2;
const SIZE = 3;
/** The store's record (a number for the segment store), -1 for none. */
const STORE_REF = 4;
const NUM = 5;
/** Where its packed content is: slab, offset, length. */
const SLAB = 0;
const OFFSET = 1;
const LENGTH = 2;
const INT = 3;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a slot is created with. */
export interface SlotData {
  readonly due: number;
  readonly seq: number;
  readonly publishedAt: number;
  readonly size: number;
  readonly storeRef: unknown;
  readonly returnTo: Channel | undefined;
  readonly content: MessageContent;
}

/**
 * Scheduled messages as rows of numbers, with their contents packed into shared byte slabs: no heap
 * object per message at all. With a million scheduled messages held as objects, every major garbage
 * collection marked millions of them, and its pauses (hundreds of ms on a busy 2-core machine) made
 * routing late; here the collector sees a few typed arrays and slabs whatever the count.
 *
 * A slot is a row; free rows are reused. Contents are appended to the current slab; a slab is let go
 * once every content in it is gone (messages fire in due order, not publish order, so a slab may wait
 * for its last one: memory is bounded by the slabs still holding a live content).
 */
export class ScheduleTable {
  private num = new Float64Array(INITIAL_SLOTS * NUM);
  private int = new Int32Array(INITIAL_SLOTS * INT);
  private free: number[] = [];
  private used = 0;
  private readonly slabs: Array<Uint8Array | undefined> = [];
  private readonly slabLive: number[] = [];
  private slab = -1;
  private slabUsed = SLAB_SIZE;
  /** Store references that are not numbers, and mandatory publishers: few, so kept aside by slot. */
  private readonly otherRefs = new Map<number, unknown>();
  private readonly returnTo = new Map<number, Channel>();

  /** Due time, then publish order, for the index. */
  readonly order: DueOrder<number> = {
    due: (slot) => this.num[slot * NUM + DUE] as number,
    before: (a, b) => {
      const num = this.num;
      const da = num[a * NUM + DUE] as number;
      const db = num[b * NUM + DUE] as number;
      return da < db || (da === db && (num[a * NUM + SEQ] as number) < (num[b * NUM + SEQ] as number));
    },
  };

  add(data: SlotData): number {
    const slot = this.free.pop() ?? this.grow();
    const n = slot * NUM;
    this.num[n + DUE] = data.due;
    this.num[n + SEQ] = data.seq;
    this.num[n + PUBLISHED] = data.publishedAt;
    this.num[n + SIZE] = data.size;
    const ref = data.storeRef;
    this.num[n + STORE_REF] = typeof ref === 'number' && ref >= 0 ? ref : -1;
    if (ref !== undefined && this.num[n + STORE_REF] === -1) this.otherRefs.set(slot, ref);
    if (data.returnTo) this.returnTo.set(slot, data.returnTo);
    this.place(slot, encoder.encode(packContent(data.content)));
    return slot;
  }

  due(slot: number): number {
    return this.num[slot * NUM + DUE] as number;
  }

  seq(slot: number): number {
    return this.num[slot * NUM + SEQ] as number;
  }

  publishedAt(slot: number): number {
    return this.num[slot * NUM + PUBLISHED] as number;
  }

  size(slot: number): number {
    return this.num[slot * NUM + SIZE] as number;
  }

  storeRef(slot: number): unknown {
    const ref = this.num[slot * NUM + STORE_REF] as number;
    return ref >= 0 ? ref : this.otherRefs.get(slot);
  }

  returnChannel(slot: number): Channel | undefined {
    return this.returnTo.get(slot);
  }

  content(slot: number): MessageContent {
    const i = slot * INT;
    const bytes = (this.slabs[this.int[i + SLAB] as number] as Uint8Array).subarray(this.int[i + OFFSET], (this.int[i + OFFSET] as number) + (this.int[i + LENGTH] as number));
    return unpackContent(decoder.decode(bytes));
  }

  /** The row may be reused; its slab goes once it holds no live content. */
  release(slot: number): void {
    const s = this.int[slot * INT + SLAB] as number;
    this.otherRefs.delete(slot);
    this.returnTo.delete(slot);
    this.free.push(slot);
    if (--(this.slabLive[s] as number) === 0 && s !== this.slab) this.slabs[s] = undefined;
    else if (this.slabLive[s] === 0) this.slabUsed = 0;
  }

  /** Forgets everything. */
  clear(): void {
    this.num = new Float64Array(0);
    this.int = new Int32Array(0);
    this.free = [];
    this.used = 0;
    this.slabs.length = 0;
    this.slabLive.length = 0;
    this.slab = -1;
    this.slabUsed = SLAB_SIZE;
    this.otherRefs.clear();
    this.returnTo.clear();
  }

  private grow(): number {
    const slot = this.used++;
    if (slot * NUM >= this.num.length) {
      const capacity = Math.max(INITIAL_SLOTS, (this.num.length / NUM) * 2);
      const num = new Float64Array(capacity * NUM);
      num.set(this.num);
      this.num = num;
      const int = new Int32Array(capacity * INT);
      int.set(this.int);
      this.int = int;
    }
    return slot;
  }

  private place(slot: number, bytes: Uint8Array): void {
    let s: number;
    let at: number;
    if (bytes.length > SLAB_SIZE / 4) {
      // A big content gets a slab of its own.
      s = this.slabs.length;
      this.slabs.push(bytes);
      this.slabLive.push(0);
      at = 0;
    } else {
      if (this.slabUsed + bytes.length > SLAB_SIZE) {
        this.slab = this.slabs.length;
        this.slabs.push(new Uint8Array(SLAB_SIZE));
        this.slabLive.push(0);
        this.slabUsed = 0;
      }
      s = this.slab;
      at = this.slabUsed;
      (this.slabs[s] as Uint8Array).set(bytes, at);
      this.slabUsed += bytes.length;
    }
    this.slabLive[s] = (this.slabLive[s] as number) + 1;
    const i = slot * INT;
    this.int[i + SLAB] = s;
    this.int[i + OFFSET] = at;
    this.int[i + LENGTH] = bytes.length;
  }
}
