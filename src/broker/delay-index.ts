import type { Clock } from './clock.js';

/** What the index orders: an absolute due time, then a sequence number (publish order) for ties. */
export interface DueItem {
  readonly due: number;
  readonly seq: number;
}

/** How the index reads its items' order; items may be plain numbers (slots of a table) to keep the heap free of objects. */
export interface DueOrder<T> {
  due(item: T): number;
  /** Due earlier, or at the same time and published earlier. */
  before(a: T, b: T): boolean;
}

/** The order of `DueItem` objects. */
export const dueItemOrder: DueOrder<DueItem> = {
  due: (item) => item.due,
  before: (a, b) => a.due < b.due || (a.due === b.due && a.seq < b.seq),
};

/** How many items one timer turn routes before yielding the event loop (a burst due at once, a start after downtime). */
const BATCH = 2000;

/**
 * Items by due time: a binary min-heap with ONE clock timer armed for the earliest due, never a timer per
 * item. Each add or fire costs O(log n). Ties fire in `seq` order, so messages due in the same
 * millisecond keep their publish order.
 *
 * `fire` is called for each item whose time has come, in order, at most `BATCH` per turn, after it left
 * the index; it may answer `false` ("not now": the disk is full, say), which puts the item back and
 * tries again after `retryMs`. Removal by predicate scans the heap (O(n)): it serves rare operations (an operator
 * cancelling one message, a failed write), so no per-item map is kept — at a million items that map
 * would cost more memory than the heap itself.
 */
export class DelayIndex<T> {
  private readonly heap: T[] = [];
  private cancelTimer: (() => void) | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (item: T) => boolean,
    private readonly order: DueOrder<T>,
    private readonly retryMs = 1000,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** The earliest item, undefined when empty. */
  peek(): T | undefined {
    return this.heap[0];
  }

  add(item: T): void {
    if (this.stopped) return;
    const at = this.siftUp(this.heap.push(item) - 1, item);
    if (at === 0) this.arm();
  }

  /** Removes the first item `match` accepts (scanning the heap); undefined if none. */
  remove(match: (item: T) => boolean): T | undefined {
    const at = this.heap.findIndex(match);
    return at < 0 ? undefined : this.removeAt(at);
  }

  /** Removes every item `match` accepts; returns them. */
  removeAll(match: (item: T) => boolean): T[] {
    const removed = this.heap.filter(match);
    if (removed.length === 0) return removed;
    const kept = this.heap.filter((item) => !match(item));
    this.heap.length = 0;
    for (const item of kept) this.siftUp(this.heap.push(item) - 1, item);
    this.rearm();
    return removed;
  }

  /**
   * Up to `count` items in due order, skipping the first `offset`, without disturbing the heap: a
   * best-first walk of the heap through a small heap of positions, O((offset + count) log(offset + count)).
   */
  page(offset: number, count: number): T[] {
    const out: T[] = [];
    const heap = this.heap;
    if (heap.length === 0 || count <= 0) return out;
    const before = this.order.before;
    const frontier = new PositionHeap((a, b) => before(heap[a] as T, heap[b] as T));
    frontier.push(0);
    let skipped = 0;
    while (frontier.size > 0 && out.length < count) {
      const at = frontier.pop();
      if (skipped < offset) skipped++;
      else out.push(heap[at] as T);
      const left = 2 * at + 1;
      if (left < heap.length) frontier.push(left);
      if (left + 1 < heap.length) frontier.push(left + 1);
    }
    return out;
  }

  /** No timer may outlive the owner; the items are dropped. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.heap.length = 0;
  }

  private due(): void {
    this.cancelTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = this.clock.now();
    for (let fired = 0, top = this.heap[0]; top !== undefined && this.order.due(top) <= now; top = this.heap[0]) {
      if (fired++ === BATCH) return this.armAt(now, 0);
      this.removeAt(0);
      if (!this.fire(top)) {
        this.siftUp(this.heap.push(top) - 1, top);
        return this.armAt(now + this.retryMs, this.retryMs);
      }
      if (this.stopped) return;
    }
    this.arm();
  }

  /** Arms the one timer for the earliest item, unless it is armed for that time or earlier already. */
  private arm(): void {
    const next = this.heap[0];
    if (next === undefined || this.stopped) return;
    const due = this.order.due(next);
    if (due >= this.armedFor) return;
    this.armAt(due, due - this.clock.now());
  }

  /** After removals the earliest may be later: a timer armed too early just finds nothing due and re-arms. */
  private rearm(): void {
    if (this.heap.length === 0) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      return;
    }
    this.arm();
  }

  private armAt(at: number, ms: number): void {
    this.cancelTimer?.();
    this.armedFor = at;
    this.cancelTimer = this.clock.schedule(ms, () => this.due());
  }

  private removeAt(at: number): T {
    const heap = this.heap;
    const item = heap[at] as T;
    const last = heap.pop() as T;
    if (at < heap.length) {
      heap[at] = last;
      if (this.siftUp(at, last) === at) this.siftDown(at, last);
    }
    if (heap.length === 0) this.rearm();
    return item;
  }

  private siftUp(start: number, item: T): number {
    const heap = this.heap;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const above = heap[parent] as T;
      if (!this.order.before(item, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = item;
    return i;
  }

  private siftDown(start: number, item: T): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && this.order.before(heap[right] as T, heap[left] as T) ? right : left;
      if (!this.order.before(heap[child] as T, item)) break;
      heap[i] = heap[child] as T;
      i = child;
    }
    heap[i] = item;
  }
}

/** A min-heap of positions, for `page`'s walk. */
class PositionHeap {
  private readonly items: number[] = [];

  constructor(private readonly before: (a: number, b: number) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!this.before(value, items[parent] as number)) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.before(items[right] as number, items[left] as number) ? right : left;
      if (!this.before(items[child] as number, last)) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
