// The replicator as the observer of a real DurableState: persistent messages written by the store reach
// a follower's data dir, byte for byte, and a store opened there recovers them. Needs the store to tell
// its changes (DurableStateOptions.changes); until that is merged, the test skips itself.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterBarrier } from '../../src/cluster/cluster-barrier.js';
import { Follower } from '../../src/cluster/follower.js';
import { Replicator } from '../../src/cluster/replicator.js';
import type { StoreChangeObserver } from '../../src/store/store-changes.js';
import { DurableState, type DurableStateOptions } from '../../src/store/durable-state.js';
import { SegmentMessageStore } from '../../src/store/message-store.js';
import { Queues, persistent, recoveredIn } from '../store/message-store.contract.js';
import { expectSameFiles, FakeIsr, listenFor, plainConnect, recordingLog, removeDirs, tempDir } from './replication-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('replicating a DurableState', () => {
  it('persistent messages confirmed through ClusterBarrier are on the follower, and recover there', async (context) => {
    const leaderDir = await tempDir('leader');
    const followerDir = await tempDir('follower');
    cleanups.push(() => removeDirs([leaderDir, followerDir]));
    const isr = new FakeIsr();
    let state: DurableState | undefined;
    const replicator = new Replicator({
      selfId: 'leader',
      epoch: 3n,
      dataDir: leaderDir,
      minInsync: 2,
      ackTimeoutMs: 300,
      isLeader: () => true,
      changeIsr: isr.changeIsr,
      initialIsr: ['leader'],
      localSynced: () => state?.synced() ?? Promise.resolve(),
      log: recordingLog(),
    });
    const options: DurableStateOptions & { changes: StoreChangeObserver } = { dataDir: leaderDir, diskFreeLimit: 0, segmentSize: 64 * 1024, log: recordingLog(), changes: replicator };
    state = await DurableState.open(options);
    const opened = state;
    cleanups.push(async () => {
      await replicator.close();
      await opened.close();
    });
    const queues = new Queues();
    const queue = queues.declare('q');
    const barrier = new ClusterBarrier(opened, replicator);
    barrier.arm();

    const { port, server } = await listenFor(replicator, 'f1');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const follower = new Follower({ dataDir: followerDir, nodeId: 'f1', secret: Buffer.alloc(32), log: recordingLog(), connect: plainConnect(3n) });
    const inSync = new Promise<string>((resolve) => follower.once('in-sync', resolve));
    const following = follower.follow({ host: '127.0.0.1', port });
    cleanups.push(async () => {
      await follower.stop();
      await following;
    });
    await inSync;

    const body = 'x'.repeat(2000);
    for (let id = 1; id <= 100; id += 1) opened.messages.add(persistent(id, `${id}:${body}`), [queue]);
    await barrier.stored();
    if (replicator.seq === 0) context.skip('DurableState does not tell its changes yet (helper S)');
    await expectSameFiles(leaderDir, followerDir);

    // The follower goes away: the next confirm is refused once it is out of the ISR (min-insync 2).
    await follower.stop();
    await following;
    for (let id = 101; id <= 200; id += 1) opened.messages.add(persistent(id, `${id}:${body}`), [queue]);
    await expect(barrier.stored()).rejects.toMatchObject({ reason: 'RESOURCE_ERROR', code: 506, message: expect.stringMatching(/min-insync/) });
    expect(isr.calls).toEqual([['f1', 'leader'], ['leader']]);
    // It comes back with a stale data dir, catches up, and is in the ISR again.
    const again = new Promise<string>((resolve) => follower.once('in-sync', resolve));
    const followingAgain = follower.follow({ host: '127.0.0.1', port });
    await again;
    opened.messages.add(persistent(201, `201:${body}`), [queue]);
    await barrier.stored();
    await expectSameFiles(leaderDir, followerDir);
    await follower.stop();
    await followingAgain;

    const { store, recovered } = await SegmentMessageStore.open(followerDir);
    cleanups.push(() => store.close());
    const messages = await recoveredIn(recovered, 'q');
    expect(messages.map((m) => m.id)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
  });
});
