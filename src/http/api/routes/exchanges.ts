/** `/api/exchanges`: list, get, declare, delete, and the bindings of one exchange. Publish is in messages.ts. */
import type { Exchange } from '../../../broker/exchange.js';
import { apiUser, type ApiUser } from '../auth.js';
import { bool, boolish, callerIn, checkArguments, checkName, checkVhostAccess, exchangeName, parseRanges, statsListQuery, table, vhostForWrite, vhostNameParams, vhostOr404, vhostParams, vhostsFor, type ApiContext, type ApiInstance, type VhostNameParams } from '../context.js';
import { objectNotFound } from '../errors.js';
import { allBindings, bindingListSpec, bindingRow, formatExchange } from '../format.js';
import { FORMAT, list, listQuery, type ListQuery, type ListSpec } from '../listing.js';
import type { Ranges } from '../rates.js';

const tags = ['exchanges'];
const params = vhostNameParams;
const ifUnusedQuery = { type: 'object', properties: { 'if-unused': { type: 'string', enum: ['true', 'false'] } } } as const;

const exchangeBody = {
  type: 'object',
  properties: { type: { type: 'string' }, durable: boolish, auto_delete: boolish, internal: boolish, arguments: table },
} as const;

function exchangeListSpec(ctx: ApiContext, ranges: Ranges): ListSpec<Exchange> {
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name: (x) => x.name,
    key(x, key) {
      if (key === 'vhost') return x.vhost;
      if (key === 'name') return x.name;
      if (key === 'type') return x.type;
      return FORMAT;
    },
    format: (x) => formatExchange(ctx, x, ranges),
  };
}

export function registerExchangeRoutes(app: ApiInstance, ctx: ApiContext): void {
  const listExchanges = (vhostName: string | undefined, query: ListQuery, user: ApiUser): unknown => {
    const exchanges: Exchange[] = [];
    for (const vhost of vhostsFor(ctx, user, vhostName)) exchanges.push(...vhost.exchanges.values());
    return list(exchanges, query, exchangeListSpec(ctx, parseRanges(query)));
  };

  app.get(
    '/exchanges',
    { schema: { tags, summary: 'Exchanges in every visible vhost', querystring: statsListQuery } },
    async (request) => listExchanges(undefined, request.query, apiUser(request)),
  );

  app.get(
    '/exchanges/:vhost',
    { schema: { tags, params: vhostParams, querystring: statsListQuery } },
    async (request) => listExchanges(request.params.vhost, request.query, apiUser(request)),
  );

  app.get(
    '/exchanges/:vhost/:name',
    { schema: { tags, summary: '`amq.default` names the default exchange', params, querystring: statsListQuery } },
    async (request) => {
      const exchange = findExchange(ctx, request.params, apiUser(request));
      return formatExchange(ctx, exchange, parseRanges(request.query));
    },
  );

  app.put(
    '/exchanges/:vhost/:name',
    { schema: { tags, summary: 'Declares an exchange: 201 created, 204 already there', params, body: exchangeBody } },
    async (request, reply) => {
      const user = apiUser(request);
      const vhost = vhostForWrite(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      const name = exchangeName(request.params.name);
      checkName(name, 'exchange');
      const body = request.body;
      const args = checkArguments(body.arguments);
      const { value, durable } = ctx.ops.topology.declareExchange(callerIn(vhost, user), {
        exchange: name,
        type: body.type ?? 'direct',
        durable: bool(body.durable, false),
        autoDelete: bool(body.auto_delete, false),
        internal: bool(body.internal, false),
        arguments: args,
      });
      await durable;
      return reply.code(value.created ? 201 : 204).send();
    },
  );

  app.delete(
    '/exchanges/:vhost/:name',
    { schema: { tags, summary: 'Deletes an exchange; `if-unused=true` refuses one with bindings', params, querystring: ifUnusedQuery } },
    async (request, reply) => {
      const user = apiUser(request);
      const exchange = findExchange(ctx, request.params, user);
      const caller = callerIn(vhostOr404(ctx, exchange.vhost), user);
      await ctx.ops.topology.deleteExchange(caller, exchange.name, request.query['if-unused'] === 'true').durable;
      return reply.code(204).send();
    },
  );

  app.get(
    '/exchanges/:vhost/:name/bindings/source',
    { schema: { tags, summary: 'Bindings this exchange is the source of', params, querystring: listQuery } },
    async (request) => {
      const exchange = findExchange(ctx, request.params, apiUser(request));
      const vhost = vhostOr404(ctx, exchange.vhost);
      const rows = exchange.isDefault ? allBindings(vhost).filter((r) => r.source === '') : [...exchange.outbound.values()].map(bindingRow);
      return list(rows, request.query, bindingListSpec);
    },
  );

  app.get(
    '/exchanges/:vhost/:name/bindings/destination',
    { schema: { tags, summary: 'Exchange-to-exchange bindings this exchange is the destination of', params, querystring: listQuery } },
    async (request) => {
      const exchange = findExchange(ctx, request.params, apiUser(request));
      return list([...exchange.inbound].map(bindingRow), request.query, bindingListSpec);
    },
  );
}

/** The exchange in the URL (404 if it or its vhost is missing), after the vhost-access check. */
function findExchange(ctx: ApiContext, params: VhostNameParams, user: ApiUser): Exchange {
  const vhost = vhostOr404(ctx, params.vhost);
  checkVhostAccess(ctx, user, vhost.name);
  const exchange = vhost.exchanges.get(exchangeName(params.name));
  if (!exchange) throw objectNotFound();
  return exchange;
}
