/**
 * A fixed-bucket histogram for Prometheus: an observation costs a short scan of the bounds and three
 * number updates, so it can sit on a hot path. Counts are per bucket (not cumulative); the exposition
 * cumulates them at scrape time.
 */
export class Histogram {
  /** Count per bound, plus one for above the last bound (`+Inf`). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** `bounds` ascending, each an inclusive upper bound (`le`). */
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** RabbitMQ's `rabbitmq_message_size_bytes` buckets (rabbit_msg_size_metrics.erl), so its dashboards' `le` values match. */
export const MESSAGE_SIZE_BOUNDS: readonly number[] = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 50_000_000, 100_000_000];
