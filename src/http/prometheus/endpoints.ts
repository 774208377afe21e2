import { render, type MetricFamily } from './exposition.js';
import { globalFamilies } from './global-families.js';
import { scopeOf, type MetricsSource } from './metrics-source.js';
import { alarms, CLUSTER_FAMILIES, identity, NODE_FAMILIES, processStart, queueInfo, readNode, totals } from './node-families.js';
import { OBJECT_FAMILIES } from './object-families.js';
import type { DetailedQuery } from './detailed-query.js';
import { warrenFamilies } from './warren-families.js';

const QUEUE_FAMILIES = new Set(['queue_coarse_metrics', 'queue_consumer_count', 'queue_metrics']);

/** `/metrics`: every family, summed over objects (no per-object labels). */
export async function aggregated(source: MetricsSource): Promise<string> {
  const node = await readNode();
  const scope = scopeOf(source);
  const families: MetricFamily[] = [];
  for (const build of Object.values(NODE_FAMILIES)) families.push(...build(source, node, 'rabbitmq_'));
  for (const [family, metrics] of Object.entries(OBJECT_FAMILIES)) {
    if (family === 'queue_consumer_count') continue; // queue_metrics has the same series
    for (const metric of metrics) {
      const value = metric.aggregate ? metric.aggregate(source) : metric.perObject(scope).reduce((sum, s) => sum + s.value, 0);
      families.push({ name: `rabbitmq_${metric.name}`, help: metric.help, type: metric.type, samples: [{ value }] });
    }
  }
  families.push(...totals(source), ...globalFamilies(source), ...alarms(source), ...identity(source, 'aggregated'), processStart(source), ...warrenFamilies(source));
  return render(families);
}

/** `/metrics/per-object`: the object families with a series per queue, exchange, channel and connection. */
export async function perObject(source: MetricsSource): Promise<string> {
  const node = await readNode();
  const scope = scopeOf(source);
  const families: MetricFamily[] = [];
  for (const build of Object.values(NODE_FAMILIES)) families.push(...build(source, node, 'rabbitmq_'));
  for (const [family, metrics] of Object.entries(OBJECT_FAMILIES)) {
    if (family === 'queue_consumer_count') continue;
    for (const metric of metrics) families.push({ name: `rabbitmq_${metric.name}`, help: metric.help, type: metric.type, samples: metric.perObject(scope) });
  }
  families.push(
    ...totals(source),
    processStart(source),
    queueInfo(scope, 'rabbitmq_'),
    ...globalFamilies(source),
    ...alarms(source),
    ...identity(source, 'per-object'),
    ...warrenFamilies(source),
  );
  return render(families);
}

/** `/metrics/detailed`: only the families asked for, per object, under `rabbitmq_detailed_` (cluster ones under `rabbitmq_cluster_`). */
export async function detailed(source: MetricsSource, query: DetailedQuery): Promise<string> {
  const node = await readNode();
  const scope = scopeOf(source, query.vhosts);
  const families: MetricFamily[] = [];
  const prefix = 'rabbitmq_detailed_';
  for (const family of query.families) {
    // Both name `queue_consumers`: RabbitMQ leaves out the smaller family when both are asked for.
    if (family === 'queue_consumer_count' && query.families.has('queue_metrics')) continue;
    const nodeFamily = NODE_FAMILIES[family];
    if (nodeFamily) families.push(...nodeFamily(source, node, prefix));
    for (const metric of OBJECT_FAMILIES[family] ?? []) {
      families.push({ name: `${prefix}${metric.name}`, help: metric.help, type: metric.type, samples: metric.perObject(scope) });
    }
    const cluster = CLUSTER_FAMILIES[family];
    if (cluster) families.push(cluster(scope));
  }
  if ([...query.families].some((f) => QUEUE_FAMILIES.has(f))) families.push(queueInfo(scope, prefix));
  families.push(...identity(source, 'detailed'));
  return render(families);
}
