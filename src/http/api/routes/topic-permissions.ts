/**
 * `/api/topic-permissions` and the per-user and per-vhost lists: RabbitMQ's topic permissions, the
 * routing keys a user may publish with to, and bind with from, a topic exchange. Administrators only,
 * reads included, as in RabbitMQ (`rabbit_mgmt_wm_topic_permission*.erl`).
 */
import type { TopicPermission } from '../../../auth/topic-permissions.js';
import { adminOnly, apiActor } from '../auth.js';
import { nameParam, vhostOr404, vhostParam, vhostParams, type ApiContext, type ApiInstance } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { list, listQuery } from '../listing.js';

const pairParams = { type: 'object', properties: { vhost: vhostParam, user: nameParam }, required: ['vhost', 'user'] } as const;
const exchangeParams = {
  type: 'object',
  properties: { vhost: vhostParam, user: nameParam, exchange: nameParam },
  required: ['vhost', 'user', 'exchange'],
} as const;
const userParams = { type: 'object', properties: { name: nameParam }, required: ['name'] } as const;
const topicPermissionBody = {
  type: 'object',
  required: ['exchange', 'write', 'read'],
  properties: {
    exchange: { type: 'string', description: 'The topic exchange the regexes apply to' },
    write: { type: 'string', description: 'Routing keys the user may publish with; `{username}` and `{vhost}` are expanded' },
    read: { type: 'string', description: 'Routing keys the user may bind with; `{username}` and `{vhost}` are expanded' },
  },
} as const;

const format = (p: TopicPermission): Record<string, unknown> => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read });
const spec = { defaultSort: ['vhost', 'user'], pageable: false, format };

export function registerTopicPermissionRoutes(app: ApiInstance, ctx: ApiContext): void {
  const topics = ctx.users.topicPermissions;
  const tags = ['permissions'];
  const admin = adminOnly;
  /** RabbitMQ's resource for a user in a vhost: it "exists" while the pair has a topic permission. */
  const pairList = (vhost: string, user: string): TopicPermission[] =>
    ctx.broker.vhosts.has(vhost) && ctx.users.getUser(user) ? topics.list({ vhost, user }) : [];

  app.get('/topic-permissions', { preValidation: admin, schema: { tags, querystring: listQuery } }, async (request) =>
    list(topics.list(), request.query, spec),
  );
  app.get(
    '/vhosts/:vhost/topic-permissions',
    { preValidation: admin, schema: { tags, params: vhostParams, querystring: listQuery } },
    async (request) => list(topics.list({ vhost: vhostOr404(ctx, request.params.vhost).name }), request.query, spec),
  );
  app.get(
    '/users/:name/topic-permissions',
    { preValidation: admin, schema: { tags, params: userParams, querystring: listQuery } },
    async (request) => {
      if (!ctx.users.getUser(request.params.name)) throw objectNotFound();
      return list(topics.list({ user: request.params.name }), request.query, spec);
    },
  );
  app.get(
    '/topic-permissions/:vhost/:user',
    { preValidation: admin, schema: { tags, summary: "The user's topic permissions in the vhost (404 when none)", params: pairParams, querystring: listQuery } },
    async (request) => {
      const found = pairList(request.params.vhost, request.params.user);
      if (found.length === 0) throw objectNotFound();
      return list(found, request.query, spec);
    },
  );
  app.put(
    '/topic-permissions/:vhost/:user',
    {
      preValidation: admin,
      schema: {
        tags,
        summary: 'Sets the write/read regexes on one exchange; 201 when the user had no topic permission in the vhost, as in RabbitMQ',
        params: pairParams,
        body: topicPermissionBody,
      },
    },
    async (request, reply) => {
      const { vhost, user } = request.params;
      if (!ctx.broker.vhosts.has(vhost) || !ctx.users.getUser(user)) throw badRequest('vhost_or_user_not_found');
      // RabbitMQ's resource is the pair, not the exchange: it is "created" when the pair had none.
      const existed = pairList(vhost, user).length > 0;
      const { exchange, write, read } = request.body;
      await ctx.ops.admin.setTopicPermission(apiActor(request), { user, vhost, exchange, write, read });
      return reply.code(existed ? 204 : 201).send();
    },
  );
  app.delete(
    '/topic-permissions/:vhost/:user',
    { preValidation: admin, schema: { tags, summary: "Deletes all the user's topic permissions in the vhost", params: pairParams } },
    async (request, reply) => {
      const { vhost, user } = request.params;
      if (pairList(vhost, user).length === 0) throw objectNotFound();
      await ctx.ops.admin.deleteTopicPermissions(apiActor(request), vhost, user);
      return reply.code(204).send();
    },
  );
  app.delete(
    '/topic-permissions/:vhost/:user/:exchange',
    { preValidation: admin, schema: { tags, summary: "Deletes the user's topic permission on one exchange", params: exchangeParams } },
    async (request, reply) => {
      const { vhost, user, exchange } = request.params;
      // As RabbitMQ: 404 only when the pair has no topic permission at all.
      if (pairList(vhost, user).length === 0) throw objectNotFound();
      await ctx.ops.admin.deleteTopicPermissions(apiActor(request), vhost, user, exchange);
      return reply.code(204).send();
    },
  );
}
