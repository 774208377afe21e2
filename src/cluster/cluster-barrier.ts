import type { DurabilityBarrier } from '../broker/persistence.js';
import type { Replicator } from './replicator.js';

/**
 * The leader's confirm rule (docs/cluster.md, "How a confirm waits"): on disk here, fsynced by every
 * other ISR member, and still leader at the instant of answering. The replication wait starts after
 * the local one because the store tells the replicator of a write only when the write begins: by the
 * time the local fsync is done, every entry the reply depends on has been streamed (and the followers
 * have been writing it meanwhile, in parallel with the local fsync).
 */
export class ClusterBarrier implements DurabilityBarrier {
  private armed = false;

  constructor(
    private readonly local: DurabilityBarrier & { stored(): Promise<void> },
    private readonly replicator: Replicator,
  ) {}

  get writes(): number {
    return this.local.writes;
  }

  /**
   * From now on replies wait for the replicas too. Before, while the server starts (recovery, a first
   * start's default user), only the local fsync counts: nothing is told to a client yet, the followers
   * get those bytes by catch-up, and waiting for an ISR that cannot form before the leader serves would
   * deadlock the start (LavinMQ #789).
   */
  arm(): void {
    this.armed = true;
  }

  synced(): Promise<void> {
    return this.armed ? this.local.synced().then(() => this.replicator.replicated()) : this.local.synced();
  }

  stored(): Promise<void> {
    return this.armed ? this.local.stored().then(() => this.replicator.replicated()) : this.local.stored();
  }
}
