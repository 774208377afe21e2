// The leader cut off from etcd, and only from etcd (docs/cluster.md, faults: "a cut link … node↔etcd"):
// its followers and clients still reach it, but its lease keep-alives cannot. It must lose the lease
// within the TTL, confirm nothing after that on any connection it served, and let a follower lead;
// once the link heals it follows the new leader and rejoins the ISR. Nothing confirmed is lost.
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { skipReason as etcdSkipReason } from './etcd-server.js';
import { clusterSkipReason } from './harness/cluster-processes.js';
import { allInSync, confirmsOnConnectionsOpenedBefore, nodeTails, startLoadedCluster, verdict, type LoadedCluster } from './harness/fault-run.js';

const skip = etcdSkipReason ?? clusterSkipReason();
const TTL = 3;
const flags = { leaseTtl: TTL, minInsync: 2, extraArgs: ['--replica-ack-timeout', '2000'], etcdLinks: true };

let run: LoadedCluster | undefined;

afterEach(async () => {
  await run?.driver.close();
  await run?.cluster.stop();
  run = undefined;
});

describe.skipIf(skip !== undefined)(`the leader's link to etcd${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it.each(['cut', 'blackhole'] as const)('%s: the leader loses its lease and confirms nothing after it, a follower leads, the old one rejoins once healed', async (fault) => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    onTestFailed(() => console.log(nodeTails(cluster)));
    const link = leader.etcdLink;
    if (!link) throw new Error('the cluster was started without etcd links');
    const from = leader.process.lines.length;
    const faultAt = Date.now();
    if (fault === 'cut') link.cut();
    else link.blackhole();
    // Every keep-alive it sent before the fault was sent before faultAt: the lease it can count on
    // ends before faultAt + TTL, and so must its confirms.
    const leaseDeadline = faultAt + TTL * 1000;
    await leader.process.waitForLog(/cluster: no longer leader/, { from, timeoutMs: 30_000 });
    const next = await cluster.leader({ excluding: [leader] });
    expect(next).not.toBe(leader);
    await driver.confirmsSince(leaseDeadline, 200, 60_000);
    link.heal();
    await allInSync(cluster);
    expect(cluster.lastRole(leader)).toMatchObject({ leader: false });
    const journal = await driver.drain();
    // The old leader's connections did confirm (before the fault), and nothing after its lease.
    expect(confirmsOnConnectionsOpenedBefore(journal, faultAt, 0).length).toBeGreaterThan(0);
    expect(confirmsOnConnectionsOpenedBefore(journal, faultAt, leaseDeadline)).toEqual([]);
    const { counts, detail } = verdict(journal);
    expect(counts, detail).toMatchObject({ lost: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
    expect(counts.confirmed).toBeGreaterThan(0);
  }, 120_000);
});
