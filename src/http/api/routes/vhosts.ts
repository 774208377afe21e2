/** `/api/vhosts`: list (filtered), get/put/delete (administrators). */
import type { VHost } from '../../../broker/vhost.js';
import { parseTags } from '../definitions-format.js';
import { adminOnly, apiActor, apiUser } from '../auth.js';
import { bool, boolish, checkName, parseRanges, statsListQuery, vhostOr404, vhostParams, visibleVhosts, type ApiContext, type ApiInstance } from '../context.js';
import { FORMAT, list } from '../listing.js';
import { VhostMetrics, type Ranges } from '../rates.js';

const tags = ['vhosts'];
const params = vhostParams;

const vhostBody = {
  type: 'object',
  properties: {
    description: { type: 'string' },
    tags: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    default_queue_type: { enum: ['classic', 'quorum', 'stream'] },
    defaultqueuetype: { enum: ['classic', 'quorum', 'stream'] },
    tracing: boolish,
  },
} as const;

function formatVhost(ctx: ApiContext, vhost: VHost, ranges: Ranges): Record<string, unknown> {
  const meta = vhost.metadata;
  const metadata = { description: meta.description, tags: [...meta.tags], default_queue_type: meta.defaultQueueType };
  let ready = 0;
  let unacked = 0;
  for (const queue of vhost.queues.values()) {
    ready += queue.messageCount;
    unacked += queue.unackedCount;
  }
  const series = ctx.sampler.series('vhost', vhost.name);
  const out: Record<string, unknown> = {
    name: vhost.name,
    ...metadata,
    metadata,
    tracing: meta.tracing,
    cluster_state: { [ctx.node]: 'running' },
    messages: ready + unacked,
    messages_details: ctx.sampler.details(series, VhostMetrics, 'messages', ranges),
    messages_ready: ready,
    messages_ready_details: ctx.sampler.details(series, VhostMetrics, 'messages_ready', ranges),
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: ctx.sampler.details(series, VhostMetrics, 'messages_unacknowledged', ranges),
  };
  // A vhost's counters are sums kept by the sampler, so they are as fresh as its last sample.
  const counters: Record<string, number> = {};
  VhostMetrics.slice(0, 8).forEach((name, i) => (counters[name] = series?.latest[i] ?? 0));
  const stats = ctx.sampler.messageStats(counters, series, VhostMetrics, ranges);
  if (stats) out.message_stats = stats;
  return out;
}

export function registerVhostRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(
    '/vhosts',
    { schema: { tags, summary: 'Vhosts visible to the user', querystring: statsListQuery } },
    async (request) => {
      const ranges = parseRanges(request.query);
      return list(visibleVhosts(ctx, apiUser(request)), request.query, {
        defaultSort: ['name'],
        pageable: true,
        name: (v) => v.name,
        key: (v, key) => (key === 'name' ? v.name : FORMAT),
        format: (v) => formatVhost(ctx, v, ranges),
      });
    },
  );

  app.get(
    '/vhosts/:vhost',
    { preValidation: adminOnly, schema: { tags, params, querystring: statsListQuery } },
    async (request) => {
      const vhost = vhostOr404(ctx, request.params.vhost);
      return formatVhost(ctx, vhost, parseRanges(request.query));
    },
  );

  app.put(
    '/vhosts/:vhost',
    { preValidation: adminOnly, schema: { tags, summary: 'Creates a vhost (the caller gets full permissions on it)', params, body: vhostBody } },
    async (request, reply) => {
      const name = request.params.vhost;
      checkName(name, 'vhost');
      const body = request.body;
      const queueType = body.default_queue_type ?? body.defaultqueuetype;
      const { created } = await ctx.ops.admin.putVhost(apiActor(request), name, {
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.tags !== undefined ? { tags: parseTags(body.tags) } : {}),
        ...(queueType !== undefined ? { defaultQueueType: queueType } : {}),
        ...(body.tracing !== undefined ? { tracing: bool(body.tracing, false) } : {}),
      });
      return reply.code(created ? 201 : 204).send();
    },
  );

  app.delete(
    '/vhosts/:vhost',
    { preValidation: adminOnly, schema: { tags, summary: 'Deletes a vhost, closing its connections and removing its permissions', params } },
    async (request, reply) => {
      const vhost = vhostOr404(ctx, request.params.vhost);
      await ctx.ops.admin.deleteVhost(apiActor(request), vhost.name);
      return reply.code(204).send();
    },
  );

  app.post(
    '/vhosts/:vhost/start/:node',
    { preValidation: adminOnly, schema: { tags, summary: 'Restarts a failed vhost (Warren vhosts never fail)', params } },
    async (request, reply) => {
      vhostOr404(ctx, request.params.vhost);
      return reply.code(204).send();
    },
  );
}
