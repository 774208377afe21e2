/**
 * Scenario 7: many idle connections. Opens `connections` WebSocket connections with the bundled
 * client's `connect` (full handshake, default heartbeat), `concurrency` at a time, holds them, and
 * reports the broker's RSS per connection: (RSS with them − RSS before) / N. "Before" is measured after
 * a warm-up round of connections (so lazy start-up costs and the scrypt threads' arenas are not
 * charged to the connections).
 */
import { connect, type WarrenConnection } from '../../src/client/index.js';
import type { Job, JobParams } from '../load/job.js';
import { rate } from '../load/patterns.js';
import { Samples } from '../lib/stats.js';
import { toMiB } from '../lib/procfs.js';
import { measure, num, startWarren, type Measured, type Scenario } from './common.js';

interface ConnectionsParams extends JobParams {
  connections: number;
  concurrency: number;
}

export const connectionsJob: Job<ConnectionsParams> = async ({ target, params: p, mark }) => {
  const held: WarrenConnection[] = [];
  const connectMs = new Samples();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  let droppedWhileHeld = 0;
  await mark('measure');
  const started = performance.now();
  // Connects in stages (a fifth, then the rest), holding at each so the runner can read the RSS.
  for (const upTo of [Math.round(p.connections / 5), p.connections]) {
    const worker = async (): Promise<void> => {
      while (next < upTo) {
        next++;
        const t = performance.now();
        try {
          const conn = await connect(target.url, { username: 'guest', password: 'guest' });
          connectMs.add(performance.now() - t);
          held.push(conn);
          void conn.closed.then(() => droppedWhileHeld++);
        } catch (error) {
          // One refused or dropped handshake (e.g. the 10 s handshake timeout on a starved machine) is
          // counted, not fatal.
          failed++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, p.concurrency) }, worker));
    if (upTo === p.connections) await mark('measured');
    await mark('connected', { count: held.length });
  }
  const ms = performance.now() - started;
  return {
    connected: held.length,
    connectsPerSec: rate(held.length, ms),
    connectLatency: connectMs.percentiles(),
    failed,
    droppedWhileHeld,
    ...(firstError ? { firstError } : {}),
  };
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const connections: Scenario = {
  id: '7',
  name: 'connections',
  title: 'many idle WebSocket connections: broker RSS per connection',
  params: (o) => ({
    connections: num(o, 'connections', 5000, 1000),
    concurrency: num(o, 'concurrency', 32),
  }),
  run: async (env, p) => {
    const params = p as ConnectionsParams;
    const broker = await startWarren(env.options);
    const at: Measured = { target: { kind: 'warren', url: broker.wsUrl }, pid: broker.pid, broker };
    try {
      await measure(at, 'connections', { connections: 2 * params.concurrency, concurrency: params.concurrency });
      await sleep(3000);
      const before = broker.rss() ?? 0;
      const rssAt: Array<{ count: number; rss: number }> = [];
      const mm = await measure(at, 'connections', params, async (name, data) => {
        if (name !== 'connected') return;
        await sleep(3000);
        rssAt.push({ count: (data as { count: number }).count, rss: broker.rss() ?? 0 });
      });
      await sleep(3000);
      const afterClose = broker.rss();
      const [fifth, all] = rssAt as [{ count: number; rss: number }, { count: number; rss: number }];
      const kib = (bytes: number, n: number): number => Math.round((bytes / n / 1024) * 10) / 10;
      return [
        {
          key: 'all',
          params,
          metrics: {
            // (RSS with N connections − RSS before) / N, as the target defines it …
            kibPerConnection: kib(all.rss - before, all.count),
            // … and the slope between N/5 and N connections, less sensitive to heap and arena noise.
            kibPerConnectionSlope: kib(all.rss - fifth.rss, all.count - fifth.count),
            rssBeforeMiB: toMiB(before),
            rssAtFifthMiB: toMiB(fifth.rss),
            rssWithConnectionsMiB: toMiB(all.rss),
            rssAfterCloseMiB: toMiB(afterClose),
            brokerRssMiB: { peak: toMiB(broker.peakRss()), end: toMiB(all.rss) },
            connectsPerSec: mm.result.connectsPerSec,
            connectLatency: mm.result.connectLatency,
            failedConnects: mm.result.failed,
            droppedWhileHeld: mm.result.droppedWhileHeld,
            ...(mm.result.firstError ? { note: `first failure: ${String(mm.result.firstError)}` } : {}),
            cpuPct: { broker: mm.brokerCpuPct, generator: mm.generatorCpuPct },
          },
        },
      ];
    } finally {
      await broker.dispose();
    }
  },
};
