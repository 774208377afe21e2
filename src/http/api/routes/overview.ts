/** `/api/overview`, `/api/whoami`, `/api/cluster-name`, `/api/nodes`, `/api/extensions`. */
import { cpus } from 'node:os';
import { exchangeTypeNames } from '../../../broker/exchange-types/registry.js';
import { RABBITMQ_VERSION } from '../definitions-format.js';
import { adminOnly, apiActor, apiUser, monitorOnly, type ApiUser } from '../auth.js';
import { parseRanges, plainParam, rangeQueryProperties, visibleConnections, visibleVhosts, type ApiContext, type ApiInstance } from '../context.js';
import { objectNotFound } from '../errors.js';
import { deadLetterCounters } from '../format.js';
import { MessageStats } from '../../../broker/message-stats.js';
import { channelCounters, GlobalMetrics, LengthMetrics, VhostMetrics, type Details, type Ranges } from '../rates.js';

const TYPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  direct: 'AMQP direct exchange, as per the AMQP specification',
  fanout: 'AMQP fanout exchange, as per the AMQP specification',
  headers: 'AMQP headers exchange, as per the AMQP specification',
  topic: 'AMQP topic exchange, as per the AMQP specification',
  // The plugin's own description, which RabbitMQ lists when the plugin is enabled.
  'x-delayed-message': 'Delayed Message Exchange.',
};

const statsQuery = {
  type: 'object',
  properties: { columns: { type: 'string' }, ...rangeQueryProperties },
} as const;
const nodeParams = { type: 'object', properties: { node: plainParam }, required: ['node'] } as const;

function exchangeTypes(): Array<{ name: string; description: string; enabled: boolean }> {
  return exchangeTypeNames()
    .sort()
    .map((name) => ({ name, description: TYPE_DESCRIPTIONS[name] ?? name, enabled: true }));
}

export function clusterName(ctx: ApiContext): string {
  return ctx.broker.clusterName ?? ctx.node;
}

export function registerOverviewRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(
    '/overview',
    { schema: { tags: ['overview'], summary: 'Broker-wide totals, rates and versions', querystring: statsQuery } },
    async (request) => overview(ctx, apiUser(request), parseRanges(request.query)),
  );

  app.get('/whoami', { schema: { tags: ['overview'], summary: 'The authenticated user' } }, async (request) => {
    const user = apiUser(request);
    return { name: user.name, tags: [...user.tags], is_internal_user: true };
  });

  app.get('/cluster-name', { schema: { tags: ['overview'] } }, async () => ({ name: clusterName(ctx) }));
  app.put(
    '/cluster-name',
    {
      preValidation: adminOnly,
      schema: { tags: ['overview'], body: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } } },
    },
    async (request, reply) => {
      await ctx.ops.admin.setClusterName(apiActor(request), request.body.name);
      return reply.code(204).send();
    },
  );

  app.get('/nodes', { preValidation: monitorOnly, schema: { tags: ['overview'], summary: 'The one node Warren runs as' } }, async () => [node(ctx)]);
  app.get('/nodes/:node', { preValidation: monitorOnly, schema: { tags: ['overview'], params: nodeParams } }, async (request) => {
    if (request.params.node !== ctx.node) throw objectNotFound();
    return node(ctx);
  });

  app.get('/extensions', { schema: { tags: ['overview'], summary: 'Management UI plugins (none)' } }, async () => []);
}

function overview(ctx: ApiContext, user: ApiUser, ranges: Ranges): Record<string, unknown> {
  const vhosts = visibleVhosts(ctx, user);
  let queues = 0;
  let exchanges = 0;
  let consumers = 0;
  let ready = 0;
  let unacked = 0;
  for (const vhost of vhosts) {
    queues += vhost.queues.size;
    exchanges += vhost.exchanges.size;
    for (const queue of vhost.queues.values()) {
      consumers += queue.consumerCount;
      ready += queue.messageCount;
      unacked += queue.unackedCount;
    }
  }
  // Lengths are live; their `_details` come from the samples.
  const lengths: Record<string, number> = { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked };
  const connections = visibleConnections(ctx, user);
  const sampler = ctx.sampler;
  let totals: Record<string, unknown>;
  let messageStats: Record<string, unknown> | undefined;
  if (user.isMonitor) {
    const global = sampler.series('global');
    totals = {};
    for (const name of ['messages', 'messages_ready', 'messages_unacknowledged']) {
      totals[name] = lengths[name];
      totals[`${name}_details`] = sampler.details(global, GlobalMetrics, name, ranges);
    }
    messageStats = sampler.messageStats(channelCounters(ctx.broker.stats), global, GlobalMetrics, ranges);
  } else {
    // Only the user's vhosts count: their sampled series are added up.
    const series = vhosts.map((vhost) => sampler.series('vhost', vhost.name));
    const sum = (name: string): { value: number; details: Details } => {
      const index = VhostMetrics.indexOf(name as (typeof VhostMetrics)[number]);
      const parts = series.map((s) => ({ value: s?.latest[index] ?? 0, details: sampler.details(s, VhostMetrics, name, ranges) }));
      const ranged = (LengthMetrics.has(name) ? ranges.lengths : ranges.msgRates) !== undefined;
      return { value: parts.reduce((a, p) => a + p.value, 0), details: sumDetails(parts.map((p) => p.details), ranged) };
    };
    totals = {};
    for (const name of ['messages', 'messages_ready', 'messages_unacknowledged']) {
      totals[name] = lengths[name];
      totals[`${name}_details`] = sum(name).details;
    }
    const stats: Record<string, unknown> = {};
    let active = false;
    for (const name of VhostMetrics.slice(0, 8)) {
      const { value, details } = sum(name);
      active ||= value > 0;
      stats[name] = value;
      stats[`${name}_details`] = details;
    }
    messageStats = active ? stats : undefined;
  }
  Object.assign(totals, deadLetterCounters(user.isMonitor ? ctx.broker.stats : deadLettersOf(vhosts)));
  const memory = process.memoryUsage();
  const listener = ctx.listener();
  const out: Record<string, unknown> = {
    management_version: RABBITMQ_VERSION,
    rates_mode: 'basic',
    sample_retention_policies: { global: [600, 3600], basic: [600, 3600], detailed: [600] },
    exchange_types: exchangeTypes(),
    product_version: ctx.version,
    product_name: 'Warren',
    rabbitmq_version: RABBITMQ_VERSION,
    cluster_name: clusterName(ctx),
    erlang_version: process.version,
    erlang_full_version: `Node.js ${process.version}`,
    release_series_support_status: 'supported',
    disable_stats: false,
    enable_queue_totals: false,
    is_op_policy_updating_enabled: false,
    ...(messageStats ? { message_stats: messageStats } : {}),
    queue_totals: totals,
    object_totals: {
      channels: connections.reduce((sum, c) => sum + c.channels().length, 0),
      connections: connections.length,
      ...(user.isMonitor ? { consumers } : {}),
      exchanges,
      queues,
    },
    statistics_db_event_queue: 0,
    // Warren extras for a console.
    uptime: Date.now() - ctx.startedAt,
    memory: { rss: memory.rss, heap_total: memory.heapTotal, heap_used: memory.heapUsed, external: memory.external },
    node_version: process.version,
  };
  if (user.isMonitor) {
    out.node = ctx.node;
    out.listeners = ctx.listeners().map((l) => ({
      node: ctx.node,
      protocol: l.protocol,
      ip_address: l.address,
      port: l.port,
      socket_opts: l.path === undefined ? {} : { path: l.path },
    }));
    out.contexts = listener ? [{ node: ctx.node, description: 'Warren management', path: '/', port: String(listener.port) }] : [];
  }
  return out;
}

/** Dead-letter counts of the live queues of some vhosts (broker-wide ones also keep deleted queues'). */
function deadLettersOf(vhosts: Iterable<{ queues: ReadonlyMap<string, { stats: MessageStats }> }>): MessageStats {
  const sum = new MessageStats();
  for (const vhost of vhosts) {
    for (const { stats } of vhost.queues.values()) {
      for (const reason of Object.keys(sum.deadLettered) as Array<keyof MessageStats['deadLettered']>) sum.deadLettered[reason] += stats.deadLettered[reason];
      sum.deadLetterDropped += stats.deadLetterDropped;
    }
  }
  return sum;
}

/** Details of several series added up; the samples line up because timestamps are aligned to `incr`. */
function sumDetails(parts: Details[], ranged: boolean): Details {
  const out: Details = { rate: 0 };
  const byTime = new Map<number, number>();
  let avg = 0;
  let avgRate = 0;
  for (const part of parts) {
    out.rate += part.rate;
    avg += part.avg ?? 0;
    avgRate += part.avg_rate ?? 0;
    for (const s of part.samples ?? []) byTime.set(s.timestamp, (byTime.get(s.timestamp) ?? 0) + s.sample);
  }
  if (!ranged) return out;
  out.samples = [...byTime].sort((a, b) => b[0] - a[0]).map(([timestamp, sample]) => ({ sample, timestamp }));
  out.avg_rate = avgRate;
  out.avg = avg;
  return out;
}

function node(ctx: ApiContext): Record<string, unknown> {
  const memory = process.memoryUsage();
  const disk = ctx.disk();
  const uptime = Date.now() - ctx.startedAt;
  return {
    name: ctx.node,
    type: 'disc',
    running: true,
    being_drained: false,
    os_pid: String(process.pid),
    mem_used: memory.rss,
    mem_limit: ctx.memoryLimit(),
    mem_alarm: ctx.broker.memoryAlarm,
    disk_free_alarm: ctx.broker.diskAlarm,
    disk_free: disk.free,
    disk_free_limit: disk.freeLimit,
    data_dir: disk.path,
    data_dir_size: disk.used,
    sockets_used: ctx.connections.size,
    proc_used: 1,
    processors: cpus().length,
    uptime,
    run_queue: 0,
    rates_mode: 'basic',
    exchange_types: exchangeTypes(),
    partitions: [],
    applications: [{ name: 'warren', description: 'Warren message broker', version: ctx.version }],
    enabled_plugins: ['rabbitmq_management'],
  };
}
