/** `/api/definitions`: export and import in RabbitMQ's definitions format (definitions-format.ts). */
import type { FastifyReply } from 'fastify';
import { isBrokerError } from '../../../broker/errors.js';
import { exportDefinitions } from '../definitions-export.js';
import { importDefinitions } from '../definitions-import.js';
import { adminOnly, apiUser, type ApiUser } from '../auth.js';
import { vhostOr404, vhostParams, type ApiContext, type ApiInstance } from '../context.js';
import { badRequest } from '../errors.js';

const tags = ['definitions'];
const downloadQuery = { type: 'object', properties: { download: { type: 'string', description: 'Sends it as an attachment with this file name' } } } as const;
const anyObject = { type: 'object', description: 'A RabbitMQ definitions document' } as const;

export function registerDefinitionRoutes(app: ApiInstance, ctx: ApiContext): void {
  const send = (reply: FastifyReply, body: unknown, download: string | undefined): unknown => {
    if (download) reply.header('content-disposition', `attachment; filename="${download.replace(/["\\\r\n]/g, '_')}"`);
    return body;
  };

  const exportAll = (reply: FastifyReply, download: string | undefined): unknown =>
    send(reply, exportDefinitions(ctx.broker, ctx.users, { version: ctx.version, includeTransient: true }), download);

  app.get(
    '/definitions',
    { preValidation: adminOnly, schema: { tags, summary: 'Exports users, vhosts, permissions, queues, exchanges and bindings', querystring: downloadQuery } },
    async (request, reply) => exportAll(reply, request.query.download),
  );
  app.get(
    '/all-configuration',
    { preValidation: adminOnly, schema: { tags, summary: 'Old name of /api/definitions', querystring: downloadQuery } },
    async (request, reply) => exportAll(reply, request.query.download),
  );
  app.get(
    '/definitions/:vhost',
    { preValidation: adminOnly, schema: { tags, summary: 'Exports one vhost (no vhost keys, importable anywhere)', params: vhostParams, querystring: downloadQuery } },
    async (request, reply) => {
      if (!ctx.broker.vhosts.has(request.params.vhost)) throw badRequest('vhost_not_found');
      const body = exportDefinitions(ctx.broker, ctx.users, { vhost: request.params.vhost, version: ctx.version, includeTransient: true });
      return send(reply, body, request.query.download);
    },
  );

  // The route's schema asks only for an object: importDefinitions checks the document against its own.
  // A clean import answers 204 as RabbitMQ; one that left parts out answers 200 listing them (and logs them).
  const importInto = async (vhost: string | undefined, document: unknown, user: ApiUser, reply: FastifyReply): Promise<FastifyReply> => {
    let report;
    try {
      report = await importDefinitions(ctx.ops, ctx.broker, ctx.users, document, { vhost, actingUser: user.name });
    } catch (error) {
      // Whatever went wrong inside an import is a 400, as RabbitMQ; the import may be partial.
      if (isBrokerError(error)) throw badRequest(error.message);
      throw error;
    }
    const notImported = report.notImportedItems;
    if (notImported.length === 0) return reply.code(204).send();
    for (const item of notImported) reply.log.warn(`definitions import by '${user.name}': not imported: ${item}`);
    return reply.code(200).send({ not_imported: notImported });
  };
  app.post(
    '/definitions',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Imports (merges) a definitions document', body: anyObject } },
    async (request, reply) => importInto(undefined, request.body, apiUser(request), reply),
  );
  app.post(
    '/all-configuration',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Old name of /api/definitions', body: anyObject } },
    async (request, reply) => importInto(undefined, request.body, apiUser(request), reply),
  );
  app.post(
    '/definitions/:vhost',
    { preValidation: adminOnly, bodyLimit: ctx.bigBodyLimit, schema: { tags, summary: 'Imports queues, exchanges and bindings into one vhost', params: vhostParams, body: anyObject } },
    async (request, reply) => importInto(vhostOr404(ctx, request.params.vhost).name, request.body, apiUser(request), reply),
  );
}
