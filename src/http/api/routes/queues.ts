/** `/api/queues`: list, get, declare, delete, purge, bindings, actions. Get and peek are in messages.ts. */
import type { Queue } from '../../../broker/queue.js';
import { apiUser, requireTag, type ApiUser } from '../auth.js';
import { bool, boolish, callerIn, checkArguments, checkName, checkVhostAccess, parseRanges, statsListQuery, table, vhostForWrite, vhostNameParams, vhostOr404, vhostParams, vhostsFor, type ApiContext, type ApiInstance, type VhostNameParams } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bindingListSpec, bindingRow, formatQueue, implicitBinding } from '../format.js';
import { FORMAT, list, listQuery, type ListQuery, type ListSpec } from '../listing.js';
import type { Ranges } from '../rates.js';

const tags = ['queues'];
const params = vhostNameParams;
const deleteQuery = {
  type: 'object',
  properties: { 'if-empty': { type: 'string', enum: ['true', 'false'] }, 'if-unused': { type: 'string', enum: ['true', 'false'] } },
} as const;

const queueBody = {
  type: 'object',
  properties: { durable: boolish, auto_delete: boolish, arguments: table, node: { type: 'string', description: 'Ignored (one node)' } },
} as const;

/** Raw fields for sorting without formatting 10,000 queues. */
const rawQueueKeys: Readonly<Record<string, (q: Queue) => unknown>> = {
  vhost: (q) => q.vhost,
  name: (q) => q.name,
  messages: (q) => q.messageCount + q.unackedCount,
  messages_ready: (q) => q.messageCount,
  messages_unacknowledged: (q) => q.unackedCount,
  message_bytes_ready: (q) => q.readyBytes,
  consumers: (q) => q.consumerCount,
  durable: (q) => q.durable,
  auto_delete: (q) => q.autoDelete,
  exclusive: (q) => q.exclusive,
};

function queueListSpec(ctx: ApiContext, ranges: Ranges): ListSpec<Queue> {
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name: (q) => q.name,
    key: (q, key) => rawQueueKeys[key]?.(q) ?? FORMAT,
    format: (q) => formatQueue(ctx, q, ranges),
  };
}

export function registerQueueRoutes(app: ApiInstance, ctx: ApiContext): void {
  const listQueues = (vhostName: string | undefined, query: ListQuery, user: ApiUser): unknown => {
    const queues: Queue[] = [];
    for (const vhost of vhostsFor(ctx, user, vhostName)) for (const queue of vhost.queues.values()) queues.push(queue);
    return list(queues, query, queueListSpec(ctx, parseRanges(query)));
  };

  app.get(
    '/queues',
    { schema: { tags, summary: 'Queues in every visible vhost', querystring: statsListQuery } },
    async (request) => listQueues(undefined, request.query, apiUser(request)),
  );
  app.get(
    '/queues/detailed',
    { schema: { tags, summary: 'RabbitMQ 3.13 alias of /api/queues', querystring: statsListQuery } },
    async (request) => listQueues(undefined, request.query, apiUser(request)),
  );
  app.get(
    '/queues/:vhost',
    { schema: { tags, params: vhostParams, querystring: statsListQuery } },
    async (request) => listQueues(request.params.vhost, request.query, apiUser(request)),
  );

  app.get(
    '/queues/:vhost/:name',
    { schema: { tags, summary: 'One queue, with consumer_details', params, querystring: statsListQuery } },
    async (request) => {
      const queue = findQueue(ctx, request.params, apiUser(request));
      return formatQueue(ctx, queue, parseRanges(request.query), true);
    },
  );

  app.put(
    '/queues/:vhost/:name',
    { schema: { tags, summary: 'Declares a queue: 201 created, 204 already there', params, body: queueBody } },
    async (request, reply) => {
      const user = apiUser(request);
      const vhost = vhostForWrite(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      const name = request.params.name;
      checkName(name, 'queue');
      if (name === '') throw badRequest('queue name must not be empty');
      const args = checkArguments(request.body.arguments);
      const { value, durable } = ctx.ops.topology.declareQueue(callerIn(vhost, user), {
        queue: name,
        durable: bool(request.body.durable, false),
        autoDelete: bool(request.body.auto_delete, false),
        arguments: args,
      });
      await durable;
      return reply.code(value.created ? 201 : 204).send();
    },
  );

  app.delete(
    '/queues/:vhost/:name',
    { schema: { tags, summary: '`if-empty=true` / `if-unused=true` refuse a queue with messages / consumers', params, querystring: deleteQuery } },
    async (request, reply) => {
      const user = apiUser(request);
      const queue = findQueue(ctx, request.params, user);
      const options = { ifEmpty: request.query['if-empty'] === 'true', ifUnused: request.query['if-unused'] === 'true' };
      await ctx.ops.topology.deleteQueue(callerIn(vhostOr404(ctx, queue.vhost), user), queue.name, options).durable;
      return reply.code(204).send();
    },
  );

  app.delete(
    '/queues/:vhost/:name/contents',
    { schema: { tags, summary: 'Purges the ready messages', params } },
    async (request, reply) => {
      const user = apiUser(request);
      const queue = findQueue(ctx, request.params, user);
      await ctx.ops.topology.purgeQueue(callerIn(vhostOr404(ctx, queue.vhost), user), queue.name).durable;
      return reply.code(204).send();
    },
  );

  app.get(
    '/queues/:vhost/:name/bindings',
    { schema: { tags, summary: 'Bindings to the queue, the implicit default-exchange one included', params, querystring: listQuery } },
    async (request) => {
      const queue = findQueue(ctx, request.params, apiUser(request));
      return list([implicitBinding(queue), ...[...queue.inbound].map(bindingRow)], request.query, bindingListSpec);
    },
  );

  app.post(
    '/queues/:vhost/:name/actions',
    {
      schema: {
        tags,
        summary: 'Mirroring actions; accepted and ignored (Warren has one node)',
        params,
        body: { type: 'object', required: ['action'], properties: { action: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const user = apiUser(request);
      requireTag(user, 'administrator');
      findQueue(ctx, request.params, user);
      if (request.body.action !== 'sync' && request.body.action !== 'cancel_sync') throw badRequest(`unknown action '${request.body.action}'`);
      return reply.code(204).send();
    },
  );
}

function findQueue(ctx: ApiContext, params: VhostNameParams, user: ApiUser): Queue {
  const vhost = vhostOr404(ctx, params.vhost);
  checkVhostAccess(ctx, user, vhost.name);
  const queue = vhost.queues.get(params.name);
  if (!queue) throw objectNotFound();
  return queue;
}
