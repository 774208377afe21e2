/**
 * `/api/vhost-limits` and `/api/user-limits`, as RabbitMQ's `rabbit_mgmt_wm_limit(s)` and
 * `rabbit_mgmt_wm_user_limit(s)`: lists show only what has limits; writes are for administrators.
 */
import type { User } from '../../../auth/user-store.js';
import type { VHost } from '../../../broker/vhost.js';
import { hasLimits } from '../../../broker/vhost-limits.js';
import { adminOnly, apiActor, apiUser } from '../auth.js';
import { checkVhostAccess, nameParam, vhostForWrite, vhostNameParams, vhostOr404, vhostParams, visibleVhosts, type ApiContext, type ApiInstance } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';

const tags = ['limits'];
const userParams = { type: 'object', properties: { user: nameParam }, required: ['user'] } as const;
const userNameParams = { type: 'object', properties: { user: nameParam, name: nameParam }, required: ['user', 'name'] } as const;
/** No type on `value`: a wrong one gets RabbitMQ's own wording from the operation, not ajv's. */
const valueBody = { type: 'object', required: ['value'], properties: { value: { description: 'An integer; negative means no limit' } } } as const;

function vhostLimits(vhost: VHost): Record<string, unknown>[] {
  return hasLimits(vhost.limits) ? [{ vhost: vhost.name, value: { ...vhost.limits } }] : [];
}

function userLimits(user: User): Record<string, unknown>[] {
  return user.limits && hasLimits(user.limits) ? [{ user: user.name, value: { ...user.limits } }] : [];
}

export function registerLimitRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get('/vhost-limits', { schema: { tags, summary: 'Limits of the vhosts the user can see that have any' } }, async (request) =>
    visibleVhosts(ctx, apiUser(request)).flatMap(vhostLimits),
  );
  app.get('/vhost-limits/:vhost', { schema: { tags, params: vhostParams } }, async (request) => {
    const vhost = vhostOr404(ctx, request.params.vhost);
    checkVhostAccess(ctx, apiUser(request), vhost.name);
    return vhostLimits(vhost);
  });
  app.put(
    '/vhost-limits/:vhost/:name',
    { preValidation: adminOnly, schema: { tags, summary: 'Sets max-connections or max-queues', params: vhostNameParams, body: valueBody } },
    async (request, reply) => {
      const vhost = vhostForWrite(ctx, request.params.vhost);
      await ctx.ops.limits.setVhostLimit(apiActor(request), vhost.name, request.params.name, request.body.value);
      return reply.code(204).send();
    },
  );
  app.delete('/vhost-limits/:vhost/:name', { preValidation: adminOnly, schema: { tags, params: vhostNameParams } }, async (request, reply) => {
    const vhost = vhostForWrite(ctx, request.params.vhost);
    await ctx.ops.limits.clearVhostLimit(apiActor(request), vhost.name, request.params.name);
    return reply.code(204).send();
  });

  app.get('/user-limits', { preValidation: adminOnly, schema: { tags, summary: 'Limits of every user that has any' } }, async () =>
    ctx.users.listUsers().flatMap(userLimits),
  );
  app.get(
    '/user-limits/:user',
    { schema: { tags, summary: 'One user’s limits: administrators, monitoring users and the user itself', params: userParams } },
    async (request) => {
      const caller = apiUser(request);
      if (!caller.isMonitor && caller.name !== request.params.user) throw notAuthorised('Not administrator user');
      const user = ctx.users.getUser(request.params.user);
      if (!user) throw objectNotFound();
      return userLimits(user);
    },
  );
  app.put(
    '/user-limits/:user/:name',
    { preValidation: adminOnly, schema: { tags, summary: 'Sets max-connections or max-channels', params: userNameParams, body: valueBody } },
    async (request, reply) => {
      if (!ctx.users.getUser(request.params.user)) throw objectNotFound();
      await ctx.ops.limits.setUserLimit(apiActor(request), request.params.user, request.params.name, request.body.value);
      return reply.code(204).send();
    },
  );
  app.delete(
    '/user-limits/:user/:name',
    { preValidation: adminOnly, schema: { tags, summary: '`all` clears every limit of the user', params: userNameParams } },
    async (request, reply) => {
      if (!ctx.users.getUser(request.params.user)) throw objectNotFound();
      await ctx.ops.limits.clearUserLimit(apiActor(request), request.params.user, request.params.name);
      return reply.code(204).send();
    },
  );
}
