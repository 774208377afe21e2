import type { Clock } from '../../src/broker/clock.js';

/** A clock that moves only when told: `advance` runs every task that falls due, in time order. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 0;
  private readonly tasks = new Map<number, { at: number; task: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(ms: number, task: () => void): () => void {
    const id = ++this.nextId;
    this.tasks.set(id, { at: this.time + Math.max(0, ms), task });
    return () => void this.tasks.delete(id);
  }

  /** Tasks waiting to run. */
  get pending(): number {
    return this.tasks.size;
  }

  /** Moves time forward by `ms`, running due tasks (and tasks they schedule that fall due) in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: [number, { at: number; task: () => void }] | undefined;
      for (const entry of this.tasks) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.tasks.delete(next[0]);
      this.time = next[1].at;
      next[1].task();
    }
    this.time = until;
  }
}
