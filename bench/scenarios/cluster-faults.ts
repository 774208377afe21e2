/**
 * Scenario 13: cluster faults (docs/cluster.md "Failure-test harness"). Not in the default run (it
 * needs etcd and a build with `--cluster`): `npm run bench -- --scenario=cluster-faults --repeat=1`.
 *
 * 1. Faults: 3 etcd members and 3 Warren nodes (`--min-insync 2`) under a steady confirmed load from
 *    the test harness's load driver (test/cluster/harness/, in this process: the faults and the
 *    journal need one clock). `--kills` times (20) at a seeded random moment (`--seed`, gaps of
 *    `--gap-min`–`--gap-max` ms) the leader is killed -9, the first confirm on a connection opened
 *    after the kill times the failover, and the killed node is restarted and waits to be in sync
 *    before the next kill. Then the load drains and the checker reports: confirmed messages lost,
 *    duplicates (flagged redelivered / unflagged / the publisher's own re-sends), acked messages back,
 *    order violations.
 * 2. Throughput: a fresh 3-node cluster, then a 1-node one (`--min-insync 1`), each driven flat out
 *    (`--window` unconfirmed, persistent 64 B messages in 4 queues) for `--duration` seconds;
 *    confirmed msgs/s of each.
 */
import { percentiles } from '../lib/stats.js';
import { prng } from '../../test/helpers/prng.js';
import { ClusterProcesses, clusterSkipReason } from '../../test/cluster/harness/cluster-processes.js';
import { allInSync, startLoadedCluster, verdict } from '../../test/cluster/harness/fault-run.js';
import { LoadDriver } from '../../test/cluster/harness/load-driver.js';
import type { JobParams } from '../load/job.js';
import { num, type Scenario } from './common.js';

interface FaultParams extends JobParams {
  kills: number;
  seed: number;
  gapMinMs: number;
  gapMaxMs: number;
  leaseTtl: number;
  rate: number;
  durationSec: number;
  window: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function faultPhase(p: FaultParams): Promise<Record<string, unknown>> {
  const random = prng(p.seed);
  const run = await startLoadedCluster({ leaseTtl: p.leaseTtl, minInsync: 2, extraArgs: ['--replica-ack-timeout', '2000'], ratePerSec: p.rate });
  const { cluster, driver } = run;
  const failoverMs: number[] = [];
  try {
    for (let i = 0; i < p.kills; i++) {
      await sleep(p.gapMinMs + random() * (p.gapMaxMs - p.gapMinMs));
      const leader = await cluster.leader({ timeoutMs: 60_000 });
      const killedAt = Date.now();
      leader.process.kill('SIGKILL');
      process.stderr.write(`  kill ${i + 1}/${p.kills}: ${leader.process.id}\n`);
      // Every connection ends with its leader (tunnels close on a change): the first confirm on a
      // connection opened after the kill is the new leader's.
      const first = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no confirm within 60 s of kill ${i + 1}`)), 60_000);
        const fresh = (label: string | undefined): boolean => driver.journal.connections.some((c) => c.label === label && c.openedAt >= killedAt);
        const unsubscribe = driver.publisher.onConfirm((record) => {
          if (record.at < killedAt || !fresh(record.connection)) return;
          clearTimeout(timer);
          unsubscribe();
          resolve(record.at);
        });
      });
      failoverMs.push(first - killedAt);
      process.stderr.write(`    first confirm after ${first - killedAt} ms; restarting ${leader.process.id}\n`);
      await leader.process.start();
      await allInSync(cluster);
    }
    process.stderr.write('  draining\n');
    const { report, counts } = verdict(await driver.drain(120_000));
    const failover = percentiles(failoverMs);
    return {
      kills: p.kills,
      confirmed: counts.confirmed,
      lost: report.lost.length,
      duplicates: {
        flagged: report.duplicates.filter((d) => d.redelivered).length,
        unflagged: report.unflaggedDuplicates.length,
        republished: report.republishedCopies.length,
      },
      ackedThenBack: report.ackedThenBack.length,
      orderViolations: report.orderViolations.length,
      failoverMs: failover ? { p50: failover.p50, max: failover.max, n: failover.n } : null,
    };
  } finally {
    await driver.close();
    await cluster.stop();
  }
}

async function confirmedRate(nodes: 1 | 3, p: FaultParams): Promise<number> {
  const cluster = await ClusterProcesses.start({ nodes, etcdMembers: nodes, leaseTtl: p.leaseTtl, minInsync: nodes === 1 ? 1 : 2 });
  const queues = ['rate-q1', 'rate-q2', 'rate-q3', 'rate-q4'];
  let driver: LoadDriver | undefined;
  try {
    await cluster.leader({ timeoutMs: 60_000 });
    await allInSync(cluster);
    driver = await LoadDriver.start({ endpoints: () => cluster.endpoints(), queues, ratePerSec: 1_000_000, maxInFlight: p.window });
    const first = await driver.confirmsSince(0, 1, 60_000);
    const from = first.at + 1000;
    await sleep(from + p.durationSec * 1000 - Date.now());
    const to = Date.now();
    const count = driver.journal.confirms.filter((c) => c.at >= from && c.at < to).length;
    return Math.round(count / ((to - from) / 1000));
  } finally {
    await driver?.close();
    await cluster.stop();
  }
}

export const clusterFaults: Scenario = {
  id: '13',
  name: 'cluster-faults',
  title: '3 etcd + 3 nodes: kill -9 of the leader at random moments under confirmed load; 3 nodes vs 1 throughput',
  explicitOnly: true,
  headline: 'lost',
  params: (o) => ({
    kills: num(o, 'kills', 20, 3),
    seed: num(o, 'seed', 1),
    gapMinMs: num(o, 'gap-min', 1000),
    gapMaxMs: num(o, 'gap-max', 4000),
    leaseTtl: num(o, 'lease-ttl', 3),
    rate: num(o, 'rate', 500),
    durationSec: num(o, 'duration', 20, 5),
    window: num(o, 'window', 500),
  }),
  run: async (env, params) => {
    if (env.target !== 'warren') throw new Error('cluster-faults runs against Warren only');
    const skip = clusterSkipReason();
    if (skip) throw new Error(skip);
    const p = params as FaultParams;
    const faults = await faultPhase(p);
    const threeNodes = await confirmedRate(3, p);
    const oneNode = await confirmedRate(1, p);
    return [{
      key: 'all',
      params,
      metrics: { ...faults, msgsPerSec: threeNodes, oneNodeMsgsPerSec: oneNode, threeVsOne: oneNode > 0 ? Math.round((threeNodes / oneNode) * 1000) / 1000 : null },
    }];
  },
};
