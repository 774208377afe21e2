/**
 * Scenarios 1 and 2: one publisher → one queue → one consumer (manual ack, `multiple` every N).
 *  1. transient 256 B messages; publisher without confirms, at most `window` messages published but
 *     not yet delivered (end-to-end flow control).
 *  2. persistent messages in a durable queue; publisher with confirms, `confirmWindow` in flight.
 * By default the publisher and the consumer run in two threads of the generator (`--generator=split`,
 * split-pubsub.ts); `--generator=single` runs both on one event loop, as before 2026-12-01.
 */
import { Samples } from '../lib/stats.js';
import { open } from '../load/adapter.js';
import type { Job, JobParams } from '../load/job.js';
import { AckingConsumer, confirmWindowPublisher, rate, windowedPublisher } from '../load/patterns.js';
import { splitPubSub, type PubSubSpec } from '../load/split-pubsub.js';
import { measure, metricsOf, num, uniqueName, withTarget, type BenchOptions, type Line, type RunEnv, type Scenario } from './common.js';

/** The split job's spec (split-pubsub.ts) less its warm-up (a tenth of `count`), and which generator. */
export interface PubSubParams extends JobParams, Omit<PubSubSpec, 'warmup'> {
  /** Publisher and consumer in two threads ('split') or on one event loop ('single'). */
  generator: 'split' | 'single';
}

export const pubSubJob: Job<PubSubParams> = async (ctx) => {
  const { target, params: p, mark } = ctx;
  if (p.generator === 'single') return singleLoop(ctx);
  const warmup = Math.floor(p.count / 10);
  const { generator: _generator, ...spec } = p;
  const out = await splitPubSub(
    target,
    { ...spec, warmup },
    () => mark('measure'),
    () => mark('measured'),
  );
  return {
    msgsPerSec: rate(p.count - warmup, out.measuredMs),
    latency: out.latency,
    ...(p.confirmWindow > 0 ? { confirmLatency: out.confirmLatency } : {}),
    durationMs: Math.round(out.durationMs),
  };
};

const singleLoop: Job<PubSubParams> = async ({ target, params: p, mark }) => {
  const publisher = await open(target);
  const consumerConn = await open(target);
  await publisher.declareQueue(p.queue, { durable: p.persistent });
  const consumer = new AckingConsumer(consumerConn, p.ackEvery, p.prefetch);
  const warmup = Math.floor(p.count / 10);
  consumer.recordAfter = warmup;
  await consumer.start(p.queue, p.prefetch);
  await mark('measure');
  const spec = { conn: publisher, exchange: '', routingKey: p.queue, count: p.count, size: p.size, persistent: p.persistent };
  const confirmLatency = new Samples();
  let confirmed: Promise<void> = Promise.resolve();
  if (p.confirmWindow > 0) confirmed = confirmWindowPublisher(spec, p.confirmWindow, confirmLatency, warmup);
  else {
    const pub = windowedPublisher(spec, p.window, (published) => published - consumer.delivered);
    consumer.onDelivery = pub.pump;
    pub.pump();
  }
  const started = performance.now();
  await consumer.reached(warmup);
  const t0 = performance.now();
  await consumer.reached(p.count);
  const t1 = performance.now();
  await confirmed;
  await mark('measured');
  consumer.flushAcks();
  await publisher.deleteQueue(p.queue);
  await Promise.all([publisher.close(), consumerConn.close()]);
  return {
    msgsPerSec: rate(p.count - warmup, t1 - t0),
    latency: consumer.latency.percentiles(),
    ...(p.confirmWindow > 0 ? { confirmLatency: confirmLatency.percentiles() } : {}),
    durationMs: Math.round(t1 - started),
  };
};

function params(options: BenchOptions, persistent: boolean): PubSubParams {
  return {
    queue: '',
    count: num(options, 'count', persistent ? 100_000 : 300_000, persistent ? 20_000 : 50_000),
    size: num(options, 'size', 256),
    prefetch: num(options, 'prefetch', 100),
    ackEvery: num(options, 'ack-every', 50),
    persistent,
    window: num(options, 'window', 1000),
    confirmWindow: persistent ? num(options, 'confirm-window', 100) : 0,
    generator: generatorFlag(options),
  };
}

function generatorFlag(options: BenchOptions): 'split' | 'single' {
  const raw = options.flags.generator ?? 'split';
  if (raw !== 'split' && raw !== 'single') throw new Error(`--generator: expected split or single, got '${raw}'`);
  return raw;
}

async function run(env: RunEnv, p: JobParams, id: string): Promise<Line[]> {
  return withTarget(env, async (m) => {
    const mm = await measure(m, 'pubsub', { ...p, queue: uniqueName(`bench-s${id}`) });
    const { queue: _queue, ...shown } = p;
    const extra: Record<string, unknown> = {};
    if (id === '2') {
      extra.diskWriteMiB = mm.diskWriteMiB;
      if (env.target !== 'amqp' && (mm.diskWriteMiB ?? 0) < 1) {
        extra.note = 'the broker wrote nothing to disk: confirms did not wait for fsync (store not wired in)';
      }
    }
    return [{ key: 'all', params: shown, metrics: metricsOf(mm, extra) }];
  });
}

export const transientThroughput: Scenario = {
  id: '1',
  name: 'throughput',
  title: '1 publisher → 1 queue → 1 consumer, transient, no confirms (end-to-end window)',
  amqp: true,
  params: (options) => params(options, false),
  run: (env, p) => run(env, p, '1'),
};

export const persistentThroughput: Scenario = {
  id: '2',
  name: 'persistent',
  title: '1 → 1 → 1, persistent messages, durable queue, publisher confirms (window in flight)',
  amqp: true,
  params: (options) => params(options, true),
  run: (env, p) => run(env, p, '2'),
};
