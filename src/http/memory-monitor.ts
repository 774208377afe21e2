export interface MemoryMonitorOptions {
  /** Resident memory, in bytes, above which the alarm is raised. */
  limitBytes: number;
  readonly intervalMs?: number;
  readonly readRss?: () => number;
  onChange(alarm: boolean, rss: number): void;
}

/**
 * RabbitMQ's memory high watermark: above it publishers are blocked (their connections are not read)
 * until memory falls, while consumers go on draining queues.
 */
export class MemoryMonitor {
  alarm = false;
  rss = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MemoryMonitorOptions) {}

  get limitBytes(): number {
    return this.options.limitBytes;
  }

  set limitBytes(bytes: number) {
    this.options.limitBytes = bytes;
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    this.rss = (this.options.readRss ?? (() => process.memoryUsage.rss()))();
    const alarm = this.rss > this.options.limitBytes;
    if (alarm === this.alarm) return;
    this.alarm = alarm;
    this.options.onChange(alarm, this.rss);
  }
}

/** A watermark of at most 1 is a fraction of total memory (RabbitMQ's default 0.4); above 1, bytes. */
export function memoryLimitBytes(watermark: number, totalMemory: number): number {
  return watermark <= 1 ? Math.floor(watermark * totalMemory) : Math.floor(watermark);
}
