// The coordination layer against a real etcd: election and its epoch, fencing of a stale leader, the
// ISR rule for campaigning, membership, settings, and a lease that survives a blocked event loop because
// a worker thread keeps it alive.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCodes, Coordinator, clusterKeys, type CoordinatorOptions, type MemberInfo } from '../../src/cluster/index.js';
import { connectEtcd } from '../../src/cluster/etcd-client.js';
import { IsrStore } from '../../src/cluster/isr.js';
import { skipReason, startEtcd, workerUrl, type EtcdCluster } from './etcd-server.js';

let etcd: EtcdCluster;
const started: Coordinator[] = [];

async function node(prefix: string, nodeId: string, overrides: Partial<CoordinatorOptions> = {}): Promise<Coordinator> {
  const coordinator = await Coordinator.start({
    nodeId,
    advertise: `ws://127.0.0.1:1567${nodeId.slice(-1)}`,
    etcd: etcd.endpoints,
    prefix,
    // Short enough for quick expiry tests, with room for a loaded machine's scheduling.
    leaseTtlSeconds: 3,
    settings: { minInsync: 2 },
    workerUrl,
    ...overrides,
  });
  started.push(coordinator);
  return coordinator;
}

function freshPrefix(): string {
  return `/warren-test/${randomUUID()}`;
}

function ids(members: readonly MemberInfo[]): string[] {
  return members.map((m) => m.nodeId);
}

/** Rejects with the ClusterError's code, for `expect(...).rejects.toMatchObject`. */
function clusterCode(code: string): Partial<ClusterError> {
  return { name: 'ClusterError', code: code as ClusterError['code'] };
}

describe.skipIf(skipReason !== undefined)(`coordination on a real etcd${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    etcd = await startEtcd(1);
  }, 30_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it('two nodes campaign: one is elected with an epoch, the other sees it as leader', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const b = await node(prefix, 'n2');
    const seenByB = once(b, 'leader');

    const first = await a.campaign();
    expect(first.outcome).toBe('elected');
    if (first.outcome !== 'elected') return;
    expect(first.leader.epoch).toBeGreaterThan(0n);
    expect(a.isLeader()).toBe(true);
    expect(a.epoch).toBe(first.leader.epoch);

    const second = await b.campaign();
    expect(second).toMatchObject({ outcome: 'led', leader: { nodeId: 'n1', epoch: first.leader.epoch } });
    expect(b.isLeader()).toBe(false);
    const [watched] = await seenByB;
    expect(watched).toMatchObject({ nodeId: 'n1', advertise: 'ws://127.0.0.1:15671', epoch: first.leader.epoch });
    expect(b.leader?.epoch).toBe(first.leader.epoch);
  });

  it('a revoked lease: the old leader is told at once, its fenced ISR write fails, the other wins a higher epoch', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const b = await node(prefix, 'n2');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    const oldEpoch = elected.leader.epoch;
    await a.changeIsr(['n1', 'n2']);

    const steppedDown = once(a, 'stepped-down');
    const leaseLost = once(a, 'lease-lost');
    const bWins = b.campaignUntilElected();
    // Someone else (an operator, etcd's own expiry) ends n1's lease: everything on it goes.
    const admin = connectEtcd({ endpoints: etcd.endpoints });
    try {
      await admin.leaseClient.leaseRevoke({ ID: a.lease.leaseId });
      const [reason] = await steppedDown;
      expect(reason).toMatch(/lease lost|no longer this node's/);
      expect(a.isLeader()).toBe(false);
      // The watch on the leader key may tell first; the lease worker's next keep-alive tells too.
      const [lostReason] = await leaseLost;
      expect(lostReason).toMatch(/expired or was revoked|expired/);

      const newLeader = await bWins;
      expect(newLeader.nodeId).toBe('n2');
      expect(newLeader.epoch).toBeGreaterThan(oldEpoch);
      expect(b.isLeader()).toBe(true);

      // The stale leader's own guard refuses, and so does etcd's, for a write that arrives late.
      await expect(a.changeIsr(['n1'])).rejects.toMatchObject(clusterCode(ClusterErrorCodes.LEASE_LOST));
      const isr = new IsrStore(admin, clusterKeys(prefix));
      await expect(isr.write(['n1'], oldEpoch)).rejects.toMatchObject(clusterCode(ClusterErrorCodes.NOT_LEADER));
      expect((await isr.read())?.members).toEqual(['n1', 'n2']);
      await b.changeIsr(['n2']);
      expect(await isr.read()).toMatchObject({ members: ['n2'], epoch: newLeader.epoch });
    } finally {
      admin.close();
    }
  });

  it('an expired lease (the node stopped keeping it, as a dead one does): the other wins after the TTL', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const b = await node(prefix, 'n2');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    await a.changeIsr(['n1', 'n2']);

    const bWins = b.campaignUntilElected();
    await a.lease.abandon();
    expect(a.isLeader()).toBe(false);
    const newLeader = await bWins;
    expect(newLeader).toMatchObject({ nodeId: 'n2' });
    expect(newLeader.epoch).toBeGreaterThan(elected.leader.epoch);
    const members = await b.members();
    expect(ids(members)).toEqual(['n2']);
  });

  it('only ISR members may campaign', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const c = await node(prefix, 'n3');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    await a.changeIsr(['n1', 'n2']);
    await a.resign();
    expect(a.isLeader()).toBe(false);
    expect(await c.campaign()).toEqual({ outcome: 'not-in-sync', isr: ['n1', 'n2'] });
    expect((await a.campaign()).outcome).toBe('elected');
  });

  it('a blocked main event loop (longer than the TTL) does not lose the lease: the worker keeps it', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const elected = await a.campaign();
    if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
    let lost: string | undefined;
    a.on('lease-lost', (reason) => {
      lost = reason;
    });

    // 1.5 × the TTL: a keep-alive on this thread could not have run, and the lease would be gone.
    const until = Date.now() + 4500;
    while (Date.now() < until) {
      // busy: nothing else runs on this thread
    }
    expect(a.lease.isValid()).toBe(true);
    expect(a.isLeader()).toBe(true);

    const observer = await node(prefix, 'n9');
    expect(observer.leader).toMatchObject({ nodeId: 'n1', epoch: elected.leader.epoch });
    expect(ids(await observer.members())).toEqual(['n1', 'n9']);
    expect(lost).toBeUndefined();
  });

  it('membership lists joins and leaves, and refuses a node id that is in use', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1');
    const b = await node(prefix, 'n2');
    expect(ids(await a.members())).toEqual(['n1', 'n2']);

    await expect(node(prefix, 'n2')).rejects.toMatchObject(clusterCode(ClusterErrorCodes.NODE_ID_IN_USE));

    const changed = once(a, 'members');
    const c = await node(prefix, 'n3');
    expect(ids((await changed)[0] as MemberInfo[])).toContain('n3');
    expect(ids(await a.members())).toEqual(['n1', 'n2', 'n3']);

    await c.close();
    await b.close();
    expect(ids(await a.members())).toEqual(['n1']);
  });

  it('the first node writes the cluster settings; only the leader changes them', async () => {
    const prefix = freshPrefix();
    const a = await node(prefix, 'n1', { settings: { minInsync: 2 } });
    const b = await node(prefix, 'n2', { settings: { minInsync: 3 } });
    expect(b.settings).toEqual({ minInsync: 2 });

    await expect(b.changeSettings({ minInsync: 1 })).rejects.toMatchObject(clusterCode(ClusterErrorCodes.NOT_LEADER));
    expect((await a.campaign()).outcome).toBe('elected');
    await a.changeSettings({ minInsync: 1 });
    expect(await b.readSettings()).toEqual({ minInsync: 1 });
  });
});
