// The leader's confirm rule against real followers over loopback: who is waited for, who is dropped
// (in etcd first), what is refused.
import type { FileHandle } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/cluster-errors.js';
import { Follower } from '../../src/cluster/follower.js';
import { encodeEntry, jsonFrame, ReplicationFrameTypes } from '../../src/cluster/replication-frames.js';
import { Replicator } from '../../src/cluster/replicator.js';
import {
  FakeIsr,
  LeaderDisk,
  listenFor,
  plainConnect,
  randomBytes,
  recordingLog,
  removeDirs,
  segment,
  snapshotDir,
  tempDir,
  track,
  until,
  writeFiles,
} from './replication-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startLeader(o: { minInsync: number; ackTimeoutMs?: number; epoch?: bigint; isLeader?: () => boolean; initialIsr?: string[] }) {
  const leaderDir = await tempDir('leader');
  await writeFiles(leaderDir, { 'format.json': Buffer.from('{"format":1}\n'), 'definitions.log': randomBytes(1000, 1), [segment(1)]: randomBytes(5000, 2) });
  const disk = new LeaderDisk(leaderDir);
  const isr = new FakeIsr();
  const replicator = new Replicator({
    selfId: 'leader',
    epoch: o.epoch ?? 7n,
    dataDir: leaderDir,
    minInsync: o.minInsync,
    ackTimeoutMs: o.ackTimeoutMs ?? 5000,
    isLeader: o.isLeader ?? (() => true),
    changeIsr: isr.changeIsr,
    initialIsr: o.initialIsr ?? ['leader'],
    localSynced: () => disk.synced(),
    log: recordingLog(),
  });
  disk.observer = replicator;
  const { port, server } = await listenFor(replicator, 'f1');
  cleanups.push(async () => {
    await replicator.close();
    await new Promise((resolve) => server.close(resolve));
    await removeDirs([leaderDir]);
  });
  return { leaderDir, disk, isr, replicator, port };
}

async function startFollower(port: number, o: { epoch?: bigint; sync?: (file: string, handle: FileHandle) => Promise<void>; dir?: string } = {}) {
  const followerDir = o.dir ?? (await tempDir('follower'));
  const sockets: Socket[] = [];
  const follower = new Follower({ dataDir: followerDir, nodeId: 'f1', secret: Buffer.alloc(32), log: recordingLog(), connect: plainConnect(o.epoch ?? 7n, sockets), ...(o.sync ? { sync: o.sync } : {}) });
  const inSync = new Promise<string>((resolve) => follower.once('in-sync', resolve));
  const disconnected = new Promise<string>((resolve) => follower.once('disconnected', resolve));
  const following = follower.follow({ host: '127.0.0.1', port });
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await follower.stop();
    await following;
    if (!o.dir) await removeDirs([followerDir]);
  });
  return { follower, followerDir, inSync, disconnected, following, sockets };
}

describe('confirms wait for the ISR', () => {
  it('a silent follower is removed from the ISR in etcd before the confirm that waited for it is released', async () => {
    const leader = await startLeader({ minInsync: 1, ackTimeoutMs: 300 });
    const { inSync, sockets } = await startFollower(leader.port);
    await inSync;
    expect(leader.isr.calls).toEqual([['f1', 'leader']]);
    sockets[0]?.pause(); // the follower stops reading, as a SIGSTOPped process would
    await leader.disk.append(segment(1), randomBytes(100, 3));
    const confirmed = leader.replicator.replicated().then(() => leader.isr.events.push('released'));
    await confirmed;
    expect(leader.isr.events).toEqual(['isr:f1,leader', 'isr:leader', 'released']);
    expect(leader.replicator.inSyncCount).toBe(1);
  });

  it('when etcd refuses the smaller ISR, the confirm stays pending; it is released once the write succeeds', async () => {
    const leader = await startLeader({ minInsync: 1, ackTimeoutMs: 200 });
    const { inSync, sockets } = await startFollower(leader.port);
    await inSync;
    leader.isr.failing = true;
    const attemptsBefore = leader.isr.attempts;
    sockets[0]?.pause();
    await leader.disk.append(segment(1), randomBytes(100, 3));
    const confirm = track(leader.replicator.replicated());
    await until('two refused ISR writes', () => leader.isr.attempts >= attemptsBefore + 2);
    expect(confirm.settled).toBe(false);
    expect(leader.replicator.inSyncCount).toBe(2);
    leader.isr.failing = false;
    await confirm.promise;
    expect(leader.isr.calls.at(-1)).toEqual(['leader']);
  });

  it('below min-insync a confirm is refused with NOT_IN_SYNC, and one waiting when the ISR shrinks is rejected', async () => {
    const alone = await startLeader({ minInsync: 2 });
    await alone.disk.append(segment(1), randomBytes(10, 1));
    await expect(alone.replicator.replicated()).rejects.toMatchObject({ code: 'not-in-sync' });

    const leader = await startLeader({ minInsync: 2, ackTimeoutMs: 300 });
    const { inSync, sockets } = await startFollower(leader.port);
    await inSync;
    await leader.disk.append(segment(1), randomBytes(10, 1));
    await leader.replicator.replicated(); // two in sync: fine
    sockets[0]?.pause();
    await leader.disk.append(segment(1), randomBytes(10, 2));
    const error = await leader.replicator.replicated().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: 'not-in-sync' });
    expect(leader.isr.calls.at(-1)).toEqual(['leader']);
  });

  it('a node that is not leader at the instant of resolving rejects with NOT_LEADER', async () => {
    let leading = true;
    const leader = await startLeader({ minInsync: 1, isLeader: () => leading });
    await leader.replicator.replicated();
    leading = false;
    await expect(leader.replicator.replicated()).rejects.toMatchObject({ code: 'not-leader' });
  });

  it('an ISR member that never connects is waited for until the ack timeout, then removed first', async () => {
    const leader = await startLeader({ minInsync: 1, ackTimeoutMs: 200, initialIsr: ['leader', 'f2'] });
    await leader.disk.append(segment(1), randomBytes(10, 1));
    await leader.replicator.replicated();
    expect(leader.isr.calls).toEqual([['leader']]);
  });

  it('the follower acks only what it fsynced', async () => {
    const leader = await startLeader({ minInsync: 2 });
    let hold: Promise<void> | undefined;
    let release: () => void = () => undefined;
    let held = 0;
    const { inSync } = await startFollower(leader.port, {
      sync: async (_file, handle) => {
        if (hold) {
          held += 1;
          await hold;
        }
        await handle.datasync();
      },
    });
    cleanups.push(async () => release());
    await inSync;
    hold = new Promise<void>((resolve) => (release = resolve));
    await leader.disk.append(segment(1), randomBytes(100, 4));
    const confirm = track(leader.replicator.replicated());
    await until('the follower to reach its fsync', () => held > 0);
    // Time for an ack sent too early to arrive (its absence is what is checked, not a speed).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const follower = leader.replicator.status().followers[0];
    expect(follower?.ackedSeq).toBeLessThan(leader.replicator.seq);
    expect(confirm.settled).toBe(false);
    release();
    await confirm.promise;
    expect(leader.replicator.status().followers[0]?.ackedSeq).toBe(leader.replicator.seq);
  });
});

describe('epochs', () => {
  it('a follower that has followed epoch 7 refuses a leader of epoch 5', async () => {
    const newer = await startLeader({ minInsync: 1, epoch: 7n });
    const followerDir = await tempDir('follower');
    cleanups.push(() => removeDirs([followerDir]));
    const older = await startLeader({ minInsync: 1, epoch: 5n });
    // Each leader's handshake claims its own epoch.
    const epochs = new Map([
      [newer.port, 7n],
      [older.port, 5n],
    ]);
    const follower = new Follower({
      dataDir: followerDir,
      nodeId: 'f1',
      secret: Buffer.alloc(32),
      log: recordingLog(),
      connect: (o) => plainConnect(epochs.get(o.port) ?? 0n)(o),
    });
    const inSync = new Promise<string>((resolve) => follower.once('in-sync', resolve));
    const first = follower.follow({ host: '127.0.0.1', port: newer.port });
    await inSync;
    await follower.stop();
    await first;
    const before = await snapshotDir(followerDir);

    const reasons: string[] = [];
    follower.on('disconnected', (reason) => reasons.push(reason));
    await follower.follow({ host: '127.0.0.1', port: older.port });
    expect(reasons[0]).toMatch(/epoch/);
    expect(older.isr.calls).toEqual([]);
    expect(await snapshotDir(followerDir)).toEqual(before);
  });

  it('an entry of a lower epoch on the link is refused and not written', async () => {
    // A fake leader of epoch 7 that, after an empty snapshot, sends an entry stamped epoch 6.
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => {
        socket.write(jsonFrame(ReplicationFrameTypes.PLAN, { epoch: '7', snapshotSeq: 0, files: [], deletes: [] }));
        socket.write(jsonFrame(ReplicationFrameTypes.SNAPSHOT_DONE, { snapshotSeq: 0 }));
        socket.write(encodeEntry(6n, 1, { kind: 'write', file: segment(1), position: 0, data: [Buffer.from('stale')] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const { disconnected, followerDir } = await startFollower(address.port);
    expect(await disconnected).toMatch(/epoch 6 is lower than 7/);
    expect([...(await snapshotDir(followerDir)).keys()]).toEqual([]);
  });
});

describe('the per-follower buffer', () => {
  it('a follower that stops reading is dropped when its buffer passes the bound, without waiting for the ack timeout', async () => {
    const leaderDir = await tempDir('leader');
    await writeFiles(leaderDir, { 'format.json': Buffer.from('{"format":1}\n') });
    const disk = new LeaderDisk(leaderDir);
    const isr = new FakeIsr();
    const replicator = new Replicator({
      selfId: 'leader',
      epoch: 7n,
      dataDir: leaderDir,
      minInsync: 1,
      ackTimeoutMs: 600_000, // never within this test: the bound alone must drop it
      maxBufferBytes: 4 * 1024 * 1024,
      isLeader: () => true,
      changeIsr: isr.changeIsr,
      initialIsr: ['leader'],
      localSynced: () => disk.synced(),
      log: recordingLog(),
    });
    disk.observer = replicator;
    const { port, server } = await listenFor(replicator, 'f1');
    cleanups.push(async () => {
      await replicator.close();
      await new Promise((resolve) => server.close(resolve));
      await removeDirs([leaderDir]);
    });
    const { inSync, sockets } = await startFollower(port);
    await inSync;
    sockets[0]?.pause();
    // Writes keep coming; none of them waits for the follower.
    let position = 0;
    for (let i = 0; i < 200 && replicator.status().followers.some((f) => f.connected); i += 1) {
      await disk.write(segment(1), position, randomBytes(256 * 1024, i + 1));
      position += 256 * 1024;
    }
    await replicator.replicated();
    expect(isr.calls).toEqual([['f1', 'leader'], ['leader']]);
    expect(replicator.status().followers).toEqual([]);
  });
});
