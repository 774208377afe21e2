// Replication through the real cluster port (helper P's cluster-port.ts): the handshake, then the
// Follower's default connect and the Replicator's acceptReplica. Skips itself while cluster-port.ts is
// not in this branch (it is loaded by path so that this file builds without it).
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Follower } from '../../src/cluster/follower.js';
import type { ClusterLog } from '../../src/cluster/cluster-log.js';
import { Replicator } from '../../src/cluster/replicator.js';
import { expectSameFiles, FakeIsr, LeaderDisk, randomBytes, recordingLog, removeDirs, segment, tempDir, writeFiles } from './replication-fixture.js';

interface ClusterPortModule {
  ClusterPortListener: new (o: {
    nodeId: string;
    secret: Buffer;
    epoch: () => string;
    log: ClusterLog;
    onReplica(socket: Socket, peerNodeId: string, leftover: Buffer): void;
    onTunnel(socket: Socket): void;
  }) => { listen(host: string, port: number): Promise<number>; close(): Promise<void> };
}

async function loadClusterPort(): Promise<ClusterPortModule | undefined> {
  const path = '../../src/cluster/cluster-port.js';
  try {
    return (await import(path)) as ClusterPortModule;
  } catch {
    return undefined;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('replication over the cluster port', () => {
  it('a follower authenticates, catches up, enters the ISR and follows live writes', async (context) => {
    const port = await loadClusterPort();
    if (!port) return context.skip('src/cluster/cluster-port.ts is not in this branch yet');
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const leaderDir = await tempDir('leader');
    const followerDir = await tempDir('follower');
    cleanups.push(() => removeDirs([leaderDir, followerDir]));
    await writeFiles(leaderDir, { 'format.json': Buffer.from('{"format":1}\n'), [segment(1)]: randomBytes(1_500_000, 1) });
    const disk = new LeaderDisk(leaderDir);
    const isr = new FakeIsr();
    const replicator = new Replicator({
      selfId: 'n1',
      epoch: 9n,
      dataDir: leaderDir,
      minInsync: 2,
      ackTimeoutMs: 5000,
      isLeader: () => true,
      changeIsr: isr.changeIsr,
      initialIsr: ['n1'],
      localSynced: () => disk.synced(),
      log: recordingLog(),
    });
    disk.observer = replicator;
    const listener = new port.ClusterPortListener({
      nodeId: 'n1',
      secret,
      epoch: () => '9',
      log: recordingLog(),
      onReplica: (socket, peer, leftover) => replicator.acceptReplica(socket, peer, leftover),
      onTunnel: (socket) => socket.destroy(),
    });
    const bound = await listener.listen('127.0.0.1', 0);
    cleanups.push(async () => {
      await replicator.close();
      await listener.close();
    });
    const follower = new Follower({ dataDir: followerDir, nodeId: 'n2', secret, log: recordingLog() });
    const inSync = new Promise<string>((resolve) => follower.once('in-sync', resolve));
    const following = follower.follow({ host: '127.0.0.1', port: bound });
    cleanups.push(async () => {
      await follower.stop();
      await following;
    });
    expect(await inSync).toBe('9');
    expect(isr.calls).toEqual([['n1', 'n2']]);
    await disk.append(segment(1), randomBytes(10_000, 2));
    await replicator.replicated();
    await expectSameFiles(leaderDir, followerDir);
  });
});
