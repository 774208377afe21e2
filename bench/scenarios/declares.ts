/**
 * Scenario 9: many durable queue declares, over the REST API and over the WebSocket, each against a
 * fresh broker. REST: `PUT /api/queues/%2F/<name>` as guest over keep-alive connections, `concurrency`
 * requests in flight, every answer must be 201. WebSocket: the bundled client, `window` declares
 * outstanding, every reply must name the queue. Besides the rate it reports the bytes the broker wrote
 * to storage per declare: what a definitions store costs per change. Only the public REST API and the
 * client are used, so the same scenario measures whatever store the broker has.
 *
 * A store that rewrites every definition on each change makes this quadratic, so each line has a
 * deadline (`--timeout`, seconds): past it no new declare is sent, and the line reports how many were
 * declared instead of the run hanging.
 */
import { statSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { connect } from '../../src/client/index.js';
import type { BrokerProcess } from '../lib/broker.js';
import { toMiB } from '../lib/procfs.js';
import type { Job, JobParams } from '../load/job.js';
import { rate } from '../load/patterns.js';
import { measure, num, withTarget, type Line, type RunEnv, type Scenario } from './common.js';

interface DeclaresParams extends JobParams {
  count: number;
  /** REST requests in flight. */
  concurrency: number;
  /** WebSocket declares outstanding. */
  window: number;
  /** Per line: no declare is sent after this many seconds. */
  timeoutS: number;
}

interface DriveParams extends JobParams {
  count: number;
  inFlight: number;
  timeoutS: number;
  prefix: string;
  /** REST only: `http://127.0.0.1:PORT`. */
  httpUrl?: string;
}

/** How long outstanding declares may still answer once the deadline has passed. */
const GRACE_MS = 5_000;
const PROGRESS_EVERY_MS = 5_000;

interface Driven {
  declared: number;
  failed: number;
  firstError?: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs `declare(i)` for i < count with `inFlight` outstanding, until done, the first failure (one
 * failure means the run measures something else, e.g. every request refused) or the deadline.
 */
async function drive(label: string, p: DriveParams, declare: (i: number) => Promise<void>): Promise<Driven> {
  const started = performance.now();
  const deadline = started + p.timeoutS * 1000;
  let next = 0;
  let declared = 0;
  let failed = 0;
  let firstError: string | undefined;
  let lastAnswer = started;
  const progress = setInterval(() => {
    process.stderr.write(`  [declares ${label}] ${declared}/${p.count} after ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }, PROGRESS_EVERY_MS);
  const worker = async (): Promise<void> => {
    while (next < p.count && failed === 0 && performance.now() < deadline) {
      const i = next++;
      try {
        await declare(i);
        declared++;
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      lastAnswer = performance.now();
    }
  };
  const workers = Promise.all(Array.from({ length: Math.max(1, p.inFlight) }, worker));
  // The deadline bounds the wait even if a declare never answers; the generator exits afterwards and
  // drops whatever is still outstanding.
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, p.timeoutS * 1000 + GRACE_MS)));
  await Promise.race([workers, expired]);
  clearTimeout(timer);
  clearInterval(progress);
  return {
    declared,
    failed,
    ...(firstError === undefined ? {} : { firstError }),
    timedOut: declared + failed < p.count && failed === 0,
    ms: lastAnswer - started,
  };
}

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** One request on the keep-alive agent; resolves with the status and (for errors) the body. */
function send(agent: Agent, url: string, method: string, body: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { authorization: GUEST, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const restJob: Job<DriveParams> = async ({ params: p, mark }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: p.inFlight });
  const base = `${p.httpUrl ?? ''}/api/queues/%2F/`;
  // The first request pays for the login (scrypt); the broker remembers it for the rest.
  const who = await send(agent, `${p.httpUrl ?? ''}/api/whoami`, 'GET', undefined);
  if (who.status !== 200) throw new Error(`GET /api/whoami answered ${who.status}: ${who.text}`);
  await mark('measure');
  const driven = await drive('rest', p, async (i) => {
    const name = `${p.prefix}${i}`;
    const { status, text } = await send(agent, base + encodeURIComponent(name), 'PUT', '{"durable":true}');
    if (status !== 201) throw new Error(`PUT ${name} answered ${status}: ${text.slice(0, 200)}`);
  });
  await mark('measured');
  agent.destroy();
  return { ...driven };
};

const wsJob: Job<DriveParams> = async ({ target, params: p, mark }) => {
  // Heartbeats off: the generator waits at marks while the runner reads the broker.
  const conn = await connect(target.url, { username: 'guest', password: 'guest', heartbeat: 0 });
  await mark('measure');
  const driven = await drive('ws', p, async (i) => {
    const name = `${p.prefix}${i}`;
    const reply = await conn.queueDeclare({ queue: name, durable: true });
    if (reply.queue !== name) throw new Error(`queue.declare ${name} answered for '${reply.queue}'`);
  });
  await mark('measured');
  return { ...driven };
};

export const declaresJobs = { 'declares-rest': restJob, 'declares-ws': wsJob };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The broker's storage writes once they have stopped growing: a store may still be writing the last
 * declares after their answers (a REST declare is answered before it is on disk).
 */
async function settledWrites(broker: BrokerProcess): Promise<number | undefined> {
  let last = broker.storageWriteBytes();
  for (let quiet = 0, waited = 0; quiet < 3 && waited < 10_000; waited += 100) {
    await sleep(100);
    const now = broker.storageWriteBytes();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** Bytes in the data dir's `definitions*` files (whatever form the store takes), temp files aside. */
function definitionsBytes(dataDir: string): number | null {
  let total: number | null = null;
  try {
    for (const entry of readdirSync(dataDir)) {
      if (!entry.startsWith('definitions') || entry.endsWith('.tmp')) continue;
      const stat = statSync(path.join(dataDir, entry));
      if (stat.isFile()) total = (total ?? 0) + stat.size;
    }
  } catch {
    return null;
  }
  return total;
}

async function runOne(env: RunEnv, via: 'rest' | 'ws', p: DeclaresParams): Promise<Line> {
  return withTarget(env, async (m) => {
    const broker = m.broker;
    if (!broker) throw new Error('the declares scenario measures Warren only');
    let writesBefore: number | undefined;
    let writesAfter: number | undefined;
    const params: DriveParams = {
      count: p.count,
      inFlight: via === 'rest' ? p.concurrency : p.window,
      timeoutS: p.timeoutS,
      prefix: `bench-declare-${via}-`,
      ...(via === 'rest' ? { httpUrl: broker.url } : {}),
    };
    const mm = await measure(
      m,
      `declares-${via}`,
      params,
      async (name) => {
        if (name === 'measure') writesBefore = broker.storageWriteBytes();
        if (name === 'measured') writesAfter = await settledWrites(broker);
      },
      // A backstop for a generator that stops answering; the job's own deadline normally ends it.
      (p.timeoutS + 120) * 1000,
    );
    const r = mm.result as unknown as Driven;
    const written = writesBefore === undefined || writesAfter === undefined ? undefined : writesAfter - writesBefore;
    const { concurrency, window, ...common } = p;
    return {
      key: via,
      params: { via, ...common, ...(via === 'rest' ? { concurrency } : { window }) },
      metrics: {
        declaresPerSec: rate(r.declared, r.ms),
        declared: r.declared,
        complete: r.declared === p.count,
        bytesWrittenPerDeclare: written === undefined || r.declared === 0 ? null : Math.round(written / r.declared),
        writtenMiB: toMiB(written) ?? null,
        definitionsBytes: definitionsBytes(broker.dataDir),
        cpuPct: { broker: mm.brokerCpuPct, generator: mm.generatorCpuPct },
        brokerRssMiB: mm.brokerRssMiB,
        durationMs: Math.round(r.ms),
        ...(r.timedOut ? { timedOut: true, note: `stopped at the ${p.timeoutS} s deadline after ${r.declared} of ${p.count}` } : {}),
        ...(r.failed > 0 ? { failed: r.failed, firstError: r.firstError } : {}),
      },
    };
  });
}

export const declares: Scenario = {
  id: '9',
  name: 'declares',
  title: '10,000 durable queue declares over REST and over the WebSocket: declares/s and bytes written per declare',
  headline: 'declaresPerSec',
  params: (o) => ({
    count: num(o, 'count', 10_000, 2_000),
    concurrency: num(o, 'concurrency', 16),
    window: num(o, 'window', 100),
    timeoutS: num(o, 'timeout', 300),
  }),
  run: async (env, p) => {
    const params = p as DeclaresParams;
    return [await runOne(env, 'rest', params), await runOne(env, 'ws', params)];
  },
};
