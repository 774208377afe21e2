/**
 * Time series of monotonic counters and lengths for one object (a queue, an exchange, a connection, a
 * vhost or the whole broker), kept in two ring buffers like RabbitMQ's retention policies: every sample
 * for the last ten minutes, one a minute for the last hour.
 *
 * Most objects of a big broker are idle, so the rings are only allocated once a value becomes non-zero;
 * until then every value is known to be zero and the series costs one small array.
 */

/** A window asked for with `?msg_rates_age=60&msg_rates_incr=5` (seconds). */
export interface Range {
  readonly ageMs: number;
  readonly incrMs: number;
}

export interface Sample {
  readonly sample: number;
  readonly timestamp: number;
}

/** RabbitMQ's `<name>_details`: `rate` always; the rest only when a range was asked for. */
export interface Details {
  rate: number;
  samples?: Sample[];
  avg_rate?: number;
  avg?: number;
}

export interface SeriesPolicy {
  /** How long every sample is kept. */
  readonly fineRetentionMs: number;
  /** Spacing of the long-term samples. */
  readonly coarseIntervalMs: number;
  readonly coarseRetentionMs: number;
  /** Expected spacing of samples, to size the fine ring. */
  readonly intervalMs: number;
}

class Ring {
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** Next slot to write. */
  private next = 0;
  size = 0;

  constructor(
    readonly capacity: number,
    private readonly stride: number,
  ) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity * stride);
  }

  push(time: number, values: Float64Array): void {
    this.times[this.next] = time;
    this.values.set(values, this.next * this.stride);
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Slot of the i-th newest sample (0 = newest). */
  slot(i: number): number {
    return (this.next - 1 - i + this.capacity * 2) % this.capacity;
  }

  timeOf(i: number): number {
    return this.times[this.slot(i)] as number;
  }

  valueOf(i: number, metric: number): number {
    return this.values[this.slot(i) * this.stride + metric] as number;
  }

  get oldestTime(): number {
    return this.size === 0 ? Infinity : this.timeOf(this.size - 1);
  }

  /** Index (0 = newest) of the newest sample taken at or before `time`, or -1. */
  indexAtOrBefore(time: number): number {
    for (let i = 0; i < this.size; i++) if (this.timeOf(i) <= time) return i;
    return -1;
  }
}

export class Series {
  /** The values of the latest sample. */
  readonly latest: Float64Array;
  /** When this object was first sampled; nothing is known before. */
  readonly since: number;
  /** Generation of the sampler that last saw the object, to forget deleted objects. */
  seen = 0;
  /** Time of the last sample whose values differed from the one before (RabbitMQ's `idle_since`). */
  changedAt: number;
  private fine: Ring | undefined;
  private coarse: Ring | undefined;
  /** Values are zero before this time (the rings start here). */
  private allocatedAt = Infinity;
  private lastSampleAt: number;
  private lastCoarseAt = -Infinity;

  constructor(
    private readonly stride: number,
    private readonly policy: SeriesPolicy,
    at: number,
  ) {
    this.latest = new Float64Array(stride);
    this.since = at;
    this.lastSampleAt = at;
    this.changedAt = at;
  }

  /** Whether the newest sample showed no change since the one before it. */
  get idle(): boolean {
    return this.changedAt < this.lastSampleAt;
  }

  record(at: number, values: Float64Array): void {
    if (values.some((v, i) => v !== this.latest[i])) this.changedAt = at;
    if (!this.fine) {
      if (values.every((v) => v === 0)) {
        this.lastSampleAt = at;
        return;
      }
      const { fineRetentionMs, intervalMs, coarseIntervalMs, coarseRetentionMs } = this.policy;
      this.fine = new Ring(Math.ceil(fineRetentionMs / Math.max(intervalMs, 1)) + 2, this.stride);
      this.coarse = new Ring(Math.ceil(coarseRetentionMs / coarseIntervalMs) + 2, this.stride);
      // The zeros before the first change are a real sample: without it the first rate would be lost.
      if (this.lastSampleAt < at) {
        const zeros = new Float64Array(this.stride);
        this.fine.push(this.lastSampleAt, zeros);
        this.coarse.push(this.lastSampleAt, zeros);
        this.lastCoarseAt = this.lastSampleAt;
        this.allocatedAt = this.lastSampleAt;
      } else this.allocatedAt = at;
    }
    this.latest.set(values);
    this.fine.push(at, values);
    if (at - this.lastCoarseAt >= this.policy.coarseIntervalMs) {
      this.coarse?.push(at, values);
      this.lastCoarseAt = at;
    }
    this.lastSampleAt = at;
  }

  /** Per-second change between the two newest samples. */
  rate(metric: number): number {
    const fine = this.fine;
    if (!fine || fine.size < 2) return 0;
    const dt = fine.timeOf(0) - fine.timeOf(1);
    return dt > 0 ? ((fine.valueOf(0, metric) - fine.valueOf(1, metric)) * 1000) / dt : 0;
  }

  /** The value in force at `time` (the newest sample at or before it); undefined when unknown. */
  valueAt(time: number, metric: number): number | undefined {
    if (time < this.since) return undefined;
    if (!this.fine || time < this.allocatedAt) return 0;
    for (const ring of [this.fine, this.coarse as Ring]) {
      if (time < ring.oldestTime) continue;
      const i = ring.indexAtOrBefore(time);
      if (i >= 0) return ring.valueOf(i, metric);
    }
    return undefined;
  }

  details(metric: number, range: Range | undefined, now: number): Details {
    const rate = round(this.rate(metric));
    if (!range) return { rate };
    const samples: Sample[] = [];
    const newest = Math.floor(now / range.incrMs) * range.incrMs;
    for (let t = newest; t >= newest - range.ageMs; t -= range.incrMs) {
      const value = this.valueAt(t, metric);
      if (value === undefined) break;
      samples.push({ sample: value, timestamp: t });
    }
    const first = samples[0];
    const last = samples[samples.length - 1];
    const avgRate = first && last && first !== last ? ((first.sample - last.sample) * 1000) / (first.timestamp - last.timestamp) : 0;
    const avg = samples.length > 0 ? samples.reduce((sum, s) => sum + s.sample, 0) / samples.length : 0;
    return { rate, samples, avg_rate: round(avgRate), avg: round(avg) };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
