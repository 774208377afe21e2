import { statfs } from 'node:fs/promises';

export interface DiskGuardOptions {
  readonly dir: string;
  /** Bytes of free space below which persistent publishes are refused. */
  readonly freeLimit: number;
  readonly intervalMs?: number;
  onChange(alarm: boolean, freeBytes: number): void;
}

/**
 * Watches free space on the data dir's file system. Refusing persistent publishes while space is low is
 * better than a store that fails half-way through a write.
 */
export class DiskGuard {
  alarm = false;
  freeBytes = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DiskGuardOptions) {}

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    try {
      const stats = await statfs(this.options.dir);
      this.freeBytes = stats.bavail * stats.bsize;
    } catch {
      return;
    }
    const alarm = this.freeBytes < this.options.freeLimit;
    if (alarm !== this.alarm) {
      this.alarm = alarm;
      this.options.onChange(alarm, this.freeBytes);
    }
  }
}
