/**
 * What `GET /api/cluster` answers (docs/http-api.md): types only, so that src/http can name them with
 * `import type` without loading the cluster layer. The orchestrator builds the value; the API serves it.
 */

/** The role of a node in the current epoch. */
export type ClusterRole = 'leader' | 'follower';

/**
 * A member as the leader sees it: `leader` for itself; a follower `in-sync` (in the ISR, acking),
 * `catching-up` (copying the leader's files), `out-of-sync` (dropped from the ISR or not connected).
 */
export type ClusterMemberState = 'leader' | 'in-sync' | 'catching-up' | 'out-of-sync';

export interface ClusterMemberStatus {
  readonly nodeId: string;
  /** Where clients reach the node (its `--advertise` URL). */
  readonly advertise: string;
  readonly role: ClusterRole;
  readonly state: ClusterMemberState;
  /** The last replication entry the follower has fsynced and acked; absent for the leader. */
  readonly ackedSeq?: number;
  /** Entries streamed to the follower and not yet acked; absent for the leader. */
  readonly lagEntries?: number;
}

export interface ClusteredStatus {
  readonly cluster: true;
  /** The node answering (always the leader when reached through a follower's tunnel). */
  readonly node: string;
  readonly role: ClusterRole;
  /** The leader's epoch, as a decimal string (etcd revisions exceed 2^53 in principle). */
  readonly epoch: string;
  /** The leader's node id; null while there is none. */
  readonly leader: string | null;
  readonly minInsync: number;
  /** The in-sync replica set, leader included. */
  readonly isr: readonly string[];
  readonly members: readonly ClusterMemberStatus[];
}

export interface SingleNodeStatus {
  readonly cluster: false;
  /** The cluster name (`/api/cluster-name`). */
  readonly node: string;
}

export type ClusterStatus = ClusteredStatus | SingleNodeStatus;
