/**
 * Every failure of the coordination layer, one code each. Callers branch on `code`, never on message
 * text; `cause` keeps the etcd client's own error where there was one.
 */
export const ClusterErrorCodes = {
  /** etcd did not answer, or answered with an error the layer cannot act on. */
  ETCD_UNAVAILABLE: 'etcd-unavailable',
  /** The node's lease expired or was revoked: everything it held in etcd is gone. */
  LEASE_LOST: 'lease-lost',
  /** The lease worker thread failed to start or died. */
  LEASE_WORKER_FAILED: 'lease-worker-failed',
  /** Another live node already holds this node id's membership key. */
  NODE_ID_IN_USE: 'node-id-in-use',
  /** A node outside the in-sync replica set may not campaign. */
  NOT_IN_SYNC: 'not-in-sync',
  /** A leader-only write whose guard on the leader key failed: this node is not (or no longer) the leader. */
  NOT_LEADER: 'not-leader',
  /** A key in etcd holds something this Warren cannot read. */
  BAD_RECORD: 'bad-record',
  /** The coordinator was closed. */
  CLOSED: 'closed',
  /** The cluster secret file is missing, unreadable or too short. */
  BAD_CLUSTER_SECRET: 'bad-cluster-secret',
  /** A node's cluster port answered the handshake with `refused` (wrong secret, bad hello). */
  CLUSTER_PORT_REFUSED: 'cluster-port-refused',
  /** A node's cluster port could not be reached, closed, timed out or spoke something else. */
  CLUSTER_PORT_FAILED: 'cluster-port-failed',
} as const;

export type ClusterErrorCode = (typeof ClusterErrorCodes)[keyof typeof ClusterErrorCodes];

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
    this.code = code;
  }
}

/** Wraps whatever the etcd client threw, keeping ClusterErrors as they are. */
export function etcdFailure(what: string, error: unknown): ClusterError {
  if (error instanceof ClusterError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ClusterError(ClusterErrorCodes.ETCD_UNAVAILABLE, `${what}: ${detail}`, { cause: error });
}
