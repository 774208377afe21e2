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
  constructor(
    private readonly local: DurabilityBarrier & { stored(): Promise<void> },
    private readonly replicator: Replicator,
  ) {}

  get writes(): number {
    return this.local.writes;
  }

  async synced(): Promise<void> {
    await this.local.synced();
    await this.replicator.replicated();
  }

  async stored(): Promise<void> {
    await this.local.stored();
    await this.replicator.replicated();
  }
}
