/**
 * The cluster's coordination layer (docs/cluster.md). Nothing in the single-node path imports this
 * folder: a Warren without `--cluster` never loads etcd's client.
 */
export { ClusterError, ClusterErrorCodes, type ClusterErrorCode } from './cluster-errors.js';
export { clusterKeys, type ClusterKeys } from './cluster-keys.js';
export type { ClusterSettings } from './cluster-settings.js';
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type { CampaignOutcome } from './election.js';
export type { IsrRecord } from './isr.js';
export type { LeaderRecord } from './leader-record.js';
export { LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
export type { MemberInfo } from './membership.js';
export { monotonicNow } from './lease-protocol.js';
export { ClusterBarrier } from './cluster-barrier.js';
export { Follower, type ConnectReplica, type FollowerOptions, type ReplicaConnection } from './follower.js';
export type { ClusterLog } from './cluster-log.js';
export { Replicator, type FollowerState, type FollowerStatus, type ReplicationStatus, type ReplicatorOptions } from './replicator.js';
export {
  ClusterPortListener,
  connectClusterPort,
  readClusterSecret,
  encodeFrame,
  FrameError,
  FrameReader,
  HandshakeFrameTypes,
  MAX_HANDSHAKE_FRAME_BYTES,
  type ClusterPortConnection,
  type ClusterPortListenerOptions,
  type ClusterPortPurpose,
  type ConnectClusterPortOptions,
  type Frame,
  type TunnelTarget,
} from './cluster-port.js';
export { TunnelFront, type LeaderAddress, type TunnelFrontOptions, type TunnelFrontPorts } from './tunnel-front.js';
export type { ClusterMemberState, ClusterMemberStatus, ClusterRole, ClusterStatus, ClusteredStatus, SingleNodeStatus } from './cluster-status.js';
