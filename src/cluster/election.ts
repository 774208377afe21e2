import type { Etcd3 } from 'etcd3';
import { etcdFailure } from './cluster-errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { encodeRecord } from './cluster-record.js';
import { revision } from './etcd-client.js';
import { decodeLeader, type LeaderRecord } from './leader-record.js';
import { memberFields, type MemberInfo } from './membership.js';
import { IsrStore } from './isr.js';

export type CampaignOutcome =
  | { readonly outcome: 'elected'; readonly leader: LeaderRecord }
  /** Someone holds the leader key. */
  | { readonly outcome: 'led'; readonly leader: LeaderRecord }
  /** The ISR exists and this node is not in it: it may hold stale data and must not lead. */
  | { readonly outcome: 'not-in-sync'; readonly isr: readonly string[] }
  /** The ISR changed between reading it and the election transaction: try again. */
  | { readonly outcome: 'raced' };

/**
 * One attempt at leadership: a single transaction creates the leader key on the node's lease if there is
 * none, and only if the ISR is the one just read (and holds this node) — or there is no ISR yet, a new
 * cluster, whose first leader starts it. So "only ISR members campaign" holds atomically in etcd, not
 * just by each node's good behaviour.
 */
export class Election {
  private readonly isr: IsrStore;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: ClusterKeys,
  ) {
    this.isr = new IsrStore(client, keys);
  }

  async campaign(self: MemberInfo, leaseId: string): Promise<CampaignOutcome> {
    const isr = await this.isr.read();
    if (isr && !isr.members.includes(self.nodeId)) return { outcome: 'not-in-sync', isr: isr.members };
    const value = encodeRecord(memberFields(self));
    let result;
    try {
      const guard = this.client.if(this.keys.leader, 'Create', '==', 0);
      if (isr) guard.and(this.keys.isr, 'Mod', '==', isr.modRevision.toString());
      else guard.and(this.keys.isr, 'Create', '==', 0);
      result = await guard
        .then(this.client.put(this.keys.leader).value(value).lease(leaseId))
        .else(this.client.get(this.keys.leader))
        .commit();
    } catch (error) {
      throw etcdFailure(`campaigning as ${self.nodeId}`, error);
    }
    if (result.succeeded) {
      // The put is the transaction's only write, so the key's create revision is the transaction's revision.
      const epoch = revision(result.header.revision);
      return { outcome: 'elected', leader: { ...memberFields(self), epoch, leaseId } };
    }
    const held = result.responses[0]?.response_range?.kvs[0];
    return held ? { outcome: 'led', leader: decodeLeader(held) } : { outcome: 'raced' };
  }

  async leader(): Promise<LeaderRecord | undefined> {
    try {
      const response = await this.client.get(this.keys.leader).exec();
      const kv = response.kvs[0];
      return kv ? decodeLeader(kv) : undefined;
    } catch (error) {
      throw etcdFailure('reading the leader key', error);
    }
  }

  /** Gives leadership up: deletes the leader key, only if it is still this epoch's. */
  async resign(epoch: bigint): Promise<boolean> {
    try {
      const result = await this.client
        .if(this.keys.leader, 'Create', '==', epoch.toString())
        .then(this.client.delete().key(this.keys.leader))
        .commit();
      return result.succeeded;
    } catch (error) {
      throw etcdFailure('resigning', error);
    }
  }
}
