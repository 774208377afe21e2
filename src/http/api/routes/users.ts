/** `/api/users`, `/api/permissions`: administrators only (topic permissions: `topic-permissions.ts`). */
import { isHashingAlgorithm } from '../../../auth/password-hash.js';
import type { User } from '../../../auth/user-store.js';
import type { UserSpec } from '../../../operations/admin-operations.js';
import { parseTags } from '../definitions-format.js';
import { adminOnly, apiActor } from '../auth.js';
import { bool, boolish, checkName, nameParam, vhostOr404, vhostParam, vhostParams, type ApiContext, type ApiInstance } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { list, listQuery } from '../listing.js';

const userParams = { type: 'object', properties: { name: nameParam }, required: ['name'] } as const;
const permissionParams = { type: 'object', properties: { vhost: vhostParam, user: nameParam }, required: ['vhost', 'user'] } as const;
const tagsSchema = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const userBody = {
  type: 'object',
  properties: {
    tags: tagsSchema,
    administrator: { ...boolish, description: 'Legacy; used when tags is absent' },
    password: { type: 'string' },
    password_hash: { type: 'string', description: 'base64, RabbitMQ format (salted SHA-256 by default)' },
    hashing_algorithm: { type: 'string' },
    limits: { description: '`max-connections`, `max-channels`: merged into the user’s limits' },
  },
} as const;

const permissionBody = {
  type: 'object',
  required: ['configure', 'write', 'read'],
  properties: { configure: { type: 'string' }, write: { type: 'string' }, read: { type: 'string' } },
} as const;

function formatUser(user: User): Record<string, unknown> {
  return { name: user.name, password_hash: user.passwordHash, hashing_algorithm: user.hashingAlgorithm, tags: [...user.tags], limits: { ...user.limits } };
}

const userSpec = { defaultSort: ['name'], pageable: true, name: (u: User) => u.name, format: formatUser };
const permissionSpec = { defaultSort: ['vhost', 'user'], pageable: false, format: (p: object) => ({ ...p }) };

export function registerUserRoutes(app: ApiInstance, ctx: ApiContext): void {
  const users = ctx.users;
  const admin = adminOnly;
  const tags = ['users'];

  app.get('/users', { preValidation: admin, schema: { tags, querystring: listQuery } }, async (request) =>
    list(users.listUsers(), request.query, userSpec),
  );
  app.get(
    '/users/without-permissions',
    { preValidation: admin, schema: { tags, querystring: listQuery } },
    async (request) => {
      const withPermissions = new Set(users.listPermissions().map((p) => p.user));
      return list(users.listUsers().filter((u) => !withPermissions.has(u.name)), request.query, userSpec);
    },
  );
  app.post(
    '/users/bulk-delete',
    {
      preValidation: admin,
      schema: { tags, body: { type: 'object', required: ['users'], properties: { users: { type: 'array', items: { type: 'string' } } } } },
    },
    async (request, reply) => {
      for (const name of request.body.users) await ctx.ops.admin.deleteUser(apiActor(request), name);
      return reply.code(204).send();
    },
  );
  app.get(
    '/users/:name',
    { preValidation: admin, schema: { tags, params: userParams, querystring: listQuery } },
    async (request) => {
      const user = users.getUser(request.params.name);
      if (!user) throw objectNotFound();
      return formatUser(user);
    },
  );
  app.put(
    '/users/:name',
    { preValidation: admin, schema: { tags, summary: 'Creates or replaces a user (tags required; password or password_hash)', params: userParams, body: userBody } },
    async (request, reply) => {
      const name = request.params.name;
      checkName(name, 'user');
      const body = request.body;
      let tagList: string[];
      if (body.tags !== undefined) tagList = parseTags(body.tags);
      else if (body.administrator !== undefined) tagList = bool(body.administrator, false) ? ['administrator'] : [];
      else throw badRequest('[{key_missing,tags}]');
      if (body.password !== undefined && body.password_hash !== undefined) throw badRequest('password and password_hash are mutually exclusive');
      const limits = body.limits === undefined ? undefined : ctx.ops.limits.checkUserLimits(body.limits);
      const putUser = async (spec: UserSpec): Promise<{ created: boolean }> => {
        const result = await ctx.ops.admin.putUser(apiActor(request), name, spec);
        if (limits) await ctx.ops.limits.mergeUserLimits(apiActor(request), name, limits);
        return result;
      };
      if (body.password_hash !== undefined) {
        if (!BASE64.test(body.password_hash)) throw badRequest('password_hash is not valid base64');
        const algorithm = body.hashing_algorithm ?? 'rabbit_password_hashing_sha256';
        if (!isHashingAlgorithm(algorithm)) throw badRequest(`unknown hashing_algorithm '${algorithm}'`);
        const spec = { passwordHash: body.password_hash, hashingAlgorithm: algorithm, tags: tagList };
        const { created } = await putUser(spec);
        return reply.code(created ? 201 : 204).send();
      }
      const { created } = await putUser({ password: body.password, tags: tagList });
      return reply.code(created ? 201 : 204).send();
    },
  );
  app.delete(
    '/users/:name',
    { preValidation: admin, schema: { tags, summary: "Deletes a user and closes the user's connections", params: userParams } },
    async (request, reply) => {
      if (!(await ctx.ops.admin.deleteUser(apiActor(request), request.params.name))) throw objectNotFound();
      return reply.code(204).send();
    },
  );
  app.get(
    '/users/:name/permissions',
    { preValidation: admin, schema: { tags, params: userParams, querystring: listQuery } },
    async (request) => {
      if (!users.getUser(request.params.name)) throw objectNotFound();
      return list(users.listPermissions({ user: request.params.name }), request.query, permissionSpec);
    },
  );

  const ptags = ['permissions'];
  app.get('/permissions', { preValidation: admin, schema: { tags: ptags, querystring: listQuery } }, async (request) =>
    list(users.listPermissions(), request.query, permissionSpec),
  );
  app.get(
    '/vhosts/:vhost/permissions',
    { preValidation: admin, schema: { tags: ptags, params: vhostParams, querystring: listQuery } },
    async (request) => list(users.listPermissions({ vhost: vhostOr404(ctx, request.params.vhost).name }), request.query, permissionSpec),
  );
  app.get(
    '/permissions/:vhost/:user',
    { preValidation: admin, schema: { tags: ptags, params: permissionParams, querystring: listQuery } },
    async (request) => {
      const permission = users.getPermission(request.params.vhost, request.params.user);
      if (!permission) throw objectNotFound();
      return { ...permission };
    },
  );
  app.put(
    '/permissions/:vhost/:user',
    { preValidation: admin, schema: { tags: ptags, summary: 'Sets the configure/write/read regexes', params: permissionParams, body: permissionBody } },
    async (request, reply) => {
      const { vhost, user } = request.params;
      if (!ctx.broker.vhosts.has(vhost) || !users.getUser(user)) throw badRequest('vhost_or_user_not_found');
      const { configure, write, read } = request.body;
      const { created } = await ctx.ops.admin.setPermission(apiActor(request), { user, vhost, configure, write, read });
      return reply.code(created ? 201 : 204).send();
    },
  );
  app.delete(
    '/permissions/:vhost/:user',
    { preValidation: admin, schema: { tags: ptags, params: permissionParams } },
    async (request, reply) => {
      if (!(await ctx.ops.admin.deletePermission(apiActor(request), request.params.vhost, request.params.user))) throw objectNotFound();
      return reply.code(204).send();
    },
  );
}
