/**
 * Scenario 5: latency at fixed rates. The publisher sends from a 1 ms timer what is due at `rate`
 * msgs/s; each body carries its send time (performance.now() of the generator, which also consumes:
 * one clock). Reports publish→deliver p50/p99/p99.9 after a warm-up second.
 */
import { open } from '../load/adapter.js';
import type { Job, JobParams } from '../load/job.js';
import { AckingConsumer, fixedRatePublisher, rate } from '../load/patterns.js';
import { Samples } from '../lib/stats.js';
import { measure, metricsOf, num, numList, uniqueName, withTarget, type Line, type Scenario } from './common.js';

interface RateParams extends JobParams {
  queue: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  size: number;
  prefetch: number;
  ackEvery: number;
}

export const fixedRateJob: Job<RateParams> = async ({ target, params: p, mark }) => {
  const publisher = await open(target);
  const consumerConn = await open(target);
  await publisher.declareQueue(p.queue);
  const consumer = new AckingConsumer(consumerConn, p.ackEvery, p.prefetch);
  consumer.recordAfter = Math.round((p.rate * p.warmupMs) / 1000);
  await consumer.start(p.queue, p.prefetch);
  await mark('measure');
  const sendLag = new Samples();
  const started = performance.now();
  const sent = await fixedRatePublisher(
    { conn: publisher, exchange: '', routingKey: p.queue, size: p.size, persistent: false },
    p.rate,
    p.warmupMs + p.durationMs,
    sendLag,
  );
  const publishMs = performance.now() - started;
  const drained = await Promise.race([
    consumer.reached(sent).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
  ]);
  await mark('measured');
  consumer.flushAcks();
  await publisher.deleteQueue(p.queue);
  await Promise.all([publisher.close(), consumerConn.close()]);
  return {
    msgsPerSec: rate(consumer.delivered, publishMs),
    latency: consumer.latency.percentiles(),
    sendLag: sendLag.percentiles(),
    ...(drained ? {} : { note: `only ${consumer.delivered} of ${sent} delivered within 30 s of the end` }),
  };
};

export const latency: Scenario = {
  id: '5',
  name: 'latency',
  title: 'publish→deliver latency at fixed rates (1k and 10k msgs/s), transient 256 B',
  amqp: true,
  params: (o) => ({
    queue: '',
    rates: numList(o, 'rates', [1000, 10_000]),
    durationMs: num(o, 'duration', 10, 3) * 1000,
    warmupMs: 1000,
    size: num(o, 'size', 256),
    prefetch: num(o, 'prefetch', 100),
    ackEvery: num(o, 'ack-every', 10),
  }),
  run: async (env, p) => {
    const lines: Line[] = [];
    const { rates, queue: _queue, ...shown } = p as RateParams & { rates: number[] };
    for (const r of rates) {
      await withTarget(env, async (m) => {
        const mm = await measure(m, 'fixed-rate', { ...shown, rate: r, queue: uniqueName('bench-s5') });
        lines.push({ key: `rate=${r}`, params: { ...shown, rate: r }, metrics: metricsOf(mm) });
      });
    }
    return lines;
  },
};
