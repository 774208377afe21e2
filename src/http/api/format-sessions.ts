/**
 * JSON shapes of connections, channels and consumers. A Warren connection is one WebSocket with exactly
 * one channel, so the channel is named `<connection> (1)` as RabbitMQ names channel 1 of a connection.
 */
import type { Consumer } from '../../broker/consumer.js';
import type { Session } from '../../protocol/session.js';
import { rabbitTime, sessionOf, type ApiContext } from './context.js';
import { channelCounters, ChannelMetrics, type Ranges } from './rates.js';

const PROTOCOL = 'Warren JSON over WebSocket';

export function channelName(session: Session): string {
  return `${session.id} (1)`;
}

/** `conn-… (1)` back to the connection id; undefined for any other channel number. */
export function connectionOfChannel(name: string): string | undefined {
  const match = /^(.*) \(1\)$/.exec(name);
  return match ? match[1] : undefined;
}

/**
 * A connection. Warren extension: its one channel's `message_stats` (publish, deliver_get, ack… with
 * `*_details.rate`), so a console can show connection rates without joining channels.
 */
export function formatConnection(ctx: ApiContext, session: Session, ranges: Ranges = {}): Record<string, unknown> {
  const user = session.user?.name ?? '';
  const out: Record<string, unknown> = {
    auth_mechanism: 'PLAIN',
    channel_max: 1,
    channels: 1,
    client_properties: session.clientProperties,
    connected_at: session.connectedAt,
    frame_max: ctx.broker.maxBodySize,
    host: null,
    name: session.id,
    node: ctx.node,
    peer_host: session.peer.address,
    peer_port: session.peer.port,
    port: ctx.listener()?.port ?? null,
    protocol: PROTOCOL,
    ssl: false,
    state: 'running',
    timeout: session.heartbeat,
    type: 'network',
    user,
    user_who_performed_action: user,
    vhost: session.vhost.name,
  };
  const provided = session.clientProperties.connection_name;
  if (typeof provided === 'string') out.user_provided_name = provided;
  if (session.state === 'open') {
    const channel = session.channel;
    const stats = ctx.sampler.messageStats(channelCounters(channel.stats), ctx.sampler.series('channel', channel), ChannelMetrics, ranges);
    if (stats) out.message_stats = stats;
  }
  return out;
}

export function formatChannel(ctx: ApiContext, session: Session, ranges: Ranges, detailed = false): Record<string, unknown> {
  const channel = session.channel;
  const user = session.user?.name ?? '';
  const consumers = channel.consumerList;
  const out: Record<string, unknown> = {
    acks_uncommitted: 0,
    confirm: channel.stats.confirm > 0,
    connection_details: { name: session.id, peer_host: session.peer.address, peer_port: session.peer.port },
    consumer_count: consumers.length,
    global_prefetch_count: 0,
    messages_unacknowledged: channel.unackedCount,
    messages_uncommitted: 0,
    messages_unconfirmed: 0,
    name: channelName(session),
    node: ctx.node,
    number: 1,
    pending_raft_commands: 0,
    prefetch_count: channel.prefetch,
    state: 'running',
    transactional: false,
    user,
    user_who_performed_action: user,
    vhost: session.vhost.name,
  };
  const series = ctx.sampler.series('channel', channel);
  if (series?.idle) out.idle_since = rabbitTime(series.changedAt);
  const stats = ctx.sampler.messageStats(channelCounters(channel.stats), series, ChannelMetrics, ranges);
  if (stats) out.message_stats = stats;
  if (detailed) out.consumer_details = consumers.map((consumer) => formatConsumer(ctx, consumer));
  return out;
}

export function formatConsumer(ctx: ApiContext, consumer: Consumer): Record<string, unknown> {
  const session = sessionOf(ctx, consumer.channel);
  const queue = consumer.queue;
  // With single-active-consumer only the head of the queue's consumer list is delivered to.
  const active = !queue.limits.singleActiveConsumer || queue.consumerList[0] === consumer;
  return {
    ack_required: !consumer.noAck,
    active,
    activity_status: active ? 'up' : 'waiting',
    arguments: consumer.arguments,
    channel_details: session
      ? {
          connection_name: session.id,
          name: channelName(session),
          node: ctx.node,
          number: 1,
          peer_host: session.peer.address,
          peer_port: session.peer.port,
          user: session.user?.name ?? '',
        }
      : {},
    consumer_tag: consumer.tag,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    queue: { name: queue.name, vhost: queue.vhost },
  };
}
