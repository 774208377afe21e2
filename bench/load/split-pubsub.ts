/**
 * 1 → 1 → 1 with the publisher and the consumer in two worker threads of the generator process, so
 * neither waits on the other's event loop: with both on one loop, the generator — not the broker — was
 * the ceiling of scenarios 1 and 2 (it used ~75 % of a core against a half-idle broker). The consumer
 * thread counts deliveries into shared memory; the publisher thread reads that count for the
 * end-to-end window and sleeps on it (Atomics.waitAsync) until half the window has drained.
 */
import { Worker } from 'node:worker_threads';
import type { Percentiles } from '../lib/stats.js';
import type { Target } from './job.js';

export interface PubSubSpec {
  queue: string;
  count: number;
  /** Deliveries before the measured window starts (not recorded). */
  warmup: number;
  size: number;
  prefetch: number;
  ackEvery: number;
  persistent: boolean;
  /** No-confirm publishing: at most this many published but not yet delivered. */
  window: number;
  /** > 0: publish with confirms, this many in flight (the end-to-end window is then not used). */
  confirmWindow: number;
}

/** Int32 slots in the shared counters: deliveries so far, and the count at which to wake the publisher. */
export const DELIVERED = 0;
export const WAKE_AT = 1;

export type ToSide = { type: 'go' } | { type: 'finish' };
export type FromSide =
  | { type: 'ready' }
  | { type: 'consumed'; measuredMs: number; latency: Percentiles | undefined }
  | { type: 'published'; confirmLatency: Percentiles | undefined }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export interface SplitOutcome {
  measuredMs: number;
  latency: Percentiles | undefined;
  confirmLatency: Percentiles | undefined;
  /** From the publisher's start to the last delivery. */
  durationMs: number;
}

const WORKER = new URL('./pubsub-worker.js', import.meta.url);

/** A worker thread as a queue of the messages it sent; an error message or a crash rejects. */
class Side {
  private readonly worker: Worker;
  private readonly inbox: FromSide[] = [];
  private waiting: { resolve: (m: FromSide) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(role: 'publisher' | 'consumer', target: Target, spec: PubSubSpec, counters: SharedArrayBuffer) {
    this.worker = new Worker(WORKER, { workerData: { role, target, spec, counters, clockOrigin: performance.timeOrigin } });
    this.worker.on('message', (m: FromSide) => {
      if (m.type === 'error') this.fail(new Error(`${role}: ${m.message}`));
      else if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`${role} thread exited (${code})`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  /** The next message, which must be of `type`. */
  async expect<T extends FromSide['type']>(type: T): Promise<Extract<FromSide, { type: T }>> {
    let m = this.inbox.shift();
    if (!m) {
      if (this.failure) throw this.failure;
      m = await new Promise<FromSide>((resolve, reject) => {
        this.waiting = { resolve, reject };
      });
    }
    if (m.type !== type) throw new Error(`expected '${type}' from the generator thread, got '${m.type}'`);
    return m as Extract<FromSide, { type: T }>;
  }

  send(message: ToSide): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/** Runs the split job: `beforeGo` once both sides are connected, `afterMeasured` once all is delivered (and confirmed). */
export async function splitPubSub(
  target: Target,
  spec: PubSubSpec,
  beforeGo: () => Promise<void>,
  afterMeasured: () => Promise<void>,
): Promise<SplitOutcome> {
  const counters = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(counters), WAKE_AT, 0x7fffffff);
  const consumer = new Side('consumer', target, spec, counters);
  try {
    await consumer.expect('ready');
    const publisher = new Side('publisher', target, spec, counters);
    try {
      await publisher.expect('ready');
      await beforeGo();
      const started = performance.now();
      publisher.send({ type: 'go' });
      const consumed = await consumer.expect('consumed');
      const durationMs = performance.now() - started;
      const published = await publisher.expect('published');
      await afterMeasured();
      consumer.send({ type: 'finish' });
      await consumer.expect('closed');
      publisher.send({ type: 'finish' });
      await publisher.expect('closed');
      return { measuredMs: consumed.measuredMs, latency: consumed.latency, confirmLatency: published.confirmLatency, durationMs };
    } finally {
      await publisher.stop();
    }
  } finally {
    await consumer.stop();
  }
}
