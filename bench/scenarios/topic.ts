/**
 * Scenario 4: topic routing through many bindings. `bindings` patterns (a third literal, a third with
 * `*`, a third with `#`) over 4-word keys from a 50-word vocabulary, spread over `queues` queues.
 * Half the published keys are made to match some binding, half are random. Nobody consumes: the
 * measure is messages routed per second (publishes, with a confirm every `batch`), and the
 * enqueues they caused (counted from the queues afterwards).
 */
import { open } from '../load/adapter.js';
import type { Job, JobParams } from '../load/job.js';
import { batchConfirmPublisher, rate } from '../load/patterns.js';
import { measure, metricsOf, num, uniqueName, withTarget, type Scenario } from './common.js';

interface TopicParams extends JobParams {
  exchange: string;
  queues: number;
  bindings: number;
  count: number;
  size: number;
  batch: number;
  batchesInFlight: number;
}

/** Small deterministic PRNG (mulberry32), so every run binds the same patterns. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = Array.from({ length: 50 }, (_, i) => `w${i}`);
const STAR_SHAPES = ['a.*.c.d', 'a.b.*.d', '*.b.c.d', 'a.*.*.d'];
const HASH_SHAPES = ['a.b.c.#', 'a.b.#', '#.c.d', 'a.#.d', 'a.b.#.d'];

export function makePatterns(count: number, random: () => number): string[] {
  const word = (): string => WORDS[Math.floor(random() * WORDS.length)] as string;
  const fill = (shape: string): string => shape.replace(/[abcd]/g, word);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < count) {
    const kind = out.length % 3;
    const shapes = kind === 0 ? ['a.b.c.d'] : kind === 1 ? STAR_SHAPES : HASH_SHAPES;
    const pattern = fill(shapes[Math.floor(random() * shapes.length)] as string);
    if (seen.has(pattern)) continue;
    seen.add(pattern);
    out.push(pattern);
  }
  return out;
}

/** A key matching `pattern`: `*` → a word, `#` → zero to two words. */
function keyFor(pattern: string, random: () => number): string {
  const word = (): string => WORDS[Math.floor(random() * WORDS.length)] as string;
  return pattern
    .split('.')
    .flatMap((part) => (part === '*' ? [word()] : part === '#' ? Array.from({ length: Math.floor(random() * 3) }, word) : [part]))
    .join('.');
}

export const topicJob: Job<TopicParams> = async ({ target, params: p, mark }) => {
  const random = prng(42);
  const conn = await open(target);
  await conn.declareExchange(p.exchange, 'topic');
  const queues = Array.from({ length: p.queues }, (_, i) => `${p.exchange}-q${i}`);
  for (const queue of queues) await conn.declareQueue(queue);
  const patterns = makePatterns(p.bindings, random);
  const bindStart = performance.now();
  for (let i = 0; i < patterns.length; i += 500) {
    await Promise.all(
      patterns.slice(i, i + 500).map((pattern, j) => conn.bindQueue(queues[(i + j) % queues.length] as string, p.exchange, pattern)),
    );
  }
  const bindMs = performance.now() - bindStart;
  const keys = Array.from({ length: 8192 }, (_, i) =>
    i % 2 === 0 ? keyFor(patterns[Math.floor(random() * patterns.length)] as string, random) : keyFor('*.*.*.*', random),
  );
  let next = 0;
  await mark('measure');
  const started = performance.now();
  await batchConfirmPublisher(
    { conn, exchange: p.exchange, routingKey: () => keys[next++ & 8191] as string, count: p.count, size: p.size, persistent: false },
    p.batch,
    p.batchesInFlight,
  );
  const ms = performance.now() - started;
  await mark('measured');
  let enqueued = 0;
  for (const queue of queues) enqueued += (await conn.messageCount(queue)) ?? 0;
  for (const queue of queues) await conn.deleteQueue(queue);
  await conn.deleteExchange(p.exchange);
  await conn.close();
  return {
    msgsPerSec: rate(p.count, ms),
    enqueuesPerSec: rate(enqueued, ms),
    queuesPerMessage: Math.round((enqueued / p.count) * 100) / 100,
    bindingsPerSec: rate(p.bindings, bindMs),
  };
};

export const topic: Scenario = {
  id: '4',
  name: 'topic',
  title: 'topic routing with 10,000 bindings of mixed patterns (*, #, literals): routed msgs/s',
  params: (o) => ({
    exchange: '',
    queues: num(o, 'queues', 100),
    bindings: num(o, 'bindings', 10_000),
    count: num(o, 'count', 100_000, 20_000),
    size: num(o, 'size', 256),
    batch: num(o, 'batch', 100),
    batchesInFlight: num(o, 'batches-in-flight', 10),
  }),
  run: (env, p) =>
    withTarget(env, async (m) => {
      const mm = await measure(m, 'topic', { ...p, exchange: uniqueName('bench-topic') });
      const { exchange: _exchange, ...shown } = p;
      return [{ key: 'all', params: shown, metrics: metricsOf(mm) }];
    }),
};
