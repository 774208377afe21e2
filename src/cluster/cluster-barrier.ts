import type { DurabilityBarrier } from '../broker/persistence.js';
import { BrokerError } from '../broker/errors.js';
import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';
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
  // The store hands every caller of one group commit the same promise; so does this, so a burst of
  // confirms shares one wait for the replicas (and the reply path one wrapper).
  private readonly synced_ = new ReplicatedAfter(() => this.replicator.replicated());
  private readonly stored_ = new ReplicatedAfter(() => this.replicator.replicated());

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
    return this.armed ? this.synced_.after(this.local.synced()) : this.local.synced();
  }

  stored(): Promise<void> {
    return this.armed ? this.stored_.after(this.local.stored()) : this.local.stored();
  }
}

/** The replicas' wait chained after one local promise, made once per distinct local promise. */
class ReplicatedAfter {
  private lastLocal: Promise<void> | undefined;
  private lastChained: Promise<void> | undefined;

  constructor(private readonly replicated: () => Promise<void>) {}

  after(local: Promise<void>): Promise<void> {
    if (local === this.lastLocal && this.lastChained) return this.lastChained;
    const chained = local.then(this.replicated).catch(asBrokerError);
    this.lastLocal = local;
    this.lastChained = chained;
    return chained;
  }
}

/**
 * What a reply can say: the cluster's refusals as RESOURCE_ERROR with their text; a failed local write
 * as it was — a WriteFailure from `stored()`, whose `refused` tells the messages refused from those
 * kept and written again (for which the publish then waits on `synced()`).
 */
function asBrokerError(error: unknown): never {
  if (error instanceof ClusterError && (error.code === ClusterErrorCodes.NOT_IN_SYNC || error.code === ClusterErrorCodes.NOT_LEADER)) {
    throw new BrokerError('RESOURCE_ERROR', error.message);
  }
  throw error;
}
