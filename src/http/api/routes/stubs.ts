/**
 * Routes RabbitMQ tools call that Warren has nothing behind (policies, parameters, feature flags…).
 * Lists answer `[]` so consoles and `rabbitmqadmin list …` work; writes answer 400 with a reason saying
 * the feature is not supported, so nobody believes a policy took effect.
 */
import type { FastifyRequest } from 'fastify';
import { rabbitHash } from '../../../auth/password-hash.js';
import { apiActor, apiUser, monitorOnly, requireTag, type ApiUser } from '../auth.js';
import { checkVhostAccess, plainParam, vhostOr404, type ApiContext, type ApiInstance } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { clusterName } from './overview.js';

const tags = ['not supported'];
const componentVhostParams = { type: 'object', properties: { component: plainParam, vhost: plainParam }, required: ['component', 'vhost'] } as const;
const nameParams = { type: 'object', properties: { name: plainParam }, required: ['name'] } as const;
const passwordParams = { type: 'object', properties: { password: plainParam }, required: ['password'] } as const;

export function registerStubRoutes(app: ApiInstance, ctx: ApiContext): void {
  const policymaker = async (request: FastifyRequest): Promise<void> => requireTag(apiUser(request), 'policymaker');
  const unsupported = (what: string) => async (): Promise<never> => {
    throw badRequest(`${what} are not supported by Warren`);
  };
  const missing = async (): Promise<never> => {
    throw objectNotFound();
  };
  /** `[]` for a vhost the user can see; 404 for one that does not exist. */
  const emptyIn = (vhostName: string, user: ApiUser): never[] => {
    const vhost = vhostOr404(ctx, vhostName);
    checkVhostAccess(ctx, user, vhost.name);
    return [];
  };

  app.get('/parameters', { preValidation: policymaker, schema: { tags } }, async () => []);
  app.get('/parameters/:component', { preValidation: policymaker, schema: { tags } }, async () => []);
  app.get('/parameters/:component/:vhost', { preValidation: policymaker, schema: { tags, params: componentVhostParams } }, async (request) =>
    emptyIn(request.params.vhost, apiUser(request)),
  );
  app.get('/parameters/:component/:vhost/:name', { preValidation: policymaker, schema: { tags } }, missing);
  app.put('/parameters/:component/:vhost/:name', { preValidation: policymaker, schema: { tags } }, unsupported('runtime parameters'));
  app.delete('/parameters/:component/:vhost/:name', { preValidation: policymaker, schema: { tags } }, missing);

  // The one global parameter Warren has is the cluster name.
  app.get('/global-parameters', { preValidation: policymaker, schema: { tags: ['overview'] } }, async () => [
    { name: 'cluster_name', value: clusterName(ctx) },
  ]);
  app.get('/global-parameters/:name', { preValidation: policymaker, schema: { tags: ['overview'], params: nameParams } }, async (request) => {
    if (request.params.name !== 'cluster_name') throw objectNotFound();
    return { name: 'cluster_name', value: clusterName(ctx) };
  });
  app.put(
    '/global-parameters/:name',
    { preValidation: policymaker, schema: { tags: ['overview'], params: nameParams, body: { type: 'object', required: ['value'] } } },
    async (request, reply) => {
      if (request.params.name !== 'cluster_name' || typeof request.body.value !== 'string') throw badRequest('only cluster_name (a string) is supported');
      requireTag(apiUser(request), 'administrator');
      await ctx.ops.admin.setClusterName(apiActor(request), request.body.value);
      return reply.code(204).send();
    },
  );
  app.delete('/global-parameters/:name', { preValidation: policymaker, schema: { tags } }, missing);

  app.get('/feature-flags', { schema: { tags } }, async () => []);
  app.get('/deprecated-features', { schema: { tags } }, async () => []);
  app.get('/deprecated-features/used', { schema: { tags } }, async () => []);
  app.get('/auth', { schema: { tags: ['overview'], summary: 'Login methods: HTTP Basic only' } }, async () => ({ oauth_enabled: false, oauth_disable_basic_auth: false }));
  app.get('/auth/attempts/:node', { preValidation: monitorOnly, schema: { tags } }, async () => []);
  app.get('/auth/attempts/:node/source', { preValidation: monitorOnly, schema: { tags } }, async () => []);
  app.get(
    '/auth/hash_password/:password',
    { schema: { tags: ['users'], summary: 'A rabbit_password_hashing_sha256 hash of the password, for password_hash', params: passwordParams } },
    async (request) => ({ ok: rabbitHash(request.params.password, 'rabbit_password_hashing_sha256') }),
  );
  app.post('/rebalance/queues', { preValidation: async (r: FastifyRequest) => requireTag(apiUser(r), 'administrator'), schema: { tags } }, async (_request, reply) =>
    reply.code(204).send(),
  );
}
