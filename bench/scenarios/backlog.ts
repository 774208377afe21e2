/**
 * Scenario 6: a backlog of `count` persistent 1 KiB messages in a durable queue. Fills it (confirms,
 * `fillWindow` in flight), reads the broker's RSS, restarts the broker on the same data dir (recovery
 * time = spawn → `listening on`), checks how many messages came back, then drains the queue with one
 * consumer (prefetch, ack `multiple` every N) and reports the drain rate. If the backlog did not
 * survive the restart, it is filled again so the drain is still measured (and the line says so).
 */
import { open } from '../load/adapter.js';
import type { Job, JobParams } from '../load/job.js';
import { AckingConsumer, confirmWindowPublisher, rate } from '../load/patterns.js';
import { toMiB } from '../lib/procfs.js';
import { measure, num, startWarren, type Measured, type Scenario } from './common.js';

/** Idle time after the fill before RSS is read again. */
const SETTLE_MS = 10_000;

interface BacklogParams extends JobParams {
  queue: string;
  count: number;
  size: number;
  fillWindow: number;
  prefetch: number;
  ackEvery: number;
}

const fillJob: Job<BacklogParams> = async ({ target, params: p, mark }) => {
  const conn = await open(target);
  await conn.declareQueue(p.queue, { durable: true });
  await mark('measure');
  const started = performance.now();
  await confirmWindowPublisher({ conn, exchange: '', routingKey: p.queue, count: p.count, size: p.size, persistent: true }, p.fillWindow);
  const ms = performance.now() - started;
  await mark('measured');
  const queued = await conn.messageCount(p.queue);
  await conn.close();
  return { msgsPerSec: rate(p.count, ms), queued };
};

const countJob: Job<BacklogParams> = async ({ target, params: p }) => {
  const conn = await open(target);
  const queued = await conn.messageCount(p.queue);
  await conn.close();
  return { queued: queued ?? null };
};

const drainJob: Job<BacklogParams> = async ({ target, params: p, mark }) => {
  const conn = await open(target);
  const consumer = new AckingConsumer(conn, p.ackEvery, p.prefetch);
  await mark('measure');
  const started = performance.now();
  await consumer.start(p.queue, p.prefetch);
  await consumer.reached(p.count);
  const ms = performance.now() - started;
  await mark('measured');
  consumer.flushAcks();
  await conn.close();
  return { msgsPerSec: rate(p.count, ms) };
};

export const backlogJobs = { fill: fillJob, count: countJob, drain: drainJob };

export const backlog: Scenario = {
  id: '6',
  name: 'backlog',
  title: 'backlog of persistent 1 KiB messages in a durable queue: RSS, recovery time, drain rate',
  params: (o) => ({
    queue: 'bench-backlog',
    count: num(o, 'backlog', 1_000_000, 100_000),
    size: num(o, 'size', 1024),
    fillWindow: num(o, 'fill-window', 500),
    prefetch: num(o, 'prefetch', 100),
    ackEvery: num(o, 'ack-every', 50),
  }),
  run: async (env, p) => {
    const params = p as BacklogParams;
    let broker = await startWarren(env.options);
    const at = (): Measured => ({ target: { kind: 'warren', url: broker.wsUrl }, pid: broker.pid, broker });
    try {
      const fill = await measure(at(), 'fill', params);
      const rssFilled = fill.brokerRssMiB;
      // The same backlog once the broker has been idle a while: what it holds, not the fill's garbage.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const rssSettled = toMiB(broker.rss());
      const { logLevel, cpuProfDir, brokerNodeArgs: nodeArgs } = env.options;
      broker = await broker.restart({ logLevel, cpuProfDir, nodeArgs });
      const recoveryMs = broker.startupMs;
      const rssRecovered = toMiB(broker.rss());
      const recovered = (await measure(at(), 'count', params)).result.queued as number | null;
      const notes: string[] = [];
      let toDrain = recovered ?? 0;
      if (toDrain < params.count) {
        notes.push(`recovered ${recovered ?? 'no queue'} of ${params.count} messages: refilled before draining`);
        toDrain = ((await measure(at(), 'fill', params)).result.queued as number | undefined) ?? params.count;
      }
      const drain = await measure(at(), 'drain', { ...params, count: toDrain });
      const { queue: _queue, ...shown } = params;
      return [
        {
          key: 'all',
          params: shown,
          metrics: {
            msgsPerSec: drain.result.msgsPerSec,
            fillMsgsPerSec: fill.result.msgsPerSec,
            brokerRssMiB: { peak: rssFilled.peak, end: rssFilled.end, settled: rssSettled },
            rssPerMessageBytes: rssFilled.end === undefined ? undefined : Math.round((rssFilled.end * 2 ** 20) / params.count),
            fillDiskWriteMiB: fill.diskWriteMiB,
            recoveryMs,
            recovered: recovered ?? 0,
            rssAfterRecoveryMiB: rssRecovered,
            drainRssPeakMiB: drain.brokerRssMiB.peak,
            cpuPct: { fillBroker: fill.brokerCpuPct, drainBroker: drain.brokerCpuPct },
            ...(notes.length ? { note: notes.join('; ') } : {}),
          },
        },
      ];
    } finally {
      await broker.dispose();
    }
  },
};
