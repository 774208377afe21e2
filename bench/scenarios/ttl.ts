/**
 * Scenario 10: message TTL. `count` messages (transient 256 B by default, `--persistent` for persistent
 * ones in a durable queue) with a per-message `expiration` uniformly random in [ttlMin, ttlMax], in one
 * queue with no consumer and no dead-letter exchange. The generator fills the queue (publisher
 * confirms, `window` in flight) and reports the fill rate and when each message falls due; then the
 * runner reads the queue's `messages` through `GET /api/queues/%2F/<q>` as guest every `sampleMs`
 * until it is empty, metering the broker's CPU meanwhile (nothing else talks to it).
 *
 * Why the REST count and not a DLQ: without a dead-letter exchange the broker only expires (no
 * re-publish of every message into a second queue), and the count leaves the queue at the expiry
 * itself (docs/protocol.md "Message TTL"), so it is the expiry being measured, at the sampling
 * interval's resolution.
 */
import { Agent, request } from 'node:http';
import { connect } from '../../src/client/index.js';
import type { Job, JobParams } from '../load/job.js';
import { paddingFor } from '../load/adapter.js';
import { rate } from '../load/patterns.js';
import { CpuMeter, peakRssBytes, toMiB } from '../lib/procfs.js';
import { measure, num, startWarren, type Measured, type Scenario } from './common.js';

/** Width of the due-time histogram's buckets. */
const BUCKET_MS = 10;
/** Warren's promise: an expired message is gone within this long of its expiry. */
const PROMISE_MS = 100;
/** Give up sampling this long after the last message fell due. */
const GRACE_MS = 30_000;

interface TtlParams extends JobParams {
  queue: string;
  count: number;
  size: number;
  persistent: boolean;
  ttlMinMs: number;
  ttlMaxMs: number;
  window: number;
  sampleMs: number;
}

interface FillResult {
  msgsPerSec: number;
  fillMs: number;
  /** Wall clock (Date.now()) when the first message was sent: bucket 0 of `dueBuckets` starts here. */
  originEpoch: number;
  /** Messages falling due per BUCKET_MS, counted from each message's confirm (≥ its enqueue) + TTL. */
  dueBuckets: number[];
  /** The latest send + TTL: a lower bound of the last expiry due, so lag measured from it is an upper bound. */
  lastDueSendEpoch: number;
  /** The latest confirm + TTL: an upper bound of the last expiry due. */
  lastDueConfirmEpoch: number;
  queuedAfterFill: number | null;
}

const fillJob: Job<TtlParams> = async ({ target, params: p, mark }) => {
  const conn = await connect(target.url, { username: 'guest', password: 'guest', heartbeat: 0 });
  await conn.queueDeclare({ queue: p.queue, durable: p.persistent });
  const body = paddingFor(p.size);
  const span = p.ttlMaxMs - p.ttlMinMs;
  const buckets: number[] = [];
  let lastDueSend = 0;
  let lastDueConfirm = 0;
  let sent = 0;
  let confirmed = 0;
  await mark('measure');
  const originEpoch = Date.now();
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const sendOne = (): void => {
      const ttl = p.ttlMinMs + Math.floor(Math.random() * (span + 1));
      const sentAt = Date.now();
      lastDueSend = Math.max(lastDueSend, sentAt + ttl);
      sent++;
      const properties = p.persistent ? { persistent: true, expiration: String(ttl) } : { expiration: String(ttl) };
      conn.publish({ exchange: '', routingKey: p.queue, body, properties }).then(() => {
        const due = Date.now() + ttl;
        lastDueConfirm = Math.max(lastDueConfirm, due);
        const b = Math.floor((due - originEpoch) / BUCKET_MS);
        while (buckets.length <= b) buckets.push(0);
        buckets[b] = (buckets[b] ?? 0) + 1;
        confirmed++;
        if (sent < p.count) sendOne();
        else if (confirmed === p.count) resolve();
      }, reject);
    };
    for (let i = 0; i < Math.min(p.window, p.count); i++) sendOne();
  });
  const fillMs = performance.now() - started;
  await mark('measured');
  const queuedAfterFill = (await conn.queueDeclare({ queue: p.queue, passive: true })).messageCount;
  await conn.close();
  const result: FillResult = {
    msgsPerSec: rate(p.count, fillMs),
    fillMs: Math.round(fillMs),
    originEpoch,
    dueBuckets: buckets,
    lastDueSendEpoch: lastDueSend,
    lastDueConfirmEpoch: lastDueConfirm,
    queuedAfterFill,
  };
  return { ...result };
};

export const ttlJobs = { 'ttl-fill': fillJob };

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

function queueMessages(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET', headers: { authorization: GUEST } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`));
        const messages = (JSON.parse(text) as { messages?: unknown }).messages;
        if (typeof messages !== 'number') return reject(new Error(`GET ${url}: no 'messages' in ${text.slice(0, 200)}`));
        resolve(messages);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample {
  /** Date.now() when the request was sent (the count is read at or after it). */
  t: number;
  n: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const ttl: Scenario = {
  id: '10',
  name: 'ttl',
  title: 'message TTL: a queue of messages with mixed expirations, no consumer: fill rate, expiry rate, CPU, RSS, lag',
  headline: 'expiryPerSec',
  params: (o) => ({
    queue: 'bench-ttl',
    count: num(o, 'count', 1_000_000, 100_000),
    size: num(o, 'size', 256),
    persistent: o.flags.persistent === 'true',
    ttlMinMs: Math.round(num(o, 'ttl-min', 1) * 1000),
    ttlMaxMs: Math.round(num(o, 'ttl-max', 60) * 1000),
    window: num(o, 'confirm-window', 1000),
    sampleMs: num(o, 'sample-ms', 100),
  }),
  run: async (env, p) => {
    const params = p as TtlParams;
    if (params.ttlMaxMs < params.ttlMinMs) throw new Error('--ttl-max must not be below --ttl-min');
    const broker = await startWarren(env.options);
    const m: Measured = { target: { kind: 'warren', url: broker.wsUrl }, pid: broker.pid, broker };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const fill = await measure(m, 'ttl-fill', params);
      const f = fill.result as unknown as FillResult;
      const rssAfterFill = toMiB(broker.rss());
      const cpu = new CpuMeter(broker.pid);
      cpu.start();
      const url = `${broker.url}/api/queues/%2F/${encodeURIComponent(params.queue)}`;
      const samples: Sample[] = [];
      const deadline = Math.max(f.lastDueSendEpoch, f.lastDueConfirmEpoch) + GRACE_MS;
      for (;;) {
        const t = Date.now();
        const n = await queueMessages(agent, url);
        samples.push({ t, n });
        if (n === 0 || t > deadline) break;
        await sleep(Math.max(0, params.sampleMs - (Date.now() - t)));
      }
      const idleCpuPct = cpu.stop();
      const rssEnd = toMiB(broker.rss());
      const first = samples[0] as Sample;
      const last = samples[samples.length - 1] as Sample;
      const emptied = last.n === 0;

      // Expiry rate: what left the queue between the first sample after the fill and the empty queue.
      const expiryMs = last.t - first.t;
      const expiryPerSec = expiryMs > 0 ? Math.round(((first.n - last.n) / expiryMs) * 1000) : null;
      // What the schedule asked for over the same window (due by confirm time), for comparison.
      const dueAfter = (epoch: number): number => {
        // Messages due after `epoch`, counting a bucket that straddles it as not yet due (so overdue is never overstated).
        const from = Math.floor((epoch - f.originEpoch) / BUCKET_MS);
        let sum = 0;
        for (let b = Math.max(0, from); b < f.dueBuckets.length; b++) sum += f.dueBuckets[b] ?? 0;
        return sum;
      };
      const scheduledPerSec = expiryMs > 0 ? Math.round(((dueAfter(first.t) - dueAfter(last.t)) / expiryMs) * 1000) : null;
      // The busiest second: the most that left the queue between two samples ~1 s apart.
      let peakPerSec = 0;
      for (let i = 0, j = 0; i < samples.length; i++) {
        const si = samples[i] as Sample;
        while (j < i && si.t - (samples[j + 1] as Sample).t >= 1000) j++;
        const sj = samples[j] as Sample;
        if (si.t - sj.t >= 1000) peakPerSec = Math.max(peakPerSec, Math.round(((sj.n - si.n) / (si.t - sj.t)) * 1000));
      }
      // Still counted more than PROMISE_MS after falling due (due = confirm + TTL, an upper bound).
      let overdueMax = 0;
      for (const s of samples) overdueMax = Math.max(overdueMax, s.n - dueAfter(s.t - PROMISE_MS));

      const { queue: _queue, ...shown } = params;
      return [
        {
          key: 'all',
          params: shown,
          metrics: {
            msgsPerSec: f.msgsPerSec,
            fillMs: f.fillMs,
            queuedAfterFill: f.queuedAfterFill,
            expiryPerSec,
            scheduledPerSec,
            peakExpiryPerSec: peakPerSec,
            overdueMax,
            lagMs: emptied ? last.t - f.lastDueSendEpoch : null,
            lagMsFromConfirm: emptied ? last.t - f.lastDueConfirmEpoch : null,
            emptied,
            ...(emptied ? {} : { left: last.n }),
            sampleMs: params.sampleMs,
            sampleCount: samples.length,
            brokerRssMiB: { afterFill: rssAfterFill, end: rssEnd, peak: toMiB(peakRssBytes(broker.pid)) },
            cpuPct: { fillBroker: fill.brokerCpuPct, idleExpiringBroker: idleCpuPct, fillGenerator: fill.generatorCpuPct },
          },
        },
      ];
    } finally {
      agent.destroy();
      await broker.dispose();
    }
  },
};
