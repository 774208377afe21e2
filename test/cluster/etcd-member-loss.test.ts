// A three-member etcd loses its raft leader (kill -9): the majority goes on, so the leader keeps its lease
// (the worker's keep-alives go to the members that answer) and a new election still works.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/cluster/index.js';
import { raftLeader, skipReason, startEtcd, workerUrl, type EtcdCluster } from './etcd-server.js';

let etcd: EtcdCluster;

describe.skipIf(skipReason !== undefined)(`a three-member etcd${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    etcd = await startEtcd(3);
  }, 30_000);

  afterAll(async () => {
    await etcd?.stop();
  });

  it('kill -9 of etcd\'s raft leader: the Warren leader keeps its lease for longer than the TTL, and failover still works', async () => {
    const prefix = `/warren-test/${randomUUID()}`;
    const options = { etcd: etcd.endpoints, prefix, leaseTtlSeconds: 5, settings: { minInsync: 1 }, workerUrl };
    const a = await Coordinator.start({ ...options, nodeId: 'n1', advertise: 'ws://127.0.0.1:0/n1' });
    const b = await Coordinator.start({ ...options, nodeId: 'n2', advertise: 'ws://127.0.0.1:0/n2' });
    try {
      const elected = await a.campaign();
      if (elected.outcome !== 'elected') throw new Error(`n1 not elected: ${elected.outcome}`);
      await a.changeIsr(['n1', 'n2']);
      let lost: string | undefined;
      a.on('lease-lost', (reason) => {
        lost = reason;
      });

      // etcd's own raft leader: the hard case, the survivors elect a new one while keep-alives go on.
      const victim = await raftLeader(etcd);
      victim.process.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 7000));
      expect(lost).toBeUndefined();
      expect(a.isLeader()).toBe(true);

      const bWins = b.campaignUntilElected();
      await a.resign();
      const next = await bWins;
      expect(next.nodeId).toBe('n2');
      expect(next.epoch).toBeGreaterThan(elected.leader.epoch);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 40_000);
});
