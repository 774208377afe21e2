// A follower's disk fills (docs/cluster.md, faults: "a follower's disk filled"): its data dir is a small
// tmpfs, and a backlog nobody consumes outgrows it. Its writes fail with ENOSPC, so it can no longer ack:
// it must leave the ISR while the leader keeps confirming with the other follower (min-insync 2 of 3).
// Once the tmpfs is made bigger it catches up and rejoins the ISR by itself; nothing confirmed is lost.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { skipReason as etcdSkipReason } from './etcd-server.js';
import { declareDurableQueues, publishConfirmed, spread } from './harness/backlog.js';
import { clusterSkipReason, type ClusterNode } from './harness/cluster-processes.js';
import { allInSync, inSync, nodeTails, startLoadedCluster, verdict, type LoadedCluster } from './harness/fault-run.js';

function mount(args: readonly string[]): string | undefined {
  const result = spawnSync('mount', args, { encoding: 'utf8' });
  if (result.error) return result.error.message;
  return result.status === 0 ? undefined : (result.stderr || `mount exited with ${result.status}`).trim();
}

function unmount(dir: string): void {
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Why a tmpfs cannot be mounted here (not root, no mount(8), a container without the capability). */
function tmpfsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'warren-tmpfs-probe-'));
  try {
    const failed = mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    if (failed) return `cannot mount a tmpfs: ${failed}`;
    unmount(probe);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const skip = etcdSkipReason ?? clusterSkipReason() ?? tmpfsSkipReason();
const SMALL = '8m';
const BIG = '64m';
/** Over the small tmpfs by half: every node must hold all of it, nobody consumes it. */
const BALLAST = { messages: 384, bodyBytes: 32 * 1024 };
const WRITE_FAILED = /cluster: link to \S+ ended: could not write the replica: ENOSPC/;
const flags = {
  leaseTtl: 3,
  minInsync: 2,
  // The default --replica-ack-timeout (5 s): the full follower leaves the ISR at once anyway (it ends its
  // link on the failed write), and the ballast's burst must not push the other one out for a slow fsync.
  extraArgs: ['--segment-size', String(1024 * 1024)],
};

let run: LoadedCluster | undefined;
let mounted: { node: ClusterNode; dir: string } | undefined;

afterEach(async () => {
  await run?.driver.close();
  if (mounted) {
    // The node goes first: a mount in use cannot be taken away cleanly.
    mounted.node.process.kill('SIGCONT');
    mounted.node.process.kill('SIGKILL');
    await mounted.node.process.exited();
    unmount(mounted.dir);
    mounted = undefined;
  }
  await run?.cluster.stop();
  run = undefined;
});

describe.skipIf(skip !== undefined)(`a follower's disk fills${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('the follower leaves the ISR, the leader confirms with the other; given room, it catches up and rejoins', async () => {
    run = await startLoadedCluster(flags);
    const { cluster, driver, leader } = run;
    onTestFailed(() => console.log(nodeTails(cluster)));
    const [follower, other] = cluster.followers(leader);
    if (!follower || !other) throw new Error('two followers expected');
    const id = follower.process.id;

    // Its data dir becomes a small tmpfs; it starts again on it, empty, and catches up from nothing.
    follower.process.kill('SIGKILL');
    await follower.process.exited();
    const failed = mount(['-t', 'tmpfs', '-o', `size=${SMALL}`, 'tmpfs', follower.process.dataDir]);
    if (failed) throw new Error(`mount: ${failed}`);
    mounted = { node: follower, dir: follower.process.dataDir };
    await follower.process.start();
    await inSync(follower);
    await allInSync(cluster);

    const leaderUrl = leader.process.endpoint().amqpUrl;
    await declareDurableQueues(leaderUrl, ['ballast']);
    await publishConfirmed(leaderUrl, spread(['ballast'], BALLAST.messages, BALLAST.bodyBytes), 32);

    // The link ends on the failed write; the follower dials again and its catch-up fails the same way.
    // Both are waited for, so what it recovers from below is a catch-up cut short by a full disk.
    const firstFailure = await follower.process.waitForLog(WRITE_FAILED, { timeoutMs: 30_000 });
    const failedAt = follower.process.lines.indexOf(firstFailure.input);
    await follower.process.waitForLog(WRITE_FAILED, { from: failedAt + 1, timeoutMs: 30_000 });
    const isr = await cluster.waitForIsr((members) => !members.includes(id));
    expect([...isr].sort()).toEqual([leader.process.id, other.process.id].sort());
    const outAt = Date.now();
    await driver.confirmsSince(outAt, 200, 60_000);

    // A full disk never passed for in sync.
    expect(follower.process.lines.slice(failedAt).filter((line) => /cluster: in sync with/.test(line))).toEqual([]);
    const grown = mount(['-o', `remount,size=${BIG}`, follower.process.dataDir]);
    if (grown) throw new Error(`remount: ${grown}`);
    await allInSync(cluster);
    expect(await cluster.leader()).toBe(leader);
    // In the ISR means it holds what the leader holds: the ballast that did not fit before.
    const disk = await statfs(follower.process.dataDir);
    expect((disk.blocks - disk.bfree) * disk.bsize).toBeGreaterThan(BALLAST.messages * BALLAST.bodyBytes);

    const { counts, detail } = verdict(await driver.drain());
    expect(counts, detail).toMatchObject({ lost: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
    expect(counts.confirmed).toBeGreaterThan(0);
  }, 120_000);
});
