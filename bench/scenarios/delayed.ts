/**
 * Scenario 11: delayed messages. `count` messages (transient 256 B by default; `--persistent` for
 * persistent ones on a durable exchange) are published with confirms to an `x-delayed-message`
 * exchange, with `x-delay`s chosen so that they fall due at a steady `rate` per second starting `lead`
 * seconds after the first send: all of them are scheduled at once if the fill is quicker than the lead.
 * After the fill the runner reads the broker's RSS (1M scheduled) and times two pages of
 * `GET …/scheduled`. A consumer on its own connection (noAck) records, per message, its arrival time
 * minus its due time as the broker computed it (from the confirm's `scheduled.due`): how late it fired,
 * plus the delivery over the socket (an upper bound of the routing lateness).
 */
import { Agent, request } from 'node:http';
import { connect } from '../../src/client/index.js';
import type { Job, JobParams } from '../load/job.js';
import { paddingFor } from '../load/adapter.js';
import { rate } from '../load/patterns.js';
import { toMiB } from '../lib/procfs.js';
import { Samples } from '../lib/stats.js';
import { measure, num, startWarren, type Measured, type Scenario } from './common.js';

interface DelayedParams extends JobParams {
  exchange: string;
  queue: string;
  count: number;
  size: number;
  persistent: boolean;
  /** Messages falling due per second. */
  rate: number;
  leadMs: number;
  window: number;
}

/** Width of the sequence number at the start of each body. */
const SEQ = 10;
/** Give up waiting for deliveries this long after the last due time. */
const GRACE_MS = 60_000;

const job: Job<DelayedParams> = async ({ target, params: p, mark }) => {
  const pub = await connect(target.url, { username: 'guest', password: 'guest', heartbeat: 0 });
  const sub = await connect(target.url, { username: 'guest', password: 'guest', heartbeat: 0 });
  await pub.exchangeDeclare({ exchange: p.exchange, type: 'x-delayed-message', durable: p.persistent, arguments: { 'x-delayed-type': 'direct' } });
  await pub.queueDeclare({ queue: p.queue, durable: p.persistent });
  await pub.queueBind({ queue: p.queue, exchange: p.exchange, routingKey: 'k' });
  const due = new Float64Array(p.count);
  const lateness = new Samples();
  let delivered = 0;
  let lastArrival = 0;
  let allDelivered: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  await sub.consume({ queue: p.queue, noAck: true }, (message) => {
    const arrived = performance.timeOrigin + performance.now();
    const i = Number(message.text().slice(0, SEQ));
    lateness.add(arrived - (due[i] as number));
    lastArrival = arrived;
    if (++delivered === p.count) allDelivered?.();
  });
  const padding = paddingFor(Math.max(0, p.size - SEQ));
  const properties = p.persistent ? { persistent: true } : {};
  const perMs = p.rate / 1000;
  const first = Date.now() + p.leadMs;
  let sent = 0;
  let confirmed = 0;
  let sentLate = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const sendOne = (): void => {
      const i = sent++;
      const wanted = first + Math.floor(i / perMs);
      const delay = wanted - Date.now();
      if (delay <= 0) sentLate++;
      const body = String(i).padStart(SEQ, '0') + padding;
      pub.publish({ exchange: p.exchange, routingKey: 'k', body, properties, delay: Math.max(0, delay) }).then((result) => {
        due[i] = result.scheduled?.due ?? Date.now();
        confirmed++;
        if (sent < p.count) sendOne();
        else if (confirmed === p.count) resolve();
      }, reject);
    };
    for (let k = 0; k < Math.min(p.window, p.count); k++) sendOne();
  });
  const fillMs = performance.now() - started;
  await mark('filled', { scheduledBeforeFirstDue: Date.now() < first });
  // The measured window (broker CPU) is the firing: from the first due time to the last arrival.
  const wait = first - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await mark('measure');
  const lastDue = first + Math.floor((p.count - 1) / perMs);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, Math.max(0, lastDue - Date.now()) + GRACE_MS))]);
  await mark('measured');
  await pub.close();
  await sub.close();
  return {
    fillPerSec: rate(p.count, fillMs),
    fillMs: Math.round(fillMs),
    sentLate,
    delivered,
    firingMs: Math.round(lastArrival - first),
    firedPerSec: lastArrival > first ? Math.round((delivered / (lastArrival - first)) * 1000) : null,
    lateness: lateness.percentiles() ?? null,
  };
};

export const delayedJobs = { delayed: job };

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** Milliseconds a GET takes, and its status. */
function timedGet(agent: Agent, url: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: GUEST } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: Math.round((performance.now() - started) * 10) / 10, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const delayed: Scenario = {
  id: '11',
  name: 'delayed',
  title: 'delayed messages: 1M scheduled on an x-delayed-message exchange, RSS, and lateness of firing at a steady rate',
  headline: 'latenessP99',
  params: (o) => ({
    exchange: 'bench-delayed',
    queue: 'bench-delayed-q',
    count: num(o, 'count', 1_000_000, 100_000),
    size: num(o, 'size', 256),
    persistent: o.flags.persistent === 'true',
    rate: num(o, 'due-rate', 10_000),
    leadMs: Math.round(num(o, 'lead', 60, 15) * 1000),
    window: num(o, 'confirm-window', 1000),
  }),
  run: async (env, p) => {
    const params = p as DelayedParams;
    const broker = await startWarren(env.options);
    const m: Measured = { target: { kind: 'warren', url: broker.wsUrl }, pid: broker.pid, broker };
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let rssScheduled: number | undefined;
    let listFirstPage: { ms: number; status: number } | undefined;
    let listDeepPage: { ms: number; status: number } | undefined;
    let allScheduled = false;
    try {
      const run = await measure(m, 'delayed', params, async (name, data) => {
        if (name !== 'filled') return;
        allScheduled = (data as { scheduledBeforeFirstDue: boolean }).scheduledBeforeFirstDue;
        rssScheduled = toMiB(broker.rss());
        const base = `${broker.url}/api/exchanges/%2F/${params.exchange}/scheduled`;
        listFirstPage = await timedGet(agent, `${base}?offset=0&count=50`);
        // The deepest page the API lists (MAX_LIST_DEPTH).
        listDeepPage = await timedGet(agent, `${base}?offset=${Math.min(99_950, Math.max(0, params.count - 50))}&count=50`);
      });
      const r = run.result;
      const late = r.lateness as { p99: number } | null;
      const { exchange: _e, queue: _q, ...shown } = params;
      return [
        {
          key: 'all',
          params: shown,
          metrics: {
            latenessP99: late?.p99 ?? null,
            lateness: r.lateness,
            fillPerSec: r.fillPerSec,
            fillMs: r.fillMs,
            sentLate: r.sentLate,
            allScheduledBeforeFirstDue: allScheduled,
            delivered: r.delivered,
            firedPerSec: r.firedPerSec,
            firingMs: r.firingMs,
            listMs: { firstPage: listFirstPage?.ms, deepestPage: listDeepPage?.ms, status: [listFirstPage?.status, listDeepPage?.status] },
            brokerRssMiB: { scheduled: rssScheduled, end: run.brokerRssMiB.end, peak: run.brokerRssMiB.peak },
            cpuPct: { firingBroker: run.brokerCpuPct, generator: run.generatorCpuPct },
          },
        },
      ];
    } finally {
      agent.destroy();
      await broker.dispose();
    }
  },
};
