import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';
import { clusterKeys, isValidNodeId, type ClusterKeys } from './cluster-keys.js';
import { SettingsStore, type ClusterSettings } from './cluster-settings.js';
import { connectEtcd } from './etcd-client.js';
import { Election, type CampaignOutcome } from './election.js';
import { IsrStore, type IsrRecord } from './isr.js';
import type { LeaderRecord } from './leader-record.js';
import { LeaderWatch } from './leader-watch.js';
import { LeaseKeeper } from './lease-keeper.js';
import { Membership, type MemberInfo, type MemberWatch } from './membership.js';

export interface CoordinatorOptions {
  readonly nodeId: string;
  readonly advertise: string;
  /** host:port of this node's cluster port, stored with its membership (and leader) key. */
  readonly cluster?: string;
  readonly etcd: readonly string[];
  /** Every key of this cluster lives under it, e.g. `/warren/prod`. */
  readonly prefix: string;
  readonly leaseTtlSeconds: number;
  /** Written by the first node of a new cluster; later nodes read what is stored. */
  readonly settings: ClusterSettings;
  /** The compiled lease worker (tests point at dist's). */
  readonly workerUrl?: URL;
  /** See `LeaseKeeperOptions`: when the lease worker gives the lease up on its own. */
  readonly maxMainStallMs?: number;
  readonly diskStallMs?: number;
}

interface CoordinatorEvents {
  /** The leader key changed (a new leader, or none). */
  leader: [leader: LeaderRecord | undefined];
  /** This node won an election. */
  elected: [leader: LeaderRecord];
  /** This node was leader and no longer is: its lease was lost, its key deleted, or it resigned. */
  'stepped-down': [reason: string];
  /** The lease is gone: this coordinator can do nothing more in etcd; a new one must join again. */
  'lease-lost': [reason: string];
  members: [members: MemberInfo[]];
  /** etcd trouble in a background watch; the watch itself goes on (the client retries). */
  'etcd-error': [error: ClusterError];
}

/**
 * A node's view of the cluster in etcd: its lease (kept by a worker thread), its membership key, the
 * leader key it follows or holds, the ISR it may change only as leader, and the shared settings. It
 * decides nothing about messages; the replication layer asks it `isLeader()` before every confirm.
 */
export class Coordinator extends EventEmitter<CoordinatorEvents> {
  private ownEpoch: bigint | undefined;
  private closed = false;
  private readonly election: Election;
  private readonly isrStore: IsrStore;
  private readonly settingsStore: SettingsStore;
  private readonly membership: Membership;

  private constructor(
    readonly self: MemberInfo,
    readonly lease: LeaseKeeper,
    readonly settings: ClusterSettings,
    private readonly client: Etcd3,
    keys: ClusterKeys,
    private readonly leaderWatch: LeaderWatch,
    private readonly memberWatch: MemberWatch,
  ) {
    super();
    this.election = new Election(client, keys);
    this.isrStore = new IsrStore(client, keys);
    this.settingsStore = new SettingsStore(client, keys);
    this.membership = new Membership(client, keys);
    lease.on('lost', (reason) => {
      this.stepDown(`lease lost: ${reason}`);
      this.emit('lease-lost', reason);
    });
    leaderWatch.on('change', (leader) => {
      if (this.ownEpoch !== undefined && leader?.epoch !== this.ownEpoch) this.stepDown('the leader key is no longer this node\'s');
      this.emit('leader', leader);
    });
    leaderWatch.on('error', (error) => this.emit('etcd-error', error));
  }

  /** Grants the lease, joins the membership, reads (or writes) the settings, follows the leader key. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    if (!isValidNodeId(options.nodeId)) throw new RangeError(`node id must be 1-63 letters, digits, '.', '_' or '-', got '${options.nodeId}'`);
    const keys = clusterKeys(options.prefix);
    const self: MemberInfo = { nodeId: options.nodeId, advertise: options.advertise, ...(options.cluster !== undefined ? { cluster: options.cluster } : {}) };
    const client = connectEtcd({ endpoints: options.etcd });
    let lease: LeaseKeeper | undefined;
    const parts: { close(): Promise<void> }[] = [];
    try {
      lease = await LeaseKeeper.grant({
        endpoints: options.etcd,
        ttlSeconds: options.leaseTtlSeconds,
        ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}),
        ...(options.maxMainStallMs !== undefined ? { maxMainStallMs: options.maxMainStallMs } : {}),
        ...(options.diskStallMs !== undefined ? { diskStallMs: options.diskStallMs } : {}),
      });
      const membership = new Membership(client, keys);
      await membership.join(self, lease.leaseId);
      const settings = await new SettingsStore(client, keys).ensure(options.settings);
      const leaderWatch = await LeaderWatch.start(client, keys);
      parts.push(leaderWatch);
      let coordinator: Coordinator | undefined;
      const memberWatch = await membership.watch(
        (members) => coordinator?.emit('members', members),
        (error) => coordinator?.emit('etcd-error', error),
      );
      coordinator = new Coordinator(self, lease, settings, client, keys, leaderWatch, memberWatch);
      return coordinator;
    } catch (error) {
      await Promise.all(parts.map((part) => part.close().catch(() => undefined)));
      await lease?.revoke();
      client.close();
      throw error;
    }
  }

  /** The leader as last seen in etcd. */
  get leader(): LeaderRecord | undefined {
    return this.leaderWatch.leader;
  }

  /** This node's epoch while it leads. */
  get epoch(): bigint | undefined {
    return this.ownEpoch;
  }

  /**
   * Whether this node may act as leader right now. Synchronous, and false the instant the lease's
   * deadline passes, even before the lease worker's message about it has been handled.
   */
  isLeader(): boolean {
    return this.ownEpoch !== undefined && this.lease.isValid();
  }

  /** One attempt at leadership (see Election). */
  async campaign(): Promise<CampaignOutcome> {
    this.assertUsable();
    const outcome = await this.election.campaign(this.self, this.lease.leaseId);
    if (outcome.outcome === 'elected') {
      if (!this.lease.isValid()) {
        // The key went onto a lease that died meanwhile; etcd deletes it with the lease.
        throw new ClusterError(ClusterErrorCodes.LEASE_LOST, `lease lost while campaigning: ${this.lease.lost ?? 'deadline passed'}`);
      }
      this.ownEpoch = outcome.leader.epoch;
      this.emit('elected', outcome.leader);
    }
    return outcome;
  }

  /**
   * Campaigns until elected: again each time the leader key is deleted, and every TTL in case the ISR
   * changed to include this node. Rejects if the lease is lost, the coordinator closes, or `signal` aborts.
   */
  async campaignUntilElected(signal?: AbortSignal): Promise<LeaderRecord> {
    for (;;) {
      const outcome = await this.campaign();
      if (outcome.outcome === 'elected') return outcome.leader;
      if (outcome.outcome !== 'raced') await this.leaderGoneOrTimeout(signal);
      if (signal?.aborted) throw new ClusterError(ClusterErrorCodes.CLOSED, 'campaign aborted');
    }
  }

  /** Gives up leadership (a clean handover, or a stalled disk). */
  async resign(): Promise<void> {
    const epoch = this.ownEpoch;
    if (epoch === undefined) return;
    this.stepDown('resigned');
    await this.election.resign(epoch);
  }

  async members(): Promise<MemberInfo[]> {
    this.assertUsable();
    return this.membership.list();
  }

  async readIsr(): Promise<IsrRecord | undefined> {
    this.assertUsable();
    return this.isrStore.read();
  }

  /** Changes the ISR as leader; NOT_LEADER here when this node knows it is not, from etcd when it learns it. */
  async changeIsr(members: readonly string[]): Promise<IsrRecord> {
    return this.isrStore.write(members, this.leaderEpoch());
  }

  async readSettings(): Promise<ClusterSettings | undefined> {
    this.assertUsable();
    return this.settingsStore.read();
  }

  async changeSettings(settings: ClusterSettings): Promise<void> {
    return this.settingsStore.write(settings, this.leaderEpoch());
  }

  /** Leaves cleanly: the lease is revoked, so the membership key (and the leader key, if held) go at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stepDown('closing');
    await Promise.all([this.leaderWatch.close().catch(() => undefined), this.memberWatch.close().catch(() => undefined)]);
    await this.lease.revoke();
    this.client.close();
  }

  private leaderEpoch(): bigint {
    this.assertUsable();
    if (this.ownEpoch === undefined || !this.lease.isValid()) {
      throw new ClusterError(ClusterErrorCodes.NOT_LEADER, `${this.self.nodeId} is not the leader`);
    }
    return this.ownEpoch;
  }

  private assertUsable(): void {
    if (this.closed) throw new ClusterError(ClusterErrorCodes.CLOSED, 'the coordinator is closed');
    if (this.lease.lost !== undefined) throw new ClusterError(ClusterErrorCodes.LEASE_LOST, `lease lost: ${this.lease.lost}`);
  }

  private stepDown(reason: string): void {
    if (this.ownEpoch === undefined) return;
    this.ownEpoch = undefined;
    this.emit('stepped-down', reason);
  }

  private leaderGoneOrTimeout(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanUp = (): void => {
        clearTimeout(timer);
        this.off('leader', onLeader);
        this.lease.off('lost', onLost);
        signal?.removeEventListener('abort', done);
      };
      const done = (): void => {
        cleanUp();
        resolve();
      };
      const onLeader = (leader: LeaderRecord | undefined): void => {
        if (!leader) done();
      };
      const onLost = (reason: string): void => {
        cleanUp();
        reject(new ClusterError(ClusterErrorCodes.LEASE_LOST, `lease lost: ${reason}`));
      };
      const timer = setTimeout(done, this.lease.ttlSeconds * 1000);
      this.on('leader', onLeader);
      this.lease.on('lost', onLost);
      signal?.addEventListener('abort', done);
      if (!this.leaderWatch.leader) done();
    });
  }
}
