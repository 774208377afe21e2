// A leader whose disk stops answering (LavinMQ's zombie leader on a stalled disk, docs/cluster.md): its
// data dir is an ext4 file system on a loop device, frozen with fsfreeze(8) under load, so its writes and
// fsyncs hang in the kernel while its lease worker stays healthy. The worker sees a write in flight past
// --disk-stall-timeout and gives the lease up: another node leads and confirms go on, the stalled one
// confirms nothing more, and once the disk answers again it follows and rejoins the ISR.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { skipReason as etcdSkipReason } from './etcd-server.js';
import { clusterSkipReason, type ClusterNode } from './harness/cluster-processes.js';
import { allInSync, confirmsOnConnectionsOpenedBefore, inSync, nodeTails, startLoadedCluster, verdict, type LoadedCluster } from './harness/fault-run.js';

function run(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return `${command}: ${result.error.message}`;
  return result.status === 0 ? undefined : `${command} ${args.join(' ')}: ${(result.stderr || `exit ${result.status}`).trim()}`;
}

/** An ext4 image mounted on `dir` through a loop device. */
function mountImage(image: string, dir: string): string | undefined {
  // Sparse, and above the default --disk-free-limit (50 MiB) with room to spare.
  return run('truncate', ['-s', '512M', image]) ?? run('mkfs.ext4', ['-q', '-F', image]) ?? run('mount', ['-o', 'loop', image, dir]);
}

function unmount(dir: string): void {
  spawnSync('fsfreeze', ['-u', dir]);
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Why a frozen file system cannot be made here (not root, no loop devices, no fsfreeze). */
function freezeSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'loop mounts and fsfreeze need root';
  const probe = mkdtempSync(join(tmpdir(), 'warren-freeze-probe-'));
  const dir = join(probe, 'mnt');
  try {
    const failed = run('mkdir', [dir]) ?? mountImage(join(probe, 'disk.img'), dir) ?? run('fsfreeze', ['-f', dir]) ?? run('fsfreeze', ['-u', dir]);
    return failed === undefined ? undefined : `cannot freeze a loop-mounted file system: ${failed}`;
  } finally {
    unmount(dir);
    rmSync(probe, { recursive: true, force: true });
  }
}

const skip = etcdSkipReason ?? clusterSkipReason() ?? freezeSkipReason();
const STALL_MS = 2000;
const flags = { leaseTtl: 3, minInsync: 2, extraArgs: ['--disk-stall-timeout', String(STALL_MS)] };

let loaded: LoadedCluster | undefined;
let mounted: { node: ClusterNode; dir: string; image: string } | undefined;

afterEach(async () => {
  // Thawed first, whatever happened: a process in a frozen write cannot even be killed.
  if (mounted) spawnSync('fsfreeze', ['-u', mounted.dir]);
  await loaded?.driver.close();
  if (mounted) {
    mounted.node.process.kill('SIGKILL');
    await mounted.node.process.exited();
    unmount(mounted.dir);
    rmSync(mounted.image, { force: true });
    mounted = undefined;
  }
  await loaded?.cluster.stop();
  loaded = undefined;
});

describe.skipIf(skip !== undefined)(`a leader's disk stops answering${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('the leader gives up its lease, another leads and confirms; the stalled one confirms nothing, then rejoins', async () => {
    loaded = await startLoadedCluster(flags);
    const { cluster, driver } = loaded;
    onTestFailed(() => console.log(nodeTails(cluster)));

    // One node's data dir moves onto a file system that can be frozen; it starts again there, empty.
    const chosen = cluster.followers(await cluster.leader())[0];
    if (!chosen) throw new Error('a follower expected');
    chosen.process.kill('SIGKILL');
    await chosen.process.exited();
    const image = join(tmpdir(), `warren-stall-${process.pid}-${chosen.process.id}.img`);
    const failed = mountImage(image, chosen.process.dataDir);
    if (failed) throw new Error(failed);
    mounted = { node: chosen, dir: chosen.process.dataDir, image };
    await chosen.process.start();
    await inSync(chosen);
    await allInSync(cluster);

    // It must lead: the others are killed in turn (each restarted and caught up) until it wins.
    for (let attempt = 0; ; attempt++) {
      const leader = await cluster.leader();
      if (leader === chosen) break;
      if (attempt === 6) throw new Error(`${chosen.process.id} never won an election`);
      leader.process.kill('SIGKILL');
      await cluster.leader({ excluding: [leader], timeoutMs: 60_000 });
      await leader.process.start();
      await allInSync(cluster);
    }
    const opened = Date.now();
    await driver.confirmsSince(opened, 100, 60_000);

    const frozenAt = Date.now();
    const frozen = run('fsfreeze', ['-f', mounted.dir]);
    if (frozen) throw new Error(frozen);
    // Nothing else failed: its lease worker gave the lease up because a write hung past the limit (the
    // node may hear it first as its leader key gone, which goes with the lease).
    await chosen.process.waitForLog(/no longer leader/, { from: chosen.process.incarnationStart, timeoutMs: 30_000 });
    const next = await cluster.leader({ excluding: [chosen], timeoutMs: 60_000 });
    expect(next).not.toBe(chosen);
    await driver.confirmsSince(Date.now(), 100, 60_000);
    const thawedAt = Date.now();
    run('fsfreeze', ['-u', mounted.dir]);

    // Whatever the stalled leader had fsynced before the freeze was confirmed at once; after that it
    // could confirm nothing (no fsync completed), and after the thaw it was no longer leader.
    const journal = driver.journal.snapshot();
    expect(confirmsOnConnectionsOpenedBefore(journal, frozenAt, frozenAt + 1000)).toEqual([]);
    expect(thawedAt).toBeGreaterThan(frozenAt);

    // Given its disk back, it follows the new leader and catches up — after a restart if its server
    // could not close in time and the process gave up (exit 70, as docs/cluster.md says).
    if (!chosen.process.running) {
      await chosen.process.exited();
      await chosen.process.start();
    }
    await allInSync(cluster, 90_000);
    expect(await cluster.leader()).toBe(next);
    const { counts, detail } = verdict(await driver.drain());
    expect(counts, detail).toMatchObject({ lost: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
    expect(counts.confirmed).toBeGreaterThan(0);
  }, 240_000);
});
