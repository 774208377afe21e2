import { statfs } from 'node:fs/promises';

/**
 * What the writers tell the guard of the bytes they are about to put on disk, so free space is known
 * between two `statfs` calls. Each call is a few additions: `reserve` is on the path of every record.
 */
export interface SpaceLedger {
  /** Free space is below the limit (or a write failed for lack of it). */
  readonly alarm: boolean;
  /** `bytes` were buffered: they will be written unless the write fails. */
  reserve(bytes: number): void;
  /** Buffered bytes reached the file. */
  wrote(bytes: number): void;
  /** Buffered bytes will not be written after all (their write failed and they are not retried). */
  dropped(bytes: number): void;
  /** A write of `bytes` failed: with ENOSPC (or EDQUOT) the alarm is raised and held until they fit. */
  failed(bytes: number, error: unknown): void;
}

/** For a store opened without a guard (tests, tools): counts nothing. */
export const unguarded: SpaceLedger = { alarm: false, reserve: () => undefined, wrote: () => undefined, dropped: () => undefined, failed: () => undefined };

export interface DiskGuardOptions {
  readonly dir: string;
  /** Bytes of free space below which persistent publishes and durable definitions are refused. */
  readonly freeLimit: number;
  /** Between two checks while free space is far from the limit (default 1 s). */
  readonly intervalMs?: number;
  /** Between two checks while less than twice the limit is free, or the alarm is on (default 100 ms). */
  readonly nearIntervalMs?: number;
}

/** `writeFailed`: raised by a write that failed for lack of space, rather than by a measurement. */
export type DiskAlarmListener = (alarm: boolean, freeBytes: number, writeFailed: boolean) => void;

/**
 * Watches free space on the data dir's file system, and raises the alarm *before* a write can fail
 * rather than after: free space is measured with `statfs`, and every byte buffered since is subtracted
 * at once (`reserve`), so the publish that would take the disk below the limit raises the alarm itself,
 * synchronously, and the next one is refused. What was buffered before the alarm still has the limit
 * to land in. Checks run more often near the limit, where a deleted file or another process matters.
 */
export class DiskGuard implements SpaceLedger {
  alarm = false;
  /** `statfs` free bytes at the last check. */
  private measured = Number.POSITIVE_INFINITY;
  /** Bytes written since start, and their count when the last check began. */
  private writtenTotal = 0;
  private writtenAtCheck = 0;
  /** Buffered, not yet written. */
  private unwritten = 0;
  /** After a write failed for lack of space: the alarm clears only once this much more than the limit is free. */
  private shortBy = 0;
  private checking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private onChange: DiskAlarmListener | undefined;

  constructor(private readonly options: DiskGuardOptions) {}

  /** Free bytes as last measured, less what was written or buffered since. */
  get freeBytes(): number {
    return this.measured - (this.writtenTotal - this.writtenAtCheck) - this.unwritten;
  }

  get freeLimit(): number {
    return this.options.freeLimit;
  }

  /** Measures, then tells `onChange` of the alarm (at once if it is already on) and keeps watching. */
  async start(onChange: DiskAlarmListener): Promise<void> {
    this.stopped = false;
    await this.check();
    this.onChange = onChange;
    if (this.alarm) onChange(true, this.freeBytes, this.shortBy > 0);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  reserve(bytes: number): void {
    this.unwritten += bytes;
    if (!this.alarm && this.freeBytes < this.options.freeLimit) this.set(true);
  }

  wrote(bytes: number): void {
    this.unwritten -= bytes;
    this.writtenTotal += bytes;
  }

  dropped(bytes: number): void {
    this.unwritten -= bytes;
  }

  failed(bytes: number, error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') return;
    this.shortBy = Math.max(this.shortBy, bytes);
    if (!this.alarm) this.set(true, true);
    void this.check();
  }

  /** Measures free space again (joining a measurement already under way). */
  check(): Promise<void> {
    this.checking ??= this.measure().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async measure(): Promise<void> {
    // Bytes written while statfs runs may or may not be in its answer: they are counted as not.
    const writtenBefore = this.writtenTotal;
    try {
      const stats = await statfs(this.options.dir);
      this.measured = stats.bavail * stats.bsize;
      this.writtenAtCheck = writtenBefore;
    } catch {
      return;
    }
    const free = this.freeBytes;
    const limit = this.options.freeLimit;
    if (this.alarm && free >= limit + this.shortBy) this.set(false);
    else if (!this.alarm && free < limit) this.set(true);
  }

  private set(alarm: boolean, writeFailed = false): void {
    this.alarm = alarm;
    if (!alarm) this.shortBy = 0;
    this.onChange?.(alarm, this.freeBytes, writeFailed);
  }

  private schedule(): void {
    if (this.stopped) return;
    const near = this.alarm || this.freeBytes < 2 * this.options.freeLimit;
    const delay = near ? (this.options.nearIntervalMs ?? 100) : (this.options.intervalMs ?? 1000);
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
