/** `/api/definitions`: export and import in RabbitMQ's definitions format (definitions-format.ts). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isBrokerError } from '../../../broker/errors.js';
import { exportDefinitions, importDefinitions } from '../definitions-format.js';
import { adminOnly, apiUser } from '../auth.js';
import { vhostOr404, vhostParams, type ApiContext } from '../context.js';
import { badRequest } from '../errors.js';

const tags = ['definitions'];
const downloadQuery = { type: 'object', properties: { download: { type: 'string', description: 'Sends it as an attachment with this file name' } } } as const;
const anyObject = { type: 'object', description: 'A RabbitMQ definitions document' } as const;

export function registerDefinitionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const send = (reply: FastifyReply, body: unknown, download: string | undefined): unknown => {
    if (download) reply.header('content-disposition', `attachment; filename="${download.replace(/["\\\r\n]/g, '_')}"`);
    return body;
  };
  const exportAll = async (request: { query: { download?: string } }, reply: FastifyReply): Promise<unknown> =>
    send(reply, exportDefinitions(ctx.broker, ctx.users, { version: ctx.version, includeTransient: true }), request.query.download);

  app.get<{ Querystring: { download?: string } }>(
    '/definitions',
    { preValidation: adminOnly, schema: { tags, summary: 'Exports users, vhosts, permissions, queues, exchanges and bindings', querystring: downloadQuery } },
    exportAll,
  );
  app.get<{ Querystring: { download?: string } }>(
    '/all-configuration',
    { preValidation: adminOnly, schema: { tags, summary: 'Old name of /api/definitions', querystring: downloadQuery } },
    exportAll,
  );
  app.get<{ Params: { vhost: string }; Querystring: { download?: string } }>(
    '/definitions/:vhost',
    { preValidation: adminOnly, schema: { tags, summary: 'Exports one vhost (no vhost keys, importable anywhere)', params: vhostParams, querystring: downloadQuery } },
    async (request, reply) => {
      if (!ctx.broker.vhosts.has(request.params.vhost)) throw badRequest('vhost_not_found');
      const body = exportDefinitions(ctx.broker, ctx.users, { vhost: request.params.vhost, version: ctx.version, includeTransient: true });
      return send(reply, body, request.query.download);
    },
  );

  const importInto = async (vhost: string | undefined, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      await importDefinitions(ctx.ops, ctx.broker, ctx.users, request.body, { vhost, actingUser: apiUser(request).name });
    } catch (error) {
      // Whatever went wrong inside an import is a 400, as RabbitMQ; the import may be partial.
      if (isBrokerError(error)) throw badRequest(error.message);
      throw error;
    }
    return reply.code(204).send();
  };
  app.post<{ Body: unknown }>(
    '/definitions',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Imports (merges) a definitions document', body: anyObject } },
    async (request, reply) => importInto(undefined, request, reply),
  );
  app.post<{ Body: unknown }>(
    '/all-configuration',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Old name of /api/definitions', body: anyObject } },
    async (request, reply) => importInto(undefined, request, reply),
  );
  app.post<{ Params: { vhost: string }; Body: unknown }>(
    '/definitions/:vhost',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Imports queues, exchanges and bindings into one vhost', params: vhostParams, body: anyObject } },
    async (request, reply) => importInto(vhostOr404(ctx, request.params.vhost).name, request, reply),
  );
}
