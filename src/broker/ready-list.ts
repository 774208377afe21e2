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
