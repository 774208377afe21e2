import type { MessageStats } from '../../broker/message-stats.js';
import type { Sample } from './exposition.js';
import type { MetricsSource, Scope } from './metrics-source.js';

/** One metric of a RabbitMQ family: a sample per object, and how it adds up when no labels are wanted. */
export interface ObjectMetric {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly perObject: (scope: Scope) => Sample[];
  /**
   * The aggregated value. Counters read a broker-wide total that outlives the objects (so `/metrics`
   * stays monotonic when a queue or channel goes); gauges default to the sum of `perObject`.
   */
  readonly aggregate?: (source: MetricsSource) => number;
}

type Stat = Exclude<keyof MessageStats, 'deadLettered' | 'deliverGet'>;

const queueLabels = (q: { vhost: string; name: string }): Record<string, string> => ({ vhost: q.vhost, queue: q.name });

function queueGauge(name: string, help: string, value: (q: Scope['queues'][number]) => number): ObjectMetric {
  return { name, type: 'gauge', help, perObject: (s) => s.queues.map((q) => ({ labels: queueLabels(q), value: value(q) })) };
}

function queueCounter(name: string, help: string, stat: Stat): ObjectMetric {
  return {
    name,
    type: 'counter',
    help,
    perObject: (s) => s.queues.map((q) => ({ labels: queueLabels(q), value: q.stats[stat] })),
    aggregate: (source) => (stat === 'getEmpty' ? protocolTotal(source, stat) : source.broker.stats[stat]),
  };
}

function channelGauge(name: string, help: string, value: (c: Scope['channels'][number]) => number): ObjectMetric {
  return { name, type: 'gauge', help, perObject: (s) => s.channels.map((c) => ({ labels: { channel: c.channel.id }, value: value(c) })) };
}

function channelCounter(name: string, help: string, stat: Stat): ObjectMetric {
  return {
    name,
    type: 'counter',
    help,
    perObject: (s) => s.channels.map((c) => ({ labels: { channel: c.channel.id }, value: c.channel.stats[stat] })),
    aggregate: (source) => protocolTotal(source, stat),
  };
}

/** Every client channel's counter since start, closed channels included. */
function protocolTotal(source: MetricsSource, stat: Stat): number {
  let sum = 0;
  for (const protocol of source.broker.channelTally.protocols()) sum += protocol.totals()[stat];
  return sum;
}

/**
 * RabbitMQ's per-object families (prometheus_rabbitmq_core_metrics_collector.erl, `?METRICS_RAW`), with
 * the metrics Warren has the numbers for. The family names are what `/metrics/detailed?family=` takes.
 */
export const OBJECT_FAMILIES: Readonly<Record<string, readonly ObjectMetric[]>> = {
  queue_coarse_metrics: [
    queueGauge('queue_messages_ready', 'Messages ready to be delivered to consumers', (q) => q.messageCount),
    queueGauge('queue_messages_unacked', 'Messages delivered to consumers but not yet acknowledged', (q) => q.unackedCount),
    queueGauge('queue_messages', 'Sum of ready and unacknowledged messages - total queue depth', (q) => q.messageCount + q.unackedCount),
  ],
  queue_consumer_count: [queueGauge('queue_consumers', 'Consumers on a queue', (q) => q.consumerCount)],
  queue_metrics: [
    queueGauge('queue_consumers', 'Consumers on a queue', (q) => q.consumerCount),
    queueGauge('queue_messages_bytes', 'Size in bytes of ready and unacknowledged messages', (q) => q.readyBytes + q.unackedBytes),
    queueGauge('queue_messages_ready_bytes', 'Size in bytes of ready messages', (q) => q.readyBytes),
    queueGauge('queue_messages_unacked_bytes', 'Size in bytes of all unacknowledged messages', (q) => q.unackedBytes),
    queueCounter('queue_messages_published_total', 'Total number of messages published to queues', 'publish'),
  ],
  queue_delivery_metrics: [
    queueCounter('queue_get_ack_total', 'Total number of messages fetched from a queue with basic.get in manual acknowledgement mode', 'get'),
    queueCounter('queue_get_total', 'Total number of messages fetched from a queue with basic.get in automatic acknowledgement mode', 'getNoAck'),
    queueCounter('queue_messages_delivered_ack_total', 'Total number of messages delivered from a queue to consumers in manual acknowledgement mode', 'deliver'),
    queueCounter('queue_messages_delivered_total', 'Total number of messages delivered from a queue to consumers in automatic acknowledgement mode', 'deliverNoAck'),
    queueCounter('queue_messages_redelivered_total', 'Total number of messages redelivered from a queue to consumers', 'redeliver'),
    queueCounter('queue_messages_acked_total', 'Total number of messages acknowledged by consumers on a queue', 'ack'),
    queueCounter('queue_get_empty_total', 'Total number of times basic.get operations fetched no message on a queue', 'getEmpty'),
  ],
  exchange_metrics: [
    {
      name: 'exchange_messages_published_total',
      type: 'counter',
      help: 'Total number of messages published into an exchange',
      perObject: (s) => s.exchanges.map((e) => ({ labels: { vhost: e.vhost, exchange: e.name }, value: e.stats.publish })),
      aggregate: (source) => source.broker.stats.publish,
    },
  ],
  channel_metrics: [
    channelGauge('channel_consumers', 'Consumers on a channel', (c) => c.channel.consumerList.length),
    channelGauge('channel_messages_unacked', 'Delivered but not yet acknowledged messages', (c) => c.channel.unackedCount),
    channelGauge('channel_messages_unconfirmed', 'Published but not yet confirmed messages', (c) => c.unconfirmed),
    channelGauge('channel_messages_uncommitted', 'Messages received in a transaction but not yet committed', (c) => c.uncommitted),
    channelGauge('channel_acks_uncommitted', 'Message acknowledgements in a transaction not yet committed', (c) => c.acksUncommitted),
    channelGauge('consumer_prefetch', 'Limit of unacknowledged messages for each consumer', (c) => c.channel.prefetch),
    channelGauge('channel_prefetch', 'Limit of unacknowledged messages shared by the consumers of a channel (basic.qos global)', (c) => c.channel.sharedPrefetch),
  ],
  channel_exchange_metrics: [
    channelCounter('channel_messages_published_total', 'Total number of messages published into an exchange on a channel', 'publish'),
    channelCounter('channel_messages_confirmed_total', 'Total number of messages published into an exchange and confirmed on the channel', 'confirm'),
    channelCounter('channel_messages_unroutable_returned_total', 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', 'returnUnroutable'),
    channelCounter('channel_messages_unroutable_dropped_total', 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', 'dropUnroutable'),
  ],
  channel_queue_metrics: [
    channelCounter('channel_get_ack_total', 'Total number of messages fetched with basic.get in manual acknowledgement mode', 'get'),
    channelCounter('channel_get_total', 'Total number of messages fetched with basic.get in automatic acknowledgement mode', 'getNoAck'),
    channelCounter('channel_messages_delivered_ack_total', 'Total number of messages delivered to consumers in manual acknowledgement mode', 'deliver'),
    channelCounter('channel_messages_delivered_total', 'Total number of messages delivered to consumers in automatic acknowledgement mode', 'deliverNoAck'),
    channelCounter('channel_messages_redelivered_total', 'Total number of messages redelivered to consumers', 'redeliver'),
    channelCounter('channel_messages_acked_total', 'Total number of messages acknowledged by consumers', 'ack'),
    channelCounter('channel_get_empty_total', 'Total number of times basic.get operations fetched no message', 'getEmpty'),
  ],
  connection_coarse_metrics: [
    {
      name: 'connection_incoming_bytes_total',
      type: 'counter',
      help: 'Total number of bytes received on a connection',
      perObject: (s) => s.connections.map((c) => ({ labels: { connection: c.id }, value: c.traffic.bytesReceived })),
      aggregate: (source) => source.connections.traffic().bytesReceived,
    },
    {
      name: 'connection_outgoing_bytes_total',
      type: 'counter',
      help: 'Total number of bytes sent on a connection',
      perObject: (s) => s.connections.map((c) => ({ labels: { connection: c.id }, value: c.traffic.bytesSent })),
      aggregate: (source) => source.connections.traffic().bytesSent,
    },
  ],
  connection_metrics: [
    {
      name: 'connection_channels',
      type: 'gauge',
      help: 'Channels on a connection',
      perObject: (s) => s.connections.map((c) => ({ labels: { connection: c.id }, value: c.channels().length })),
    },
  ],
};
