import { ReadyList, type ReadyOrder, type Sequenced } from './ready-list.js';

/**
 * The ready messages of a priority queue (`x-max-priority`): one `ReadyList` per priority level in use,
 * the highest level first, each in its own queue order. A message above the queue's maximum counts as
 * the maximum, as RabbitMQ does; the caller's `priorityOf` gives 0 for a message without a priority.
 * Messages leave each level only from its head, so every level keeps `ReadyList`'s invariant and a
 * requeued message goes back to its original position within its level.
 */
export class PriorityReadyList<T extends Sequenced> implements ReadyOrder<T> {
  /** Indexed by priority; a level's list is made the first time a message of that priority arrives. */
  private readonly levels: Array<ReadyList<T> | undefined>;
  /** No level above this holds anything (levels at or below it may have emptied since). */
  private top = -1;
  private count = 0;

  constructor(
    private readonly maxPriority: number,
    private readonly priorityOf: (item: T) => number,
  ) {
    this.levels = new Array<ReadyList<T> | undefined>(maxPriority + 1).fill(undefined);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    this.levelOf(item).push(item);
    this.count++;
  }

  countAhead(item: T): number {
    let ahead = 0;
    for (let p = Math.min(this.priorityOf(item), this.maxPriority); p <= this.top; p++) ahead += this.levels[p]?.length ?? 0;
    return ahead;
  }

  requeue(item: T): void {
    this.levelOf(item).requeue(item);
    this.count++;
  }

  shift(): T | undefined {
    const item = this.headLevel()?.shift();
    if (item !== undefined) this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.headLevel()?.peek();
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    let rest = index;
    for (let p = this.top; p >= 0; p--) {
      const level = this.levels[p];
      if (level === undefined) continue;
      if (rest < level.length) return level.at(rest);
      rest -= level.length;
    }
    return undefined;
  }

  removeNewest(seq: number, drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const level of this.levels) {
      if (level === undefined) continue;
      for (const item of level.removeNewest(seq, drop)) removed.push(item);
    }
    this.count -= removed.length;
    return removed.sort((a, b) => a.seq - b.seq);
  }

  /** Within its level, after every level above it. */
  indexOf(target: T, same: (item: T) => boolean): number {
    const level = Math.min(this.priorityOf(target), this.maxPriority);
    const at = this.levels[level]?.indexOf(target, same) ?? -1;
    if (at < 0) return -1;
    let above = 0;
    for (let p = this.top; p > level; p--) above += this.levels[p]?.length ?? 0;
    return above + at;
  }

  drain(): T[] {
    const all = [...this];
    this.levels.fill(undefined);
    this.top = -1;
    this.count = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let p = this.top; p >= 0; p--) {
      const level = this.levels[p];
      if (level !== undefined) yield* level;
    }
  }

  private levelOf(item: T): ReadyList<T> {
    const priority = Math.min(this.priorityOf(item), this.maxPriority);
    let level = this.levels[priority];
    if (level === undefined) this.levels[priority] = level = new ReadyList<T>();
    if (priority > this.top) this.top = priority;
    return level;
  }

  /** The highest level holding anything, lowering `top` past the levels that emptied. */
  private headLevel(): ReadyList<T> | undefined {
    for (; this.top >= 0; this.top--) {
      const level = this.levels[this.top];
      if (level !== undefined && level.length > 0) return level;
    }
    return undefined;
  }
}
