/**
 * `/api/bindings`. A binding has no id: one is addressed by its ends and its `properties_key` (routing
 * key plus a hash of the arguments, `~` for the empty key), and POST answers 201 with a relative
 * `Location` made of them.
 */
import type { FromSchema } from 'json-schema-to-ts';
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
  vhostParams,
  vhostsFor,
  type ApiContext,
  type ApiInstance,
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
import { list, listQuery, type ListQuery } from '../listing.js';

const tags = ['bindings'];
// Only the `/:props` routes have `props` in the URL, so only bindingParams requires it; the OpenAPI document
// has always listed it on the others too, and still does.
const endsParams = {
  type: 'object',
  properties: { vhost: vhostParam, source: nameParam, destination: nameParam, props: { type: 'string', description: 'properties_key' } },
  required: ['vhost', 'source', 'destination'],
} as const;
const bindingParams = { ...endsParams, required: [...endsParams.required, 'props'] } as const;

type Ends = FromSchema<typeof endsParams>;
type BindingParams = FromSchema<typeof bindingParams>;
type Kind = 'queue' | 'exchange';

const bindingBody = {
  type: 'object',
  properties: { routing_key: { type: ['string', 'null'] }, arguments: table },
} as const;

export function registerBindingRoutes(app: ApiInstance, ctx: ApiContext): void {
  const listAll = (vhostName: string | undefined, query: ListQuery, user: ApiUser): unknown => {
    const rows: BindingRow[] = [];
    for (const vhost of vhostsFor(ctx, user, vhostName)) rows.push(...allBindings(vhost));
    return list(rows, query, bindingListSpec);
  };

  app.get(
    '/bindings',
    { schema: { tags, summary: 'Every binding in visible vhosts, implicit default-exchange ones included', querystring: listQuery } },
    async (request) => listAll(undefined, request.query, apiUser(request)),
  );
  app.get(
    '/bindings/:vhost',
    { schema: { tags, params: vhostParams, querystring: listQuery } },
    async (request) => listAll(request.params.vhost, request.query, apiUser(request)),
  );

  for (const [letter, kind] of [
    ['q', 'queue'],
    ['e', 'exchange'],
  ] as const) {
    const base = `/bindings/:vhost/e/:source/${letter}/:destination`;

    app.get(
      base,
      { schema: { tags, summary: `Bindings from an exchange to a${kind === 'queue' ? ' queue' : 'n exchange'}`, params: endsParams, querystring: listQuery } },
      async (request) => {
        const vhost = vhostOr404(ctx, request.params.vhost);
        checkVhostAccess(ctx, apiUser(request), vhost.name);
        return list(rowsBetween(vhost, request.params, kind), request.query, bindingListSpec);
      },
    );

    app.post(
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

    app.get(
      `${base}/:props`,
      { schema: { tags, summary: 'One binding by properties_key (`~` = empty key, no arguments)', params: bindingParams, querystring: listQuery } },
      async (request) => {
        const vhost = vhostOr404(ctx, request.params.vhost);
        checkVhostAccess(ctx, apiUser(request), vhost.name);
        return formatBinding(findBinding(vhost, request.params, kind));
      },
    );

    app.delete(
      `${base}/:props`,
      { schema: { tags, summary: 'Deletes one binding by properties_key', params: bindingParams } },
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

function findBinding(vhost: VHost, params: BindingParams, kind: Kind): BindingRow {
  const parsed = parsePropertiesKey(params.props);
  const row = parsed && rowsBetween(vhost, params, kind).find((r) => matchesPropertiesKey(r, parsed));
  if (!row) throw objectNotFound();
  return row;
}
