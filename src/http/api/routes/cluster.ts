/**
 * `/api/cluster`: the nodes, the leader, the epoch, the in-sync replica set and each follower's lag
 * (docs/cluster.md). Without `--cluster`: `{ cluster: false, node: <cluster name> }`. Types only come
 * from src/cluster: the single-node path must not load it.
 */
import type { ClusterStatus } from '../../../cluster/cluster-status.js';
import { monitorOnly } from '../auth.js';
import type { ApiContext, ApiInstance } from '../context.js';
import { clusterName } from './overview.js';

export function registerClusterRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(
    '/cluster',
    { preValidation: monitorOnly, schema: { tags: ['overview'], summary: 'Cluster nodes, leader, epoch, in-sync replicas and lag (monitoring)' } },
    async (): Promise<ClusterStatus> => (ctx.clusterStatus ? ctx.clusterStatus() : { cluster: false, node: clusterName(ctx) }),
  );
}
