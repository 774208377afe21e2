/**
 * Where the cluster's state lives in etcd, all under one prefix so several clusters (or tests) can share
 * one etcd. Nothing here holds messages: membership, the leader, the ISR and settings, a few hundred bytes.
 */
export interface ClusterKeys {
  readonly prefix: string;
  /** One key per live node, on that node's lease. */
  member(nodeId: string): string;
  readonly membersPrefix: string;
  /** The leader key: its create revision is the epoch. */
  readonly leader: string;
  /** The in-sync replica set, written only by a transaction guarded on the leader key. */
  readonly isr: string;
  readonly settings: string;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isValidNodeId(nodeId: string): boolean {
  return NODE_ID.test(nodeId);
}

export function clusterKeys(prefix: string): ClusterKeys {
  const base = prefix.replace(/\/+$/, '');
  if (!base.startsWith('/')) throw new RangeError(`etcd prefix must start with '/', got '${prefix}'`);
  const membersPrefix = `${base}/members/`;
  return {
    prefix: base,
    member: (nodeId) => `${membersPrefix}${nodeId}`,
    membersPrefix,
    leader: `${base}/leader`,
    isr: `${base}/isr`,
    settings: `${base}/settings`,
  };
}
