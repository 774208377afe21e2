import type { DiskBusyReporter, StoreChangeObserver } from './store-changes.js';

/**
 * What the data dir's writers (message store, definitions log, format stamp) share to tell of their
 * I/O: every change to a file, to the change observer (store-changes.ts), and when the oldest write or
 * fsync in flight began, to the disk-busy reporter. One per data dir, so "oldest" spans both stores.
 *
 * Without an observer and a reporter every method returns at its first check (an optional call does
 * not even evaluate its argument): nothing is allocated and no time is read, so a single node pays
 * nothing for the hook.
 */
export class DiskActivity {
  /** Start times of the writes and fsyncs in flight, oldest first (they begin in time order). */
  private readonly inFlight: number[] = [];

  constructor(
    private readonly observer: StoreChangeObserver | undefined,
    private readonly reporter: DiskBusyReporter | undefined,
  ) {}

  /** Whether anybody listens to changes: a writer checks it before building what only a change needs. */
  get observed(): boolean {
    return this.observer !== undefined;
  }

  /** Just before the writev: `data` is what it writes, in order, from `position`. */
  write(file: string, position: number, data: readonly Uint8Array[]): void {
    this.observer?.change({ kind: 'write', file, position, data });
  }

  /** Once the rename has put `data` in place as the whole of `file`. */
  replace(file: string, data: readonly Uint8Array[]): void {
    this.observer?.change({ kind: 'replace', file, data });
  }

  /** Just before the file is cut back to `size`. */
  truncate(file: string, size: number): void {
    this.observer?.change({ kind: 'truncate', file, size });
  }

  /** Once the file is deleted. */
  unlink(file: string): void {
    this.observer?.change({ kind: 'unlink', file });
  }

  /** A write or fsync starts; hand what it returns to `ended` once it is over, however it ended. */
  began(): number {
    if (!this.reporter) return 0;
    const started = performance.timeOrigin + performance.now();
    this.inFlight.push(started);
    if (this.inFlight.length === 1) this.reporter(started);
    return started;
  }

  ended(started: number): void {
    if (!this.reporter) return;
    const inFlight = this.inFlight;
    const at = inFlight.indexOf(started);
    if (at < 0) return;
    // In place: no array allocated on the group-commit path.
    for (let i = at; i < inFlight.length - 1; i++) inFlight[i] = inFlight[i + 1] as number;
    inFlight.length--;
    // Only the oldest one's end can change what is reported.
    const oldest = inFlight[0];
    if (at === 0 && oldest !== started) this.reporter(oldest);
  }
}

/** For a store opened on its own (tests, tools): tells nobody. */
export const unobserved = new DiskActivity(undefined, undefined);
