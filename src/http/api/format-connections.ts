/**
 * JSON shapes of connections, channels and consumers, for every protocol. Channel `n` of a connection is
 * named `<connection> (n)` as RabbitMQ names it; the JSON protocol's one channel is number 1.
 */
import type { Consumer } from '../../broker/consumer.js';
import { providedName, type ChannelView, type ClientConnection } from '../../protocol/client-connection.js';
import { sslFields } from '../tls/tls-facts.js';
import { connectionOf, rabbitTime, type ApiContext } from './context.js';
import { channelCounters, ChannelMetrics, ConnectionMetrics, connectionCounters, type Ranges } from './rates.js';

/** One channel as listed: the channel and the connection it belongs to. */
export interface ChannelEntry {
  readonly connection: ClientConnection;
  readonly view: ChannelView;
}

export function channelName(connection: ClientConnection, number: number): string {
  return `${connection.id} (${number})`;
}

/** `<connection> (<n>)` back to the connection's name and the channel number. */
export function parseChannelName(name: string): { connection: string; number: number } | undefined {
  const match = /^(.*) \(([0-9]+)\)$/.exec(name);
  return match ? { connection: match[1] as string, number: Number(match[2]) } : undefined;
}

export function channelsOf(connections: readonly ClientConnection[]): ChannelEntry[] {
  return connections.flatMap((connection) => connection.channels().map((view) => ({ connection, view })));
}

/**
 * A connection. Warren extension: its channels' summed `message_stats` (publish, deliver_get, ack… with
 * `*_details.rate`), so a console can show connection rates without joining channels.
 */
export function formatConnection(ctx: ApiContext, connection: ClientConnection, ranges: Ranges = {}): Record<string, unknown> {
  const user = connection.user?.name ?? '';
  const out: Record<string, unknown> = {
    auth_mechanism: connection.authMechanism,
    channel_max: connection.channelMax,
    channels: connection.channels().length,
    client_properties: connection.clientProperties,
    connected_at: connection.connectedAt,
    frame_max: connection.frameMax,
    host: null,
    name: connection.id,
    node: ctx.node,
    peer_host: connection.peer.address,
    peer_port: connection.peer.port,
    port: connection.localPort || (ctx.listener()?.port ?? null),
    protocol: connection.protocol,
    // ssl, ssl_*, peer_cert_*: null on a plain connection, as RabbitMQ shows them.
    ...sslFields(connection.peer.tls),
    state: 'running',
    timeout: connection.heartbeat,
    type: 'network',
    user,
    user_who_performed_action: user,
    vhost: connection.vhost?.name ?? '',
  };
  const provided = providedName(connection.clientProperties);
  if (provided !== null) out.user_provided_name = provided;
  if (connection.isOpen) {
    const series = ctx.sampler.series('connection', connection);
    const stats = ctx.sampler.messageStats(connectionCounters(connection), series, ConnectionMetrics, ranges);
    if (stats) out.message_stats = stats;
    // RabbitMQ's socket counters; Warren has no packet counts (`recv_cnt`, `send_cnt`), so they are not shown.
    out.recv_oct = connection.traffic.bytesReceived;
    out.recv_oct_details = ctx.sampler.details(series, ConnectionMetrics, 'recv_oct', ranges);
    out.send_oct = connection.traffic.bytesSent;
    out.send_oct_details = ctx.sampler.details(series, ConnectionMetrics, 'send_oct', ranges);
  }
  return out;
}

export function formatChannel(ctx: ApiContext, entry: ChannelEntry, ranges: Ranges, detailed = false): Record<string, unknown> {
  const { connection, view } = entry;
  const channel = view.channel;
  const user = connection.user?.name ?? '';
  const consumers = channel.consumerList;
  const out: Record<string, unknown> = {
    acks_uncommitted: view.uncommittedAcks,
    confirm: view.confirm,
    connection_details: { name: connection.id, peer_host: connection.peer.address, peer_port: connection.peer.port },
    consumer_count: consumers.length,
    global_prefetch_count: channel.sharedPrefetch,
    messages_unacknowledged: channel.unackedCount,
    messages_uncommitted: view.uncommittedMessages,
    messages_unconfirmed: view.unconfirmed,
    name: channelName(connection, view.number),
    node: ctx.node,
    number: view.number,
    pending_raft_commands: 0,
    prefetch_count: channel.prefetch,
    state: 'running',
    transactional: view.transactional,
    user,
    user_who_performed_action: user,
    vhost: channel.vhost.name,
  };
  const series = ctx.sampler.series('channel', channel);
  if (series?.idle) out.idle_since = rabbitTime(series.changedAt);
  const stats = ctx.sampler.messageStats(channelCounters(channel.stats), series, ChannelMetrics, ranges);
  if (stats) out.message_stats = stats;
  if (detailed) out.consumer_details = consumers.map((consumer) => formatConsumer(ctx, consumer));
  return out;
}

export function formatConsumer(ctx: ApiContext, consumer: Consumer): Record<string, unknown> {
  const connection = connectionOf(ctx, consumer.channel);
  const view = connection?.channels().find((v) => v.channel === consumer.channel);
  const queue = consumer.queue;
  // With single-active-consumer only the head of the queue's consumer list is delivered to.
  const active = !queue.limits.singleActiveConsumer || queue.consumerList[0] === consumer;
  return {
    ack_required: !consumer.noAck,
    active,
    activity_status: active ? 'up' : 'waiting',
    arguments: consumer.arguments,
    channel_details:
      connection && view
        ? {
            connection_name: connection.id,
            name: channelName(connection, view.number),
            node: ctx.node,
            number: view.number,
            peer_host: connection.peer.address,
            peer_port: connection.peer.port,
            user: connection.user?.name ?? '',
          }
        : {},
    consumer_tag: consumer.tag,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    queue: { name: queue.name, vhost: queue.vhost },
  };
}
