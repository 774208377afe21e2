// The cluster's quick failure cases (docs/cluster.md "Failure-test harness"): 3 etcd members and 3
// Warren processes on loopback, under load from a reconnecting at-least-once driver; after each fault
// the checker must find nothing confirmed lost, no unflagged duplicate, no acked message back, no
// queue out of order — and confirms must go on after the fault. The 20-kill matrix is the bench
// scenario cluster-faults.
import { afterEach, describe, expect, it } from 'vitest';
import { raftLeader, skipReason as etcdSkipReason } from './etcd-server.js';
import { clusterSkipReason } from './harness/cluster-processes.js';
import { confirmsOnConnectionsOpenedBefore, startLoadedCluster, verdict, type LoadedCluster } from './harness/fault-run.js';

const skip = etcdSkipReason ?? clusterSkipReason();
const TTL = 3;
/** Faster than the 5 s default, so a lost follower leaves the ISR sooner. */
const flags = { leaseTtl: TTL, minInsync: 2, extraArgs: ['--replica-ack-timeout', '2000'] };

let run: LoadedCluster | undefined;

afterEach(async () => {
  await run?.driver.close();
  await run?.cluster.stop();
  run = undefined;
});

function expectClean(journal: Parameters<typeof verdict>[0]): void {
  const { counts, detail } = verdict(journal);
  expect(counts, detail).toMatchObject({ lost: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
  expect(counts.confirmed).toBeGreaterThan(0);
}

describe.skipIf(skip !== undefined)(`cluster failover under load${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('kill -9 of the leader: another node leads, confirms go on, nothing confirmed is lost', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    const killedAt = Date.now();
    leader.process.kill('SIGKILL');
    const next = await cluster.leader({ excluding: [leader] });
    expect(next).not.toBe(leader);
    await driver.confirmsSince(killedAt, 200, 60_000);
    expectClean(await driver.drain());
  }, 180_000);

  it('kill -9 of a follower: the leader drops it from the ISR and confirms go on (min-insync 2 of 3)', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    const [follower] = cluster.followers(leader);
    if (!follower) throw new Error('no follower');
    const killedAt = Date.now();
    follower.process.kill('SIGKILL');
    await cluster.waitForIsr((isr) => !isr.includes(follower.process.id));
    await driver.confirmsSince(killedAt, 300, 60_000);
    expect(await cluster.leader()).toBe(leader);
    expectClean(await driver.drain());
  }, 180_000);

  it('SIGSTOP of a follower: confirms go on without it (dropped after --replica-ack-timeout); after SIGCONT it catches up', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    const [follower] = cluster.followers(leader);
    if (!follower) throw new Error('no follower');
    const id = follower.process.id;
    const stoppedAt = Date.now();
    follower.process.kill('SIGSTOP');
    await cluster.waitForIsr((isr) => !isr.includes(id));
    await driver.confirmsSince(stoppedAt, 300, 60_000);
    follower.process.kill('SIGCONT');
    await cluster.waitForIsr((isr) => isr.includes(id));
    expect(await cluster.leader()).toBe(leader);
    expectClean(await driver.drain());
  }, 180_000);

  it('SIGSTOP of the leader past its lease, then SIGCONT: a new leader confirms, the old one confirms nothing after its lease', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    const stoppedAt = Date.now();
    leader.process.kill('SIGSTOP');
    const next = await cluster.leader({ excluding: [leader] });
    expect(next).not.toBe(leader);
    await driver.confirmsSince(stoppedAt, 200, 60_000);
    const resumedAt = Date.now();
    leader.process.kill('SIGCONT');
    // Give the old leader's connections time to act after resuming: confirms keep flowing meanwhile.
    await driver.confirmsSince(resumedAt, 300, 60_000);
    const journal = await driver.drain();
    const leaseDeadline = stoppedAt + TTL * 1000;
    expect(confirmsOnConnectionsOpenedBefore(journal, stoppedAt, leaseDeadline)).toEqual([]);
    expectClean(journal);
  }, 180_000);

  it('kill -9 of one etcd member of 3 (the raft leader): confirms go on, nothing is lost', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver } = run;
    const member = await raftLeader(cluster.etcd);
    const killedAt = Date.now();
    member.process.kill('SIGKILL');
    await driver.confirmsSince(killedAt, 300, 60_000);
    await cluster.leader();
    expectClean(await driver.drain());
  }, 180_000);

  it.each(['cut', 'blackhole'] as const)('the leader↔followers link %s, then healed: followers catch up, confirms resume, nothing is lost', async (fault) => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    const followers = cluster.followers(leader);
    const { proxy } = leader;
    const acceptedBefore = proxy.accepted;
    if (fault === 'cut') proxy.cut();
    else proxy.blackhole();
    // The fault is felt before it heals: at the proxy (followers dialled again / bytes vanished), and
    // by the publisher — the leader, without its followers past --replica-ack-timeout, refuses
    // publishes (506 closes the channel), or the publisher's tunnel through a follower died.
    const faultAt = Date.now();
    const publisherHit = (): boolean => driver.journal.connections.some((c) => c.role === 'publisher' && (c.closedAt ?? 0) >= faultAt);
    const felt = (): boolean => publisherHit() && (fault === 'cut' ? proxy.accepted > acceptedBefore : proxy.droppedBytes > 0);
    const until = Date.now() + 60_000;
    while (!felt()) {
      if (Date.now() > until) throw new Error(`the ${fault} was never felt: accepted ${proxy.accepted}, dropped ${proxy.droppedBytes}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const healedAt = Date.now();
    proxy.heal();
    await cluster.waitForIsr((isr) => followers.every((f) => isr.includes(f.process.id)));
    await driver.confirmsSince(healedAt, 200, 60_000);
    expectClean(await driver.drain());
  }, 180_000);
});
