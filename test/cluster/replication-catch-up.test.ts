// Catch-up and live streaming between a Replicator and a Follower over loopback sockets, on real files.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Follower } from '../../src/cluster/follower.js';
import { FrameReader } from '../../src/cluster/cluster-frames.js';
import { MAX_FRAME, ReplicationFrameTypes } from '../../src/cluster/replication-frames.js';
import { Replicator } from '../../src/cluster/replicator.js';
import {
  expectSameFiles,
  FakeIsr,
  LeaderDisk,
  listenFor,
  plainConnect,
  randomBytes,
  recordingLog,
  removeDirs,
  segment,
  tempDir,
  until,
  writeFiles,
} from './replication-fixture.js';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function leaderFiles(): Record<string, Buffer> {
  return {
    'format.json': Buffer.from('{"format":1,"createdBy":"warren"}\n'),
    'definitions.log': randomBytes(70_000, 1),
    [segment(1)]: randomBytes(Math.floor(2.5 * MiB), 2),
    [segment(2)]: randomBytes(300_000, 3),
    'messages/segments.json': Buffer.from('{"segments":[1,2]}\n'),
  };
}

async function startLeader(o: { minInsync?: number } = {}) {
  const leaderDir = await tempDir('leader');
  await writeFiles(leaderDir, leaderFiles());
  const disk = new LeaderDisk(leaderDir);
  const isr = new FakeIsr();
  const log = recordingLog();
  const replicator = new Replicator({
    selfId: 'leader',
    epoch: 7n,
    dataDir: leaderDir,
    minInsync: o.minInsync ?? 2,
    ackTimeoutMs: 5000,
    isLeader: () => true,
    changeIsr: isr.changeIsr,
    initialIsr: ['leader'],
    localSynced: () => disk.synced(),
    log,
  });
  disk.observer = replicator;
  const { port, server } = await listenFor(replicator, 'f1');
  cleanups.push(async () => {
    await replicator.close();
    await new Promise((resolve) => server.close(resolve));
    await removeDirs([leaderDir]);
  });
  return { leaderDir, disk, isr, log, replicator, port };
}

async function startFollower(port: number, followerDir: string, o: { via?: number } = {}) {
  const log = recordingLog();
  const follower = new Follower({ dataDir: followerDir, nodeId: 'f1', secret: Buffer.alloc(32), log, connect: plainConnect(7n) });
  const inSync = new Promise<string>((resolve) => follower.once('in-sync', resolve));
  const disconnected = new Promise<string>((resolve) => follower.once('disconnected', resolve));
  const following = follower.follow({ host: '127.0.0.1', port: o.via ?? port });
  cleanups.push(async () => {
    await follower.stop();
    await following;
    await removeDirs([followerDir]);
  });
  return { follower, inSync, disconnected, following, log };
}

function catchUpSent(log: ReturnType<typeof recordingLog>): { chunks: number; bytes: number } | undefined {
  const line = log.lines.find((l) => l.msg === 'replication: catch-up sent');
  return line?.obj as { chunks: number; bytes: number } | undefined;
}

describe('follower catch-up', () => {
  it('from an empty data dir: every file copied, then into the ISR, then live entries keep it identical', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    const { inSync } = await startFollower(leader.port, followerDir);
    expect(await inSync).toBe('7');
    expect(leader.isr.calls).toEqual([['f1', 'leader']]);
    expect(leader.replicator.inSyncCount).toBe(2);
    await expectSameFiles(leader.leaderDir, followerDir);
    expect(catchUpSent(leader.log)?.chunks).toBe(3 + 1 + 1 + 1 + 1);

    // Live: appends, a new segment, the list replaced, an old segment deleted, a failed write undone.
    await leader.disk.append(segment(2), randomBytes(5000, 10));
    await leader.disk.write(segment(3), 0, randomBytes(40_000, 11));
    await leader.disk.replace('messages/segments.json', Buffer.from('{"segments":[2,3]}\n'));
    await leader.disk.unlink(segment(1));
    await leader.disk.append('definitions.log', randomBytes(300, 12));
    await leader.disk.truncate('definitions.log', 70_100);
    await leader.replicator.replicated();
    await expectSameFiles(leader.leaderDir, followerDir);
    const status = leader.replicator.status();
    expect(status.followers).toEqual([expect.objectContaining({ nodeId: 'f1', state: 'in-sync', ackedSeq: status.seq, inIsr: true })]);
  });

  it('from a diverged data dir: the extra tail is cut, different bytes replaced, an extra file deleted, a missing one copied', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    const theirs = leaderFiles();
    const seg1 = Buffer.from(theirs[segment(1)] ?? Buffer.alloc(0));
    seg1[MiB + 17] = (seg1[MiB + 17] ?? 0) ^ 0xff; // one byte differs in chunk 1
    await writeFiles(followerDir, {
      'format.json': theirs['format.json'] ?? Buffer.alloc(0),
      [segment(1)]: seg1,
      [segment(2)]: Buffer.concat([theirs[segment(2)] ?? Buffer.alloc(0), randomBytes(4000, 99)]), // a tail the leader never had
      [segment(9)]: randomBytes(1000, 98), // a segment the leader does not have
      'messages/segments.json': Buffer.from('{"segments":[1,2,9]}\n'),
      // definitions.log missing
    });
    const { inSync } = await startFollower(leader.port, followerDir);
    await inSync;
    await expectSameFiles(leader.leaderDir, followerDir);
    // Chunk 1 of segment 1, segment 2's only chunk (its size differs), segments.json, definitions.log.
    expect(catchUpSent(leader.log)?.chunks).toBe(4);
  });

  it('from an identical data dir: no chunk is sent', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    await writeFiles(followerDir, leaderFiles());
    const { inSync } = await startFollower(leader.port, followerDir);
    await inSync;
    expect(catchUpSent(leader.log)).toEqual(expect.objectContaining({ chunks: 0, bytes: 0 }));
    await leader.disk.append(segment(2), randomBytes(100, 5));
    await leader.replicator.replicated();
    await expectSameFiles(leader.leaderDir, followerDir);
  });

  it('entries told while the snapshot is being sent reach the follower after it', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    const { inSync } = await startFollower(leader.port, followerDir);
    // Keep writing while the follower connects and catches up.
    let writes = 0;
    const writing = (async () => {
      while (leader.replicator.inSyncCount < 2 && writes < 2000) {
        await leader.disk.append(segment(2), randomBytes(1000, writes + 100));
        writes += 1;
      }
    })();
    await inSync;
    await writing;
    await leader.disk.append(segment(2), randomBytes(10, 1));
    await leader.replicator.replicated();
    await expectSameFiles(leader.leaderDir, followerDir);
    expect(writes).toBeGreaterThan(0);
  });

  it('a chunk corrupted on the way is refused and the link aborted', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    const proxy = await corruptingProxy(leader.port);
    cleanups.push(() => new Promise((resolve) => proxy.server.close(() => resolve())));
    const { disconnected, following } = await startFollower(leader.port, followerDir, { via: proxy.port });
    const reason = await disconnected;
    await following;
    expect(reason).toMatch(/checksum mismatch/);
    expect(proxy.corrupted).toBeGreaterThan(0);
    await until('the leader to drop the link', () => leader.replicator.status().followers.length === 0);
    expect(leader.isr.calls).toEqual([]);
    expect(leader.log.lines.some((l) => l.msg === 'replication: follower disconnected' && JSON.stringify(l.obj).includes('gave up'))).toBe(true);
  });
});

/** A TCP proxy that flips one byte in the data of the first chunk frame the leader sends. */
async function corruptingProxy(target: number): Promise<{ server: Server; port: number; corrupted: number }> {
  const state = { corrupted: 0 };
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.push(client, upstream);
    client.pipe(upstream);
    const reader = new FrameReader(MAX_FRAME);
    upstream.on('data', (data: Buffer) => {
      for (const frame of reader.read(data)) {
        const payload = Buffer.from(frame.payload);
        if (frame.type === ReplicationFrameTypes.CHUNK && state.corrupted === 0) {
          const last = payload.length - 1;
          payload[last] = (payload[last] ?? 0) ^ 0x01;
          state.corrupted += 1;
        }
        const head = Buffer.allocUnsafe(5);
        head.writeUInt32BE(payload.length + 1, 0);
        head.writeUInt8(frame.type, 4);
        client.write(Buffer.concat([head, payload]));
      }
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    server,
    port: address.port,
    get corrupted() {
      return state.corrupted;
    },
  };
}

describe('the snapshot point', () => {
  it('a replace and an unlink told before it but not yet made are in the snapshot as told', async () => {
    const leader = await startLeader();
    const followerDir = await tempDir('follower');
    await writeFiles(followerDir, leaderFiles()); // it has segment 2 and the old list
    // Told, as the store tells them, but the directory does not show them yet (and synced() does not wait for them).
    leader.replicator.change({ kind: 'replace', file: 'messages/segments.json', data: [Buffer.from('{"segments":[1]}\n')] });
    leader.replicator.change({ kind: 'unlink', file: segment(2) });
    const { inSync } = await startFollower(leader.port, followerDir);
    await inSync;
    // Now the store makes them (telling nothing more).
    leader.disk.telling = false;
    await leader.disk.replace('messages/segments.json', Buffer.from('{"segments":[1]}\n'));
    await leader.disk.unlink(segment(2));
    leader.disk.telling = true;
    await leader.disk.append(segment(1), randomBytes(10, 7));
    await leader.replicator.replicated();
    await expectSameFiles(leader.leaderDir, followerDir);
  });
});
