/**
 * `/api/bindings`. A binding has no id: one is addressed by its ends and its `properties_key` (routing
 * key plus a hash of the arguments, `~` for the empty key), and POST answers 201 with a relative
 * `Location` made of them.
 */
import type { FastifyInstance } from 'fastify';
import type { VHost } from '../../../broker/vhost.js';
import { apiUser, type ApiUser } from '../auth.js';
import {
  callerIn,
  checkArguments,
  checkVhostAccess,
  exchangeName,
  nameParam,
  table,
  vhostForWrite,
  vhostOr404,
  vhostParam,
  vhostsFor,
  type ApiContext,
} from '../context.js';
import { objectNotFound } from '../errors.js';
import {
  allBindings,
  bindingListSpec,
  bindingRow,
  formatBinding,
  implicitBinding,
  matchesPropertiesKey,
  parsePropertiesKey,
  propertiesKey,
  type BindingRow,
} from '../format.js';
import { list, listQueryProperties, type ListQuery } from '../listing.js';

const tags = ['bindings'];
const listQuery = { type: 'object', properties: listQueryProperties } as const;
const endsParams = {
  type: 'object',
  properties: { vhost: vhostParam, source: nameParam, destination: nameParam, props: { type: 'string', description: 'properties_key' } },
} as const;

type Ends = { vhost: string; source: string; destination: string };
type Kind = 'queue' | 'exchange';

interface BindingBody {
  routing_key?: string | null;
  arguments?: Record<string, unknown>;
}

const bindingBody = {
  type: 'object',
  properties: { routing_key: { type: ['string', 'null'] }, arguments: table },
} as const;

export function registerBindingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const listAll = (vhostName: string | undefined, query: ListQuery, user: ApiUser): unknown => {
    const rows: BindingRow[] = [];
    for (const vhost of vhostsFor(ctx, user, vhostName)) rows.push(...allBindings(vhost));
    return list(rows, query, bindingListSpec);
  };

  app.get<{ Querystring: ListQuery }>(
    '/bindings',
    { schema: { tags, summary: 'Every binding in visible vhosts, implicit default-exchange ones included', querystring: listQuery } },
    async (request) => listAll(undefined, request.query, apiUser(request)),
  );
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>(
    '/bindings/:vhost',
    { schema: { tags, params: { type: 'object', properties: { vhost: vhostParam } }, querystring: listQuery } },
    async (request) => listAll(request.params.vhost, request.query, apiUser(request)),
  );

  for (const [letter, kind] of [
    ['q', 'queue'],
    ['e', 'exchange'],
  ] as const) {
    const base = `/bindings/:vhost/e/:source/${letter}/:destination`;

    app.get<{ Params: Ends; Querystring: ListQuery }>(
      base,
      { schema: { tags, summary: `Bindings from an exchange to a${kind === 'queue' ? ' queue' : 'n exchange'}`, params: endsParams, querystring: listQuery } },
      async (request) => {
        const vhost = vhostOr404(ctx, request.params.vhost);
        checkVhostAccess(ctx, apiUser(request), vhost.name);
        return list(rowsBetween(vhost, request.params, kind), request.query, bindingListSpec);
      },
    );

    app.post<{ Params: Ends; Body: BindingBody }>(
      base,
      { schema: { tags, summary: 'Creates a binding: 201 with a relative Location', params: endsParams, body: bindingBody } },
      async (request, reply) => {
        const user = apiUser(request);
        const vhost = vhostForWrite(ctx, request.params.vhost);
        checkVhostAccess(ctx, user, vhost.name);
        const source = exchangeName(request.params.source);
        const destination = kind === 'exchange' ? exchangeName(request.params.destination) : request.params.destination;
        const args = checkArguments(request.body.arguments);
        const routingKey = request.body.routing_key === null ? 'null' : (request.body.routing_key ?? '');
        // Another connection's exclusive queue cannot be bound to (RESOURCE_LOCKED → 400).
        const spec = { source, destination, destinationKind: kind, routingKey, arguments: args };
        await ctx.ops.topology.bind(callerIn(vhost, user), spec).durable;
        const location = `${encodeURIComponent(request.params.destination)}/${encodeURIComponent(propertiesKey(routingKey, args))}`;
        return reply.code(201).header('location', location).send();
      },
    );

    app.get<{ Params: Ends & { props: string }; Querystring: ListQuery }>(
      `${base}/:props`,
      { schema: { tags, summary: 'One binding by properties_key (`~` = empty key, no arguments)', params: endsParams, querystring: listQuery } },
      async (request) => {
        const vhost = vhostOr404(ctx, request.params.vhost);
        checkVhostAccess(ctx, apiUser(request), vhost.name);
        return formatBinding(findBinding(vhost, request.params, kind));
      },
    );

    app.delete<{ Params: Ends & { props: string } }>(
      `${base}/:props`,
      { schema: { tags, summary: 'Deletes one binding by properties_key', params: endsParams } },
      async (request, reply) => {
        const user = apiUser(request);
        const vhost = vhostOr404(ctx, request.params.vhost);
        checkVhostAccess(ctx, user, vhost.name);
        const row = findBinding(vhost, request.params, kind);
        const spec = { source: row.source, destination: row.destination, destinationKind: kind, routingKey: row.routingKey, arguments: row.arguments };
        await ctx.ops.topology.unbind(callerIn(vhost, user), spec).durable;
        return reply.code(204).send();
      },
    );
  }
}

/** The bindings between two named ends; 404 when either end is missing. */
function rowsBetween(vhost: VHost, ends: Ends, kind: Kind): BindingRow[] {
  const source = vhost.exchanges.get(exchangeName(ends.source));
  const destinationName = kind === 'exchange' ? exchangeName(ends.destination) : ends.destination;
  const destination = kind === 'queue' ? vhost.queues.get(destinationName) : vhost.exchanges.get(destinationName);
  if (!source || !destination) throw objectNotFound();
  if (source.isDefault) {
    const queue = kind === 'queue' ? vhost.queues.get(destinationName) : undefined;
    return queue ? [implicitBinding(queue)] : [];
  }
  return [...source.outbound.values()]
    .map(bindingRow)
    .filter((row) => row.destinationType === kind && row.destination === destinationName);
}

function findBinding(vhost: VHost, params: Ends & { props: string }, kind: Kind): BindingRow {
  const parsed = parsePropertiesKey(params.props);
  const row = parsed && rowsBetween(vhost, params, kind).find((r) => matchesPropertiesKey(r, parsed));
  if (!row) throw objectNotFound();
  return row;
}
