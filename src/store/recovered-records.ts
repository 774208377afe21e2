const PAGE_BITS = 16;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
const EXTRA = 0x80000000;

/** u32 columns of a recovered message. */
export const SIZE = 0;
export const SEG = 1;
export const OFF = 2;
export const LEN = 3;
export const LIST = 4;
export const BITS = 5;
/** The message's priority, for a priority queue's order (0 when it has none). */
export const PRIORITY = 6;
const U32_FIELDS = 7;
const ID = 0;
const PUBLISHED = 1;
/** The message's own `expiration` in ms, -1 when it has none (a f64: ten years of ms pass a u32). */
const EXPIRATION = 2;
const F64_FIELDS = 3;

/** Paged columns: no copying as they grow and no slack, which matters at millions of records. */
class Columns {
  count = 0;
  private readonly f64: Float64Array[] = [];
  private readonly u32: Uint32Array[] = [];

  add(): number {
    const i = this.count++;
    if (i >>> PAGE_BITS >= this.u32.length) {
      this.f64.push(new Float64Array(PAGE_SIZE * F64_FIELDS));
      this.u32.push(new Uint32Array(PAGE_SIZE * U32_FIELDS));
    }
    return i;
  }

  f(i: number, field: number): number {
    return (this.f64[i >>> PAGE_BITS] as Float64Array)[(i & PAGE_MASK) * F64_FIELDS + field] as number;
  }

  setF(i: number, field: number, value: number): void {
    (this.f64[i >>> PAGE_BITS] as Float64Array)[(i & PAGE_MASK) * F64_FIELDS + field] = value;
  }

  u(i: number, field: number): number {
    return (this.u32[i >>> PAGE_BITS] as Uint32Array)[(i & PAGE_MASK) * U32_FIELDS + field] as number;
  }

  setU(i: number, field: number, value: number): void {
    (this.u32[i >>> PAGE_BITS] as Uint32Array)[(i & PAGE_MASK) * U32_FIELDS + field] = value;
  }
}

/**
 * Per-message state during recovery, addressed by a record number `r`, found by message id without a
 * Map of a million entries (and the GC work that goes with it). Original records arrive in id order
 * (ids are handed out in publish order and written in that order), so they go to `main`, where a
 * binary search finds them. Only a copy whose original segment is gone arrives out of order; those
 * few go to `extra` and a small Map.
 */
export class RecoveredRecords {
  private readonly main = new Columns();
  private readonly extra = new Columns();
  private readonly extraIds = new Map<number, number>();
  private highest = 0;

  /** -1 if no record of this message has been seen. */
  find(id: number): number {
    if (id > this.highest) return -1;
    const extra = this.extraIds.get(id);
    if (extra !== undefined) return EXTRA + extra;
    let low = 0;
    let high = this.main.count - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = this.main.f(mid, ID);
      if (at === id) return mid;
      if (at < id) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** For an id `find` did not know. */
  create(id: number): number {
    if (id > this.highest) {
      this.highest = id;
      const r = this.main.add();
      this.main.setF(r, ID, id);
      return r;
    }
    const k = this.extra.add();
    this.extra.setF(k, ID, id);
    this.extraIds.set(id, k);
    return EXTRA + k;
  }

  id(r: number): number {
    return r >= EXTRA ? this.extra.f(r - EXTRA, ID) : this.main.f(r, ID);
  }

  publishedAt(r: number): number {
    return r >= EXTRA ? this.extra.f(r - EXTRA, PUBLISHED) : this.main.f(r, PUBLISHED);
  }

  setPublishedAt(r: number, value: number): void {
    if (r >= EXTRA) this.extra.setF(r - EXTRA, PUBLISHED, value);
    else this.main.setF(r, PUBLISHED, value);
  }

  /** The message's own `expiration` in ms, undefined when it has none. */
  expiration(r: number): number | undefined {
    const ms = r >= EXTRA ? this.extra.f(r - EXTRA, EXPIRATION) : this.main.f(r, EXPIRATION);
    return ms < 0 ? undefined : ms;
  }

  setExpiration(r: number, ms: number | undefined): void {
    if (r >= EXTRA) this.extra.setF(r - EXTRA, EXPIRATION, ms ?? -1);
    else this.main.setF(r, EXPIRATION, ms ?? -1);
  }

  get(r: number, field: number): number {
    return r >= EXTRA ? this.extra.u(r - EXTRA, field) : this.main.u(r, field);
  }

  set(r: number, field: number, value: number): void {
    if (r >= EXTRA) this.extra.setU(r - EXTRA, field, value);
    else this.main.setU(r, field, value);
  }

  /** Every record, in id order: `main` as it is, merged with the sorted extras. */
  forEachInIdOrder(visit: (r: number) => void): void {
    const extras = [...this.extraIds.values()].sort((a, b) => this.extra.f(a, ID) - this.extra.f(b, ID));
    let e = 0;
    for (let r = 0; r < this.main.count; r++) {
      const id = this.main.f(r, ID);
      while (e < extras.length && this.extra.f(extras[e] as number, ID) < id) visit(EXTRA + (extras[e++] as number));
      visit(r);
    }
    while (e < extras.length) visit(EXTRA + (extras[e++] as number));
  }
}
