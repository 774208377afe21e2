import { Deque } from './deque.js';

/** What a ready list orders by: the position a message was given when it first entered its queue. */
export interface Sequenced {
  readonly seq: number;
}

/** What a queue needs of its ready messages: `ReadyList`, or `PriorityReadyList` for a priority queue. */
export interface ReadyOrder<T extends Sequenced> extends Iterable<T> {
  readonly length: number;
  push(item: T): void;
  /** How many items a pushed `item` would have ahead of it: how deep in the queue it would sit. */
  countAhead(item: T): number;
  /** Puts a previously handed-out item back at its original position. */
  requeue(item: T): void;
  shift(): T | undefined;
  peek(): T | undefined;
  /** The item `index` places from the head, without removing it (browsing, read-ahead). */
  at(index: number): T | undefined;
  /** Removes the never-handed-out items from `seq` on that `drop` picks, and returns them in seq order. */
  removeNewest(seq: number, drop: (item: T) => boolean): T[];
  /** Where `target` stands from the head (items compared with `same`), or -1 when it is not listed. */
  indexOf(target: T, same: (item: T) => boolean): number;
  /** Empties the list and returns what it held, head first. */
  drain(): T[];
}

/**
 * A queue's ready messages in queue order. A requeued message goes back to its original position,
 * as RabbitMQ does. Messages leave only from the head, so every message that has ever been handed out
 * precedes every message still in `fresh`; requeued ones therefore form a sorted run before `fresh`,
 * kept in their own small sorted array instead of splicing into the big deque.
 */
export class ReadyList<T extends Sequenced> implements ReadyOrder<T> {
  private readonly fresh = new Deque<T>();
  /** Sorted by seq ascending; `requeuedHead` is the first live index, so shifting is O(1). */
  private requeued: T[] = [];
  private requeuedHead = 0;

  get length(): number {
    return this.fresh.length + this.requeued.length - this.requeuedHead;
  }

  push(item: T): void {
    this.fresh.push(item);
  }

  countAhead(): number {
    return this.length;
  }

  /** Puts a previously handed-out item back at its original position. */
  requeue(item: T): void {
    const list = this.requeued;
    let lo = this.requeuedHead;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as T).seq < item.seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo === list.length) list.push(item);
    else list.splice(lo, 0, item);
  }

  shift(): T | undefined {
    if (this.requeuedHead < this.requeued.length) {
      const item = this.requeued[this.requeuedHead];
      this.requeued[this.requeuedHead] = undefined as unknown as T;
      this.requeuedHead++;
      if (this.requeuedHead === this.requeued.length) {
        this.requeued = [];
        this.requeuedHead = 0;
      }
      return item;
    }
    return this.fresh.shift();
  }

  peek(): T | undefined {
    return this.requeuedHead < this.requeued.length ? this.requeued[this.requeuedHead] : this.fresh.peek();
  }

  /** The item `index` places from the head, without removing it (browsing). */
  at(index: number): T | undefined {
    const requeuedCount = this.requeued.length - this.requeuedHead;
    if (index < requeuedCount) return this.requeued[this.requeuedHead + index];
    return this.fresh.at(index - requeuedCount);
  }

  /**
   * Found by seq (both parts are in seq order), so a browse resuming after an item pays O(log n). Fresh
   * items were pushed as their ids were handed out; should a recovered backlog not be in strict id order,
   * a miss within its range is looked for one by one rather than wrongly reported gone.
   */
  indexOf(target: T, same: (item: T) => boolean): number {
    const requeuedCount = this.requeued.length - this.requeuedHead;
    const inRequeued = searchBySeq(target.seq, requeuedCount, (i) => this.requeued[this.requeuedHead + i] as T);
    if (inRequeued >= 0 && same(this.requeued[this.requeuedHead + inRequeued] as T)) return inRequeued;
    const fresh = this.fresh;
    const inFresh = searchBySeq(target.seq, fresh.length, (i) => fresh.at(i) as T);
    if (inFresh >= 0 && same(fresh.at(inFresh) as T)) return requeuedCount + inFresh;
    const first = fresh.peek();
    if (first === undefined || first.seq > target.seq) return -1;
    for (let i = 0; i < fresh.length; i++) if (same(fresh.at(i) as T)) return requeuedCount + i;
    return -1;
  }

  /**
   * Removes the items from `seq` on that `drop` picks, and returns them. Only for items never handed
   * out: those are all in `fresh`, and the ones that recent are at its end.
   */
  removeNewest(seq: number, drop: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let last = this.fresh.peekLast(); last !== undefined && last.seq >= seq; last = this.fresh.peekLast()) {
      this.fresh.pop();
      (drop(last) ? removed : kept).push(last);
    }
    for (let i = kept.length - 1; i >= 0; i--) this.fresh.push(kept[i] as T);
    return removed.reverse();
  }

  /** Empties the list and returns what it held, head first. */
  drain(): T[] {
    const all = [...this];
    this.fresh.clear();
    this.requeued = [];
    this.requeuedHead = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.requeuedHead; i < this.requeued.length; i++) yield this.requeued[i] as T;
    yield* this.fresh;
  }
}

/** The index of the item with this seq among `length` items in seq order, or -1. */
function searchBySeq<T extends Sequenced>(seq: number, length: number, at: (index: number) => T): number {
  let lo = 0;
  let hi = length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const found = at(mid).seq;
    if (found === seq) return mid;
    if (found < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
