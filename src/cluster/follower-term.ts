import type { WarrenConfig } from '../config.js';
import type { ClusterLog } from './cluster-log.js';
import type { ClusterStatus } from './cluster-status.js';
import type { Coordinator } from './coordinator.js';
import { Follower } from './follower.js';
import type { LeaderRecord } from './leader-record.js';
import type { TunnelFront } from './tunnel-front.js';

/** Between tries to follow the same leader: from this, doubling while no try gets in sync, to the cap. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;

export interface LeaderAddress {
  readonly host: string;
  readonly port: number;
  readonly nodeId: string;
}

/**
 * A node's time as a follower: it replicates whoever holds the leader key, tunnels its clients there,
 * and campaigns whenever the key is free (etcd lets it win only while it is in the ISR).
 */
export class FollowerTerm {
  private readonly abort = new AbortController();
  private follower: Follower | undefined;
  private following: LeaderRecord | undefined;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly config: WarrenConfig,
    private readonly secret: Buffer,
    private readonly log: ClusterLog,
    private readonly front: () => TunnelFront | undefined,
  ) {}

  /** Resolves with this node's leader record once it is elected, undefined if closed first; rejects if the lease is lost. */
  async run(): Promise<LeaderRecord | undefined> {
    const onLeader = (leader: LeaderRecord | undefined): void => {
      const current = this.following;
      if (current && (leader === undefined || leader.epoch !== current.epoch)) {
        // Clients tunnelled to a leader that is gone reconnect; their next connection goes to the new one.
        this.front()?.closeTunnels(leader ? `leader changed to ${leader.nodeId}` : 'the leader is gone');
        void this.follower?.stop();
      }
    };
    this.coordinator.on('leader', onLeader);
    const following = this.followLoop();
    let lostListener: ((reason: string) => void) | undefined;
    const lost = new Promise<never>((_, reject) => {
      lostListener = (reason: string) => reject(new Error(`lease lost while following: ${reason}`));
      this.coordinator.once('lease-lost', lostListener);
    });
    try {
      return await Promise.race([this.coordinator.campaignUntilElected(this.abort.signal), lost]);
    } catch (error) {
      if (this.abort.signal.aborted) return undefined;
      throw error;
    } finally {
      if (lostListener) this.coordinator.off('lease-lost', lostListener);
      this.coordinator.off('leader', onLeader);
      this.abort.abort();
      await this.follower?.stop();
      await following;
    }
  }

  /** Where tunnels go: the leader's cluster port, unless this node leads or no leader is known. */
  leaderAddress(): LeaderAddress | undefined {
    const leader = this.coordinator.leader;
    if (!leader || leader.nodeId === this.config.nodeId || leader.cluster === undefined) return undefined;
    const address = splitHostPort(leader.cluster);
    return address ? { ...address, nodeId: leader.nodeId } : undefined;
  }

  async close(_reason: string): Promise<void> {
    this.abort.abort();
    await this.follower?.stop();
  }

  static async status(nodeId: string, coordinator: Coordinator | undefined): Promise<ClusterStatus> {
    const leader = coordinator?.leader;
    const [members, isr] = coordinator ? await Promise.all([coordinator.members(), coordinator.readIsr()]) : [[], undefined];
    return {
      cluster: true,
      node: nodeId,
      role: 'follower',
      epoch: leader ? leader.epoch.toString() : '',
      leader: leader ? leader.nodeId : null,
      minInsync: coordinator?.settings.minInsync ?? 0,
      isr: isr ? [...isr.members] : [],
      members: members.map((member) => ({
        nodeId: member.nodeId,
        advertise: member.advertise,
        role: member.nodeId === leader?.nodeId ? 'leader' : 'follower',
        state: member.nodeId === leader?.nodeId ? 'leader' : isr?.members.includes(member.nodeId) ? 'in-sync' : 'out-of-sync',
      })),
    };
  }

  /** Follows whoever leads, reconnecting after a lost link, until the term ends. */
  private async followLoop(): Promise<void> {
    const signal = this.abort.signal;
    let retry = RETRY_MIN_MS;
    let lastEpoch: bigint | undefined;
    while (!signal.aborted) {
      const leader = this.coordinator.leader;
      const address = this.leaderAddress();
      if (!leader || !address) {
        await this.nextLeaderOrAbort(1000);
        continue;
      }
      if (leader.epoch !== lastEpoch) retry = RETRY_MIN_MS;
      lastEpoch = leader.epoch;
      let reachedInSync = false;
      this.following = leader;
      const follower = new Follower({ dataDir: this.config.dataDir, nodeId: this.config.nodeId, secret: this.secret, log: this.log });
      this.follower = follower;
      follower.on('in-sync', (epoch) => {
        reachedInSync = true;
        this.log.info(`cluster: in sync with ${leader.nodeId} (epoch ${epoch})`);
      });
      follower.on('disconnected', (reason) => this.log.info(`cluster: link to ${leader.nodeId} ended: ${reason}`));
      this.log.info(`cluster: following ${leader.nodeId} (epoch ${leader.epoch})`);
      try {
        await follower.follow({ host: address.host, port: address.port });
      } catch (error) {
        this.log.warn({ err: error }, `cluster: following ${leader.nodeId} failed: ${(error as Error).message}`);
      } finally {
        await follower.stop();
        this.following = undefined;
      }
      // A link that never got in sync (a full disk, a leader that refuses it) is tried again less and
      // less often: each try costs the leader a whole catch-up. A new leader is tried at once.
      retry = reachedInSync ? RETRY_MIN_MS : Math.min(retry * 2, RETRY_MAX_MS);
      if (!signal.aborted) await this.nextLeaderOrAbort(reachedInSync ? RETRY_MIN_MS : retry);
    }
  }

  /** Waits `ms`, or until the leader key changes or the term ends. */
  private nextLeaderOrAbort(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.coordinator.off('leader', done);
        this.abort.signal.removeEventListener('abort', done);
        clearTimeout(timer);
        resolve();
      };
      // Also bounded when waiting for a leader: the key may have been read before this listener existed.
      const timer = setTimeout(done, ms);
      this.coordinator.on('leader', done);
      this.abort.signal.addEventListener('abort', done);
    });
  }
}

export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match?.[1] || !match[2]) return undefined;
  return { host: match[1], port: Number(match[2]) };
}
