/**
 * `/api/policies` and `/api/operator-policies`, as RabbitMQ's: any management user reads those of the
 * vhosts it can reach; policymakers write policies there; operator policies are written by administrators.
 * Lists come highest priority first.
 */
import type { FastifyRequest } from 'fastify';
import type { Policy, PolicyKind } from '../../../broker/policy.js';
import type { VHost } from '../../../broker/vhost.js';
import { apiActor, apiUser, requireTag } from '../auth.js';
import { checkVhostAccess, vhostForWrite, vhostNameParams, vhostOr404, vhostParams, visibleVhosts, type ApiContext, type ApiInstance } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';

const policyBody = {
  type: 'object',
  description: "RabbitMQ's policy body: pattern, definition, priority (default 0), apply-to (default all)",
  properties: {
    pattern: {},
    definition: {},
    priority: {},
    'apply-to': {},
  },
} as const;

/** RabbitMQ's fields, in its order, and Warren's `inert_keys`: definition keys accepted with no effect here. */
export function formatPolicy(policy: Policy): Record<string, unknown> {
  return {
    vhost: policy.vhost,
    name: policy.name,
    pattern: policy.pattern,
    'apply-to': policy.applyTo,
    definition: policy.definition,
    priority: policy.priority,
    inert_keys: policy.inertKeys,
  };
}

export function registerPolicyRoutes(app: ApiInstance, ctx: ApiContext): void {
  for (const [path, kind] of [
    ['policies', 'policy'],
    ['operator-policies', 'operator-policy'],
  ] as const) {
    registerKind(app, ctx, path, kind);
  }
}

function registerKind(app: ApiInstance, ctx: ApiContext, path: string, kind: PolicyKind): void {
  const tags = ['policies'];
  // RabbitMQ's refusals: "Not administrator user" for operator policies, a generic one for policies.
  const allowed = async (request: FastifyRequest): Promise<void> => {
    const user = apiUser(request);
    if (kind === 'operator-policy') requireTag(user, 'administrator');
    else if (!user.isPolicymaker) throw notAuthorised('User not authorised to access object');
  };
  const listIn = (vhosts: readonly VHost[]): Record<string, unknown>[] =>
    vhosts.flatMap((vhost) => vhost.policies.list(kind).map(formatPolicy));

  app.get(`/${path}`, { schema: { tags } }, async (request) => listIn(visibleVhosts(ctx, apiUser(request))));

  app.get(`/${path}/:vhost`, { schema: { tags, params: vhostParams } }, async (request) => {
    const vhost = vhostOr404(ctx, request.params.vhost);
    checkVhostAccess(ctx, apiUser(request), vhost.name);
    return listIn([vhost]);
  });

  app.get(`/${path}/:vhost/:name`, { schema: { tags, params: vhostNameParams } }, async (request) => {
    const vhost = vhostOr404(ctx, request.params.vhost);
    checkVhostAccess(ctx, apiUser(request), vhost.name);
    const policy = vhost.policies.get(kind, request.params.name);
    if (!policy) throw objectNotFound();
    return formatPolicy(policy);
  });

  app.put(
    `/${path}/:vhost/:name`,
    { preValidation: allowed, schema: { tags, params: vhostNameParams, body: policyBody } },
    async (request, reply) => {
      const vhost = vhostForWrite(ctx, request.params.vhost);
      checkVhostAccess(ctx, apiUser(request), vhost.name);
      const body = request.body;
      const { created } = await ctx.ops.policies.putPolicy(apiActor(request), kind, vhost.name, request.params.name, {
        pattern: body.pattern,
        definition: body.definition,
        priority: body.priority,
        applyTo: body['apply-to'],
      });
      return reply.code(created ? 201 : 204).send();
    },
  );

  app.delete(`/${path}/:vhost/:name`, { preValidation: allowed, schema: { tags, params: vhostNameParams } }, async (request, reply) => {
    const vhost = vhostOr404(ctx, request.params.vhost);
    checkVhostAccess(ctx, apiUser(request), vhost.name);
    if (!(await ctx.ops.policies.deletePolicy(apiActor(request), kind, vhost.name, request.params.name))) throw objectNotFound();
    return reply.code(204).send();
  });
}
