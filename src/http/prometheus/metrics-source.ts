import type { Broker } from '../../broker/broker.js';
import type { Channel } from '../../broker/channel.js';
import type { Exchange } from '../../broker/exchange.js';
import type { Queue } from '../../broker/queue.js';
import type { VHost } from '../../broker/vhost.js';
import type { ClientConnection } from '../../protocol/client-connection.js';
import type { ConnectionRegistry } from '../../protocol/connection-registry.js';
import type { SegmentStoreStats } from '../../store/message-store.js';
import type { EventLoopLag } from './event-loop-lag.js';

/** Everything a scrape reads; all of it is live state or counters that already exist. */
export interface MetricsSource {
  readonly broker: Broker;
  readonly connections: ConnectionRegistry;
  /** The data directory's disk: free bytes, the free-space limit, bytes the message store uses. */
  disk(): { free: number; freeLimit: number; used: number };
  readonly storeStats: SegmentStoreStats;
  memoryLimit(): number;
  readonly eventLoop: EventLoopLag;
  /** `warren@<host>`, as the management API names the node. */
  readonly node: string;
  readonly startedAt: number;
  readonly version: string;
}

export interface ChannelOf {
  readonly channel: Channel;
  readonly connection: ClientConnection;
  readonly unconfirmed: number;
  readonly uncommitted: number;
  readonly acksUncommitted: number;
}

/** The objects a per-object scrape labels, narrowed to some vhosts when a filter says so. */
export interface Scope {
  readonly vhosts: readonly VHost[];
  readonly queues: readonly Queue[];
  readonly exchanges: readonly Exchange[];
  readonly connections: readonly ClientConnection[];
  readonly channels: readonly ChannelOf[];
}

export function scopeOf(source: MetricsSource, vhostFilter?: ReadonlySet<string>): Scope {
  const wanted = (name: string): boolean => vhostFilter === undefined || vhostFilter.has(name);
  const vhosts = [...source.broker.vhosts.values()].filter((v) => wanted(v.name));
  const queues = vhosts.flatMap((v) => [...v.queues.values()]);
  const exchanges = vhosts.flatMap((v) => [...v.exchanges.values()]);
  const connections = source.connections.list().filter((c) => c.isOpen && c.vhost !== undefined && wanted(c.vhost.name));
  const channels = connections.flatMap((connection) =>
    connection.channels().map((view) => ({
      channel: view.channel,
      connection,
      unconfirmed: view.unconfirmed,
      uncommitted: view.uncommittedMessages,
      acksUncommitted: view.uncommittedAcks,
    })),
  );
  return { vhosts, queues, exchanges, connections, channels };
}
