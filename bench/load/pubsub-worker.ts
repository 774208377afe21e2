/**
 * One side of a split 1 → 1 → 1 job (see split-pubsub.ts), in a worker thread of its own: the
 * publisher or the consumer, each with its own connection and event loop, as a real application's
 * producer and consumer would be. The end-to-end window crosses threads as two shared counters.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Samples } from '../lib/stats.js';
import { open } from './adapter.js';
import { alignClock } from './clock.js';
import type { Target } from './job.js';
import { AckingConsumer, confirmWindowPublisher, windowedPublisher } from './patterns.js';
import { DELIVERED, WAKE_AT, type FromSide, type PubSubSpec, type ToSide } from './split-pubsub.js';

interface SideData {
  role: 'publisher' | 'consumer';
  target: Target;
  spec: PubSubSpec;
  counters: SharedArrayBuffer;
  clockOrigin: number;
}

const data = workerData as SideData;
const port = parentPort;
if (!port) throw new Error('pubsub-worker runs in a worker thread');
alignClock(data.clockOrigin);
const counters = new Int32Array(data.counters);

function send(message: FromSide): void {
  port?.postMessage(message);
}

function nextMessage(): Promise<ToSide> {
  return new Promise((resolve) => port?.once('message', (m: ToSide) => resolve(m)));
}

async function consumerSide(p: PubSubSpec): Promise<void> {
  const conn = await open(data.target);
  await conn.declareQueue(p.queue, { durable: p.persistent });
  const consumer = new AckingConsumer(conn, p.ackEvery, p.prefetch);
  consumer.recordAfter = p.warmup;
  consumer.onDelivery = () => {
    const delivered = Atomics.add(counters, DELIVERED, 1) + 1;
    if (delivered >= Atomics.load(counters, WAKE_AT)) Atomics.notify(counters, DELIVERED);
  };
  await consumer.start(p.queue, p.prefetch);
  send({ type: 'ready' });
  await consumer.reached(p.warmup);
  const t0 = performance.now();
  await consumer.reached(p.count);
  const t1 = performance.now();
  send({ type: 'consumed', measuredMs: t1 - t0, latency: consumer.latency.percentiles() });
  await nextMessage();
  consumer.flushAcks();
  await conn.deleteQueue(p.queue);
  await conn.close();
  send({ type: 'closed' });
}

/** No confirms: refills the window whenever the consumer thread has drained it to half. */
function windowed(publish: { pump(): void; published(): number }, p: PubSubSpec): Promise<void> {
  const low = Math.max(1, Math.floor(p.window / 2));
  return new Promise((resolve) => {
    const step = (): void => {
      publish.pump();
      const published = publish.published();
      if (published >= p.count) return resolve();
      const wakeAt = published - low;
      Atomics.store(counters, WAKE_AT, wakeAt);
      const seen = Atomics.load(counters, DELIVERED);
      if (seen >= wakeAt) return void setImmediate(step);
      const waited = Atomics.waitAsync(counters, DELIVERED, seen);
      if (waited.async) void waited.value.then(step);
      else setImmediate(step);
    };
    step();
  });
}

async function publisherSide(p: PubSubSpec): Promise<void> {
  const conn = await open(data.target);
  await conn.declareQueue(p.queue, { durable: p.persistent });
  send({ type: 'ready' });
  await nextMessage();
  const spec = { conn, exchange: '', routingKey: p.queue, count: p.count, size: p.size, persistent: p.persistent };
  const confirmLatency = new Samples();
  if (p.confirmWindow > 0) await confirmWindowPublisher(spec, p.confirmWindow, confirmLatency, p.warmup);
  else await windowed(windowedPublisher(spec, p.window, (published) => published - Atomics.load(counters, DELIVERED)), p);
  send({ type: 'published', confirmLatency: p.confirmWindow > 0 ? confirmLatency.percentiles() : undefined });
  await nextMessage();
  await conn.close();
  send({ type: 'closed' });
}

(data.role === 'consumer' ? consumerSide(data.spec) : publisherSide(data.spec)).catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
