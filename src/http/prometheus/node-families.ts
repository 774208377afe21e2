import { readdir, readFile } from 'node:fs/promises';
import { RABBITMQ_VERSION } from '../api/definitions-format.js';
import { counter, gauge, untyped, type MetricFamily } from './exposition.js';
import type { MetricsSource, Scope } from './metrics-source.js';

/** File descriptors: open and limit, from /proc on Linux; undefined elsewhere (the metrics are then left out). */
export interface FileDescriptors {
  readonly open: number | undefined;
  readonly max: number | undefined;
}

export async function fileDescriptors(): Promise<FileDescriptors> {
  const open = await readdir('/proc/self/fd').then((entries) => entries.length, () => undefined);
  const max = await readFile('/proc/self/limits', 'utf8').then(
    (text) => {
      const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1];
      return soft === undefined ? undefined : Number(soft);
    },
    () => undefined,
  );
  return { open, max };
}

/** What a scrape measured once and every family reads. */
export interface NodeReadings {
  readonly fds: FileDescriptors;
  readonly rss: number;
}

export async function readNode(): Promise<NodeReadings> {
  return { fds: await fileDescriptors(), rss: process.memoryUsage.rss() };
}

/** RabbitMQ's node-wide families, by family name (the names `/metrics/detailed?family=` takes). */
export const NODE_FAMILIES: Readonly<Record<string, (source: MetricsSource, node: NodeReadings, prefix: string) => MetricFamily[]>> = {
  connection_churn_metrics: (source, _node, p) => {
    let channelsOpened = 0;
    let channelsClosed = 0;
    for (const protocol of source.broker.channelTally.protocols()) {
      channelsOpened += protocol.channelsOpened;
      channelsClosed += protocol.channelsClosed;
    }
    const churn = source.broker.queueChurn;
    return [
      counter(`${p}connections_opened_total`, 'Total number of connections opened', source.connections.opened),
      counter(`${p}connections_closed_total`, 'Total number of connections closed or terminated', source.connections.closed),
      counter(`${p}channels_opened_total`, 'Total number of channels opened', channelsOpened),
      counter(`${p}channels_closed_total`, 'Total number of channels closed', channelsClosed),
      counter(`${p}queues_declared_total`, 'Total number of queues declared', churn.declared),
      counter(`${p}queues_created_total`, 'Total number of queues created', churn.created),
      counter(`${p}queues_deleted_total`, 'Total number of queues deleted', churn.deleted),
    ];
  },
  node_coarse_metrics: (source, node, p) => [
    ...(node.fds.open === undefined ? [] : [gauge(`${p}process_open_fds`, 'Open file descriptors', node.fds.open)]),
    gauge(`${p}process_resident_memory_bytes`, 'Memory used in bytes', node.rss),
    gauge(`${p}disk_space_available_bytes`, 'Disk space available in bytes', source.disk().free),
  ],
  node_metrics: (source, node, p) => [
    ...(node.fds.max === undefined ? [] : [gauge(`${p}process_max_fds`, 'Open file descriptors limit', node.fds.max)]),
    gauge(`${p}resident_memory_limit_bytes`, 'Memory high watermark in bytes', source.memoryLimit()),
    gauge(`${p}disk_space_available_limit_bytes`, 'Free disk space low watermark in bytes', source.disk().freeLimit),
    // RabbitMQ's name, which its dashboards read as node uptime; Warren's runtime is Node.js, not Erlang.
    gauge(`${p}erlang_uptime_seconds`, 'Node uptime', (Date.now() - source.startedAt) / 1000),
  ],
  // RabbitMQ's persister I/O, from the message store's group commits (Warren reads nothing back but at
  // recovery and paging, so only writes and syncs are counted).
  node_persister_metrics: (source, _node, p) => {
    const store = source.storeStats;
    return [
      counter(`${p}io_write_ops_total`, 'Total number of I/O write operations (one per group commit and segment)', store.flushes),
      counter(`${p}io_write_bytes_total`, 'Total number of I/O bytes written', store.bytesWritten),
      counter(`${p}io_sync_ops_total`, 'Total number of I/O sync operations', store.fsyncs),
      counter(`${p}io_sync_time_seconds_total`, 'Total I/O sync time', store.timings.fsyncSeconds.sum),
      counter(`${p}msg_store_write_total`, 'Total number of message store write operations', store.timings.batchMessages.sum),
    ];
  },
};

/** When the process started, as Prometheus's process collector names it (RabbitMQ serves it too). */
export function processStart(source: MetricsSource): MetricFamily {
  return gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds', source.startedAt / 1000);
}

/** RabbitMQ's `?TOTALS`: objects that exist now, broker-wide. */
export function totals(source: MetricsSource): MetricFamily[] {
  let queues = 0;
  let consumers = 0;
  for (const vhost of source.broker.vhosts.values()) {
    queues += vhost.queues.size;
    for (const queue of vhost.queues.values()) consumers += queue.consumerCount;
  }
  let connections = 0;
  let channels = 0;
  for (const connection of source.connections.list()) {
    if (!connection.isOpen) continue;
    connections++;
    channels += connection.channels().length;
  }
  return [
    gauge('rabbitmq_connections', 'Connections currently open', connections),
    gauge('rabbitmq_channels', 'Channels currently open', channels),
    gauge('rabbitmq_consumers', 'Consumers currently connected', consumers),
    gauge('rabbitmq_queues', 'Queues available', queues),
  ];
}

/** RabbitMQ's alarm collector: 1 while the alarm is on. Warren has no file-descriptor alarm (always 0). */
export function alarms(source: MetricsSource): MetricFamily[] {
  return [
    gauge('rabbitmq_alarms_file_descriptor_limit', 'is 1 if file descriptor limit alarm is in effect', 0),
    gauge('rabbitmq_alarms_free_disk_space_watermark', 'is 1 if free disk space watermark alarm is in effect', source.broker.diskAlarm ? 1 : 0),
    gauge('rabbitmq_alarms_memory_used_watermark', 'is 1 if VM memory watermark alarm is in effect', source.broker.memoryAlarm ? 1 : 0),
  ];
}

/**
 * `rabbitmq_build_info` and `rabbitmq_identity_info`, the series RabbitMQ's dashboards join every query
 * on. `rabbitmq_version` is the RabbitMQ version Warren's management API speaks; `erlang_version`
 * carries the Node.js version, as the management API's overview does.
 */
export function identity(source: MetricsSource, endpoint: string): MetricFamily[] {
  return [
    untyped('rabbitmq_build_info', 'RabbitMQ & Erlang/OTP version info', [
      {
        labels: {
          rabbitmq_version: RABBITMQ_VERSION,
          product_name: 'Warren',
          product_version: source.version,
          prometheus_plugin_version: source.version,
          prometheus_client_version: source.version,
          erlang_version: process.version,
        },
        value: 1,
      },
    ]),
    untyped('rabbitmq_identity_info', 'RabbitMQ node & cluster identity info', [
      {
        labels: { rabbitmq_node: source.node, rabbitmq_cluster: source.broker.clusterName ?? source.node, rabbitmq_endpoint: endpoint },
        value: 1,
      },
    ]),
  ];
}

/** A constant 1 per queue with its details, as RabbitMQ's `queue_info`. Warren's queues are classic, on this one node. */
export function queueInfo(scope: Scope, prefix: string): MetricFamily {
  return gauge(
    `${prefix}queue_info`,
    "A metric with a constant '1' value and labels that provide some queue details",
    scope.queues.map((q) => ({ labels: { vhost: q.vhost, queue: q.name, queue_type: 'rabbit_classic_queue', membership: 'leader' }, value: 1 })),
  );
}

/** The families only `/metrics/detailed` serves, under `rabbitmq_cluster_` (`?METRICS_CLUSTER`). */
export const CLUSTER_FAMILIES: Readonly<Record<string, (scope: Scope) => MetricFamily>> = {
  vhost_status: (scope) =>
    gauge('rabbitmq_cluster_vhost_status', 'Whether a given vhost is running', scope.vhosts.map((v) => ({ labels: { vhost: v.name }, value: 1 }))),
  exchange_bindings: (scope) =>
    gauge(
      'rabbitmq_cluster_exchange_bindings',
      'Number of bindings for an exchange. This value is cluster-wide.',
      scope.exchanges.map((e) => ({ labels: { vhost: e.vhost, exchange: e.name, type: e.type }, value: e.outbound.size })),
    ),
  exchange_names: (scope) =>
    gauge(
      'rabbitmq_cluster_exchange_name',
      'Enumerates exchanges without any additional info. This value is cluster-wide. A cheaper alternative to `exchange_bindings`',
      scope.exchanges.map((e) => ({ labels: { vhost: e.vhost, exchange: e.name, type: e.type }, value: 1 })),
    ),
};
