// The other half of keeping the lease off the main thread: a node that has stopped serving — its main
// event loop stuck, or its disk not answering an fsync — gives its lease up on purpose (the lease worker
// revokes it), so an in-sync follower takes over instead of every publisher waiting on a zombie leader.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Coordinator, monotonicNow, type CoordinatorOptions } from '../../src/cluster/index.js';
import { LeaseSlot } from '../../src/cluster/lease-protocol.js';
import { stallReason } from '../../src/cluster/stall-watchdog.js';
import { skipReason, startEtcd, workerUrl, type EtcdCluster } from './etcd-server.js';

describe('stallReason', () => {
  const slots = (beat: number, ioSince: number): BigInt64Array => {
    const array = new BigInt64Array(4);
    array[LeaseSlot.MAIN_BEAT] = BigInt(beat);
    array[LeaseSlot.IO_PENDING_SINCE] = BigInt(ioSince);
    return array;
  };
  const limits = { maxMainStallMs: 1000, diskStallMs: 2000 };

  it.each([
    ['a recent beat, no disk write in flight', 10_000, 0, undefined],
    ['a beat older than the limit', 8_000, 0, /main event loop has not run for 2000 ms/],
    ['a disk write in flight for less than the limit', 10_000, 9_000, undefined],
    ['a disk write in flight for longer than the limit', 10_000, 7_500, /disk write has been in flight for 2500 ms/],
  ])('%s', (_name, beat, ioSince, expected) => {
    const reason = stallReason(slots(beat, ioSince), 10_000, limits);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('a limit of 0 turns its check off', () => {
    expect(stallReason(slots(1, 1), 1_000_000, { maxMainStallMs: 0, diskStallMs: 0 })).toBeUndefined();
  });
});

let etcd: EtcdCluster;
const started: Coordinator[] = [];

async function node(prefix: string, nodeId: string, overrides: Partial<CoordinatorOptions> = {}): Promise<Coordinator> {
  const coordinator = await Coordinator.start({
    nodeId,
    advertise: `ws://127.0.0.1:0/${nodeId}`,
    etcd: etcd.endpoints,
    prefix,
    leaseTtlSeconds: 3,
    settings: { minInsync: 1 },
    workerUrl,
    ...overrides,
  });
  started.push(coordinator);
  return coordinator;
}

describe.skipIf(skipReason !== undefined)(`giving leadership up on a stall${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    etcd = await startEtcd(1);
  }, 30_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it('a disk write stuck past the limit: the leader revokes its lease and the follower takes over', async () => {
    const prefix = `/warren-test/${randomUUID()}`;
    const a = await node(prefix, 'n1', { diskStallMs: 1000 });
    const b = await node(prefix, 'n2');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    await a.changeIsr(['n1', 'n2']);
    const lost = once(a, 'lease-lost');
    const bWins = b.campaignUntilElected();

    // An fsync that never returns, as the store would report it.
    a.lease.diskBusySince(monotonicNow());
    const [reason] = await lost;
    expect(reason).toMatch(/gave the lease up: a disk write has been in flight/);
    expect(a.isLeader()).toBe(false);
    const next = await bWins;
    expect(next).toMatchObject({ nodeId: 'n2' });
    expect(next.epoch).toBeGreaterThan(elected.leader.epoch);
  });

  it('disk writes that finish keep the lease', async () => {
    const prefix = `/warren-test/${randomUUID()}`;
    const a = await node(prefix, 'n1', { diskStallMs: 1000 });
    expect((await a.campaign()).outcome).toBe('elected');
    for (let i = 0; i < 15; i++) {
      a.lease.diskBusySince(monotonicNow());
      await new Promise((resolve) => setTimeout(resolve, 100));
      a.lease.diskBusySince(undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(a.isLeader()).toBe(true);
    expect(a.lease.lost).toBeUndefined();
  });

  it('a main event loop stuck past the limit: the worker gives the lease up, the leader is no longer one', async () => {
    const prefix = `/warren-test/${randomUUID()}`;
    const a = await node(prefix, 'n1', { maxMainStallMs: 1500 });
    const b = await node(prefix, 'n2');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    await a.changeIsr(['n1', 'n2']);

    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // stuck: no timer, no I/O callback runs on this thread
    }
    // Read before any message from the worker is handled: the shared state already says so.
    expect(a.isLeader()).toBe(false);
    const [reason] = await once(a, 'lease-lost');
    expect(reason).toMatch(/gave the lease up: the main event loop has not run/);
    const next = await b.campaignUntilElected();
    expect(next.nodeId).toBe('n2');
  });
});
