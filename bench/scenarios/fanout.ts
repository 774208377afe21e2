/**
 * Scenario 3: one publisher → a fanout exchange → N queues, one consumer (own connection) each.
 * Counts deliveries; the publisher keeps at most `window` messages per queue not yet delivered.
 */
import { open } from '../load/adapter.js';
import type { Job, JobParams } from '../load/job.js';
import { AckingConsumer, rate, windowedPublisher } from '../load/patterns.js';
import { Samples } from '../lib/stats.js';
import { measure, metricsOf, num, uniqueName, withTarget, type Scenario } from './common.js';

interface FanoutParams extends JobParams {
  exchange: string;
  queues: number;
  count: number;
  size: number;
  prefetch: number;
  ackEvery: number;
  window: number;
}

export const fanoutJob: Job<FanoutParams> = async ({ target, params: p, mark }) => {
  const publisher = await open(target);
  await publisher.declareExchange(p.exchange, 'fanout');
  const warmup = Math.floor(p.count / 10);
  const consumers: AckingConsumer[] = [];
  const connections = [publisher];
  for (let i = 0; i < p.queues; i++) {
    const queue = `${p.exchange}-q${i}`;
    await publisher.declareQueue(queue);
    await publisher.bindQueue(queue, p.exchange, '');
    const conn = await open(target);
    connections.push(conn);
    const consumer = new AckingConsumer(conn, p.ackEvery, p.prefetch);
    consumer.recordAfter = warmup;
    await consumer.start(queue, p.prefetch);
    consumers.push(consumer);
  }
  await mark('measure');
  let delivered = 0;
  const pub = windowedPublisher(
    { conn: publisher, exchange: p.exchange, routingKey: '', count: p.count, size: p.size, persistent: false },
    p.window,
    (published) => published - delivered / p.queues,
  );
  for (const consumer of consumers) {
    consumer.onDelivery = () => {
      delivered++;
      pub.pump();
    };
  }
  const started = performance.now();
  pub.pump();
  await Promise.all(consumers.map((c) => c.reached(warmup)));
  const t0 = performance.now();
  await Promise.all(consumers.map((c) => c.reached(p.count)));
  const t1 = performance.now();
  await mark('measured');
  const latency = new Samples();
  for (const consumer of consumers) {
    consumer.flushAcks();
    const pct = consumer.latency.percentiles();
    if (pct) latency.add(pct.p99);
  }
  for (let i = 0; i < p.queues; i++) await publisher.deleteQueue(`${p.exchange}-q${i}`);
  await publisher.deleteExchange(p.exchange);
  await Promise.all(connections.map((c) => c.close()));
  return {
    // Deliveries per second over all consumers.
    msgsPerSec: rate((p.count - warmup) * p.queues, t1 - t0),
    publishedPerSec: rate(p.count - warmup, t1 - t0),
    latency: consumers[0]?.latency.percentiles(),
    worstConsumerP99: latency.percentiles()?.max,
    durationMs: Math.round(t1 - started),
  };
};

export const fanout: Scenario = {
  id: '3',
  name: 'fanout',
  title: 'fan-out: 1 publisher → fanout exchange → 10 queues → 10 consumers (deliveries/s)',
  params: (o) => ({
    exchange: '',
    queues: num(o, 'queues', 10),
    count: num(o, 'count', 50_000, 10_000),
    size: num(o, 'size', 256),
    prefetch: num(o, 'prefetch', 100),
    ackEvery: num(o, 'ack-every', 50),
    window: num(o, 'window', 1000),
  }),
  run: (env, p) =>
    withTarget(env, async (m) => {
      const mm = await measure(m, 'fanout', { ...p, exchange: uniqueName('bench-fanout') });
      const { exchange: _exchange, ...shown } = p;
      return [{ key: 'all', params: shown, metrics: metricsOf(mm) }];
    }),
};
