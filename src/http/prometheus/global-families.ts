import type { ProtocolTotals } from '../../broker/channel-tally.js';
import type { MessageStats } from '../../broker/message-stats.js';
import { counter, gauge, histogram, type MetricFamily } from './exposition.js';
import type { MetricsSource } from './metrics-source.js';
import { PROTOCOL_NAMES, protocolLabel } from './protocol-label.js';

/** One per-protocol counter of RabbitMQ's `rabbit_global_counters`, and where Warren's number comes from. */
interface GlobalCounter {
  readonly name: string;
  readonly help: string;
  readonly value: (s: MessageStats) => number;
  /** RabbitMQ labels delivery counters by queue type too; every Warren queue is classic. */
  readonly byQueueType?: boolean;
}

const COUNTERS: readonly GlobalCounter[] = [
  { name: 'messages_received_total', help: 'Total number of messages received from publishers', value: (s) => s.publish },
  // Warren counts a publish that asked for a confirm when it is published; its confirm (or nack) follows.
  { name: 'messages_received_confirm_total', help: 'Total number of messages received from publishers expecting confirmations', value: (s) => s.confirm },
  {
    name: 'messages_routed_total',
    help: 'Total number of messages routed to queues or streams',
    value: (s) => s.publish - s.returnUnroutable - s.dropUnroutable,
  },
  { name: 'messages_unroutable_dropped_total', help: 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable', value: (s) => s.dropUnroutable },
  { name: 'messages_unroutable_returned_total', help: 'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable', value: (s) => s.returnUnroutable },
  { name: 'messages_confirmed_total', help: 'Total number of messages confirmed to publishers', value: (s) => s.confirm },
  { name: 'messages_delivered_total', help: 'Total number of messages delivered to consumers', value: (s) => s.deliverGet, byQueueType: true },
  {
    name: 'messages_delivered_consume_manual_ack_total',
    help: 'Total number of messages delivered to consumers using basic.consume with manual acknowledgment',
    value: (s) => s.deliver,
    byQueueType: true,
  },
  {
    name: 'messages_delivered_consume_auto_ack_total',
    help: 'Total number of messages delivered to consumers using basic.consume with automatic acknowledgment',
    value: (s) => s.deliverNoAck,
    byQueueType: true,
  },
  {
    name: 'messages_delivered_get_manual_ack_total',
    help: 'Total number of messages delivered to consumers using basic.get with manual acknowledgment',
    value: (s) => s.get,
    byQueueType: true,
  },
  {
    name: 'messages_delivered_get_auto_ack_total',
    help: 'Total number of messages delivered to consumers using basic.get with automatic acknowledgment',
    value: (s) => s.getNoAck,
    byQueueType: true,
  },
  { name: 'messages_get_empty_total', help: 'Total number of times basic.get operations fetched no message', value: (s) => s.getEmpty, byQueueType: true },
  { name: 'messages_redelivered_total', help: 'Total number of messages redelivered to consumers', value: (s) => s.redeliver, byQueueType: true },
  { name: 'messages_acknowledged_total', help: 'Total number of messages acknowledged by consumers', value: (s) => s.ack, byQueueType: true },
];

const DEAD_LETTER_REASONS = ['maxlen', 'expired', 'rejected', 'delivery_limit'] as const;

/**
 * RabbitMQ's `rabbitmq_global_*` series: per client protocol, from each protocol's channel totals (open
 * channels plus every closed one), so they only go up. Also `rabbitmq_message_size_bytes` per protocol.
 */
export function globalFamilies(source: MetricsSource): MetricFamily[] {
  const tally = source.broker.channelTally;
  for (const name of PROTOCOL_NAMES) tally.protocol(name);
  const protocols = tally.protocols().map((p) => ({ p, label: protocolLabel(p.protocol), stats: p.totals() }));
  const families: MetricFamily[] = COUNTERS.map((c) => {
    const labels = (protocol: string): Record<string, string> => (c.byQueueType ? { protocol, queue_type: 'rabbit_classic_queue' } : { protocol });
    return counter(`rabbitmq_global_${c.name}`, c.help, protocols.map(({ label, stats }) => ({ labels: labels(label), value: c.value(stats) })));
  });
  families.push(
    gauge('rabbitmq_global_publishers', 'Current number of publishers', protocols.map(({ p, label }) => ({ labels: { protocol: label }, value: publishers(p) }))),
    gauge('rabbitmq_global_consumers', 'Current number of consumers', protocols.map(({ p, label }) => ({ labels: { protocol: label }, value: consumers(p) }))),
  );
  const dead = source.broker.stats.deadLettered;
  for (const reason of DEAD_LETTER_REASONS) {
    families.push(
      counter(`rabbitmq_global_messages_dead_lettered_${reason}_total`, `Total number of messages dead-lettered due to ${reason.replace('_', '-')} to queues with an x-dead-letter-exchange`, [
        { labels: { queue_type: 'rabbit_classic_queue', dead_letter_strategy: 'at_most_once' }, value: dead[reason] },
      ]),
    );
  }
  families.push(
    histogram(
      'rabbitmq_message_size_bytes',
      'Size of messages received from publishers',
      protocols.map(({ p, label }) => ({ labels: { protocol: label }, histogram: p.messageSizes })),
    ),
  );
  return families;
}

/** Open channels that have published, as RabbitMQ counts a channel a publisher from its first publish. */
function publishers(totals: ProtocolTotals): number {
  let count = 0;
  for (const channel of totals.open) if (channel.stats.publish > 0) count++;
  return count;
}

function consumers(totals: ProtocolTotals): number {
  let count = 0;
  for (const channel of totals.open) count += channel.consumerCount;
  return count;
}
