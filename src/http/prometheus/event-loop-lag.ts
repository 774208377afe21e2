import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** What the event loop's delay looked like between two scrapes, in seconds. */
export interface LagReading {
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Event-loop delay, sampled by Node itself (perf_hooks `monitorEventLoopDelay`, a timer off the JS
 * thread's hot paths). A broker whose loop lags delays every socket at once, so this is the first
 * number to look at when latency rises. Each reading covers the time since the previous one.
 */
export class EventLoopLag {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  read(): LagReading {
    const h = this.histogram;
    // No sample yet (just started): nanosecond fields are NaN or huge; report zero rather than noise.
    const reading = h.count === 0
      ? { mean: 0, p50: 0, p99: 0, max: 0 }
      : { mean: h.mean / 1e9, p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
    h.reset();
    return reading;
  }
}
