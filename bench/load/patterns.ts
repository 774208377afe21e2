/**
 * Load patterns shared by the jobs: a consumer that acks with `multiple` every N deliveries and
 * records publish→deliver latency, and three publishers: an end-to-end window (no confirms), a window
 * of confirms in flight, and a fixed rate.
 */
import { Samples } from '../lib/stats.js';
import { paddingFor, stampedBody, type BenchConnection } from './adapter.js';
import { benchNow } from './clock.js';

export class AckingConsumer {
  delivered = 0;
  readonly latency = new Samples();
  /** Deliveries up to this count are warm-up: not recorded. */
  recordAfter = 0;
  /** Called after every delivery (the windowed publisher refills from here). */
  onDelivery: (() => void) | undefined;
  private pendingAcks = 0;
  private lastTag = 0;
  private readonly ackEvery: number;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private readonly conn: BenchConnection,
    ackEvery: number,
    prefetch: number,
  ) {
    // Acking less often than the prefetch allows would stall the consumer.
    this.ackEvery = Math.max(1, Math.min(ackEvery, prefetch));
  }

  async start(queue: string, prefetch: number): Promise<void> {
    await this.conn.consume(queue, prefetch, (tag, stamp) => this.handle(tag, stamp));
  }

  private handle(tag: number, stamp: number): void {
    const n = ++this.delivered;
    if (n > this.recordAfter) this.latency.add(benchNow() - stamp);
    this.lastTag = tag;
    if (++this.pendingAcks >= this.ackEvery) {
      this.conn.ack(tag, true);
      this.pendingAcks = 0;
    }
    while (this.waiters.length > 0 && n >= (this.waiters[0] as { count: number }).count) this.waiters.shift()?.resolve();
    this.onDelivery?.();
  }

  /** Acks what is still unacked (the tail below `ackEvery`). */
  flushAcks(): void {
    if (this.pendingAcks > 0) this.conn.ack(this.lastTag, true);
    this.pendingAcks = 0;
  }

  /** Resolves once `count` deliveries have arrived in total. */
  reached(count: number): Promise<void> {
    if (this.delivered >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ count, resolve });
      this.waiters.sort((a, b) => a.count - b.count);
    });
  }
}

export interface PublishSpec {
  conn: BenchConnection;
  exchange: string;
  routingKey: string | (() => string);
  count: number;
  size: number;
  persistent: boolean;
}

function keyOf(spec: PublishSpec): () => string {
  const key = spec.routingKey;
  return typeof key === 'function' ? key : () => key;
}

/**
 * No confirms: keeps at most `window` messages published but not yet delivered (`inFlight()`), and
 * refills in bursts once half the window has drained, so sends go out in batches.
 */
export function windowedPublisher(spec: PublishSpec, window: number, inFlight: (published: number) => number): { pump(): void; published(): number } {
  const padding = paddingFor(spec.size);
  const key = keyOf(spec);
  let published = 0;
  const low = Math.max(1, Math.floor(window / 2));
  const pump = (): void => {
    if (published >= spec.count || inFlight(published) > low) return;
    while (published < spec.count && inFlight(published) < window) {
      spec.conn.publish(spec.exchange, key(), stampedBody(benchNow(), spec.size, padding), spec.persistent);
      published++;
    }
  };
  return { pump, published: () => published };
}

/**
 * Publishes `count` messages with confirms, `window` of them unconfirmed at most; resolves when all are
 * confirmed. Records publish→confirm latency after the first `skip` confirms.
 */
export function confirmWindowPublisher(spec: PublishSpec, window: number, confirmLatency?: Samples, skip = 0): Promise<void> {
  const padding = paddingFor(spec.size);
  const key = keyOf(spec);
  let published = 0;
  let confirmed = 0;
  let inFlight = 0;
  return new Promise<void>((resolve, reject) => {
    if (spec.count === 0) return resolve();
    const pump = (): void => {
      while (inFlight < window && published < spec.count) {
        inFlight++;
        published++;
        const sentAt = benchNow();
        spec.conn.publishConfirm(spec.exchange, key(), stampedBody(sentAt, spec.size, padding), spec.persistent).then(() => {
          inFlight--;
          if (++confirmed > skip) confirmLatency?.add(benchNow() - sentAt);
          if (confirmed === spec.count) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
}

/**
 * Publishes at `rate` msgs/s for `durationMs` from a 1 ms timer: each tick sends what is due by then.
 * `sendLag` records how late each send was against its ideal schedule (the generator keeping up).
 */
export function fixedRatePublisher(spec: Omit<PublishSpec, 'count'>, rate: number, durationMs: number, sendLag: Samples): Promise<number> {
  const padding = paddingFor(spec.size);
  const key = keyOf({ ...spec, count: 0 });
  const total = Math.round((rate * durationMs) / 1000);
  const interval = 1000 / rate;
  const start = benchNow();
  let sent = 0;
  return new Promise<number>((resolve) => {
    const tick = (): void => {
      const now = benchNow();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      while (sent < due) {
        sendLag.add(now - (start + sent * interval));
        spec.conn.publish(spec.exchange, key(), stampedBody(now, spec.size, padding), spec.persistent);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve(sent);
    };
    tick();
  });
}

/** Seconds → msgs/s, rounded. */
export function rate(count: number, ms: number): number {
  return ms > 0 ? Math.round((count / ms) * 1000) : 0;
}

/**
 * Confirms in batches: `batch - 1` publishes without a confirm, then one with; at most `inFlight`
 * batches unconfirmed. Replies come in request order, so a batch's confirm covers the whole batch.
 */
export function batchConfirmPublisher(spec: PublishSpec, batch: number, inFlight: number): Promise<void> {
  const padding = paddingFor(spec.size);
  const key = keyOf(spec);
  let published = 0;
  let outstanding = 0;
  return new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (outstanding < inFlight && published < spec.count) {
        const end = Math.min(spec.count, published + batch);
        while (published < end - 1) {
          spec.conn.publish(spec.exchange, key(), stampedBody(benchNow(), spec.size, padding), spec.persistent);
          published++;
        }
        published++;
        outstanding++;
        spec.conn.publishConfirm(spec.exchange, key(), stampedBody(benchNow(), spec.size, padding), spec.persistent).then(() => {
          outstanding--;
          if (published >= spec.count && outstanding === 0) resolve();
          else pump();
        }, reject);
      }
    };
    if (spec.count === 0) resolve();
    else pump();
  });
}
