import { counter, gauge, histogram, type MetricFamily } from './exposition.js';
import type { MetricsSource } from './metrics-source.js';

/** Warren's own metrics, under `warren_`: the runtime and the message store, which RabbitMQ's names do not cover. */
export function warrenFamilies(source: MetricsSource): MetricFamily[] {
  const lag = source.eventLoop.read();
  const heap = process.memoryUsage();
  const store = source.storeStats;
  return [
    gauge('warren_event_loop_lag_seconds', 'Event-loop delay since the previous scrape, by statistic (mean, p50, p99, max)', [
      { labels: { statistic: 'mean' }, value: lag.mean },
      { labels: { statistic: 'p50' }, value: lag.p50 },
      { labels: { statistic: 'p99' }, value: lag.p99 },
      { labels: { statistic: 'max' }, value: lag.max },
    ]),
    gauge('warren_nodejs_heap_used_bytes', 'V8 heap in use', heap.heapUsed),
    gauge('warren_nodejs_heap_total_bytes', 'V8 heap reserved', heap.heapTotal),
    gauge('warren_nodejs_external_bytes', 'Memory held outside the V8 heap (message bodies in Buffers among it)', heap.external),
    gauge('warren_store_bytes', 'Bytes of message-store segment files on disk', source.disk().used),
    counter('warren_store_written_bytes_total', 'Bytes the message store wrote to its segment files', store.bytesWritten),
    counter('warren_store_flushes_total', 'Group commits: batches written and fsynced together', store.flushes),
    counter('warren_store_fsyncs_total', 'fdatasync calls on segment files and their directory', store.fsyncs),
    counter('warren_store_segments_deleted_total', 'Segment files deleted once every message in them was settled', store.segmentsDeleted),
    counter('warren_store_messages_copied_total', 'Live messages copied forward out of mostly-settled segments (compaction)', store.messagesCopied),
    counter('warren_store_messages_never_written_total', 'Persistent messages settled by every queue before their record was written, so never written', store.messagesNeverWritten),
    histogram('warren_store_fsync_seconds', 'Time each group commit waited for its fdatasync calls', [{ histogram: store.timings.fsyncSeconds }]),
    histogram('warren_store_group_commit_bytes', 'Bytes written per group commit (one fsync)', [{ histogram: store.timings.batchBytes }]),
    histogram('warren_store_group_commit_messages', 'Messages stored per group commit: how many publishes share one fsync', [{ histogram: store.timings.batchMessages }]),
  ];
}
