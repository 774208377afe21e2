/**
 * Warren's dead-letter tooling over HTTP: move a queue's ready messages elsewhere, and retry dead letters
 * where they first died. The work is in src/operations/message-mover.ts; this translates bodies and replies.
 */
import type { VHost } from '../../../broker/vhost.js';
import type { MoveDestination } from '../../../operations/message-mover.js';
import { apiUser, type ApiUser } from '../auth.js';
import { callerIn, checkVhostAccess, exchangeName, int, intish, vhostForWrite, vhostNameParams, type ApiContext, type ApiInstance, type Intish, type VhostNameParams } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { filterSchema, parseFilter } from '../filter-format.js';

const params = vhostNameParams;

const destinationSchema = {
  type: 'object',
  additionalProperties: false,
  description: '`{"queue": name}` or `{"exchange": name, "routing_key"?: key}`',
  properties: { queue: { type: 'string' }, exchange: { type: 'string' }, routing_key: { type: 'string' } },
} as const;

const moveBody = {
  type: 'object',
  required: ['destination'],
  additionalProperties: false,
  properties: { destination: destinationSchema, count: intish, filter: filterSchema },
} as const;

const retryBody = {
  type: 'object',
  additionalProperties: false,
  properties: { count: intish, filter: filterSchema },
} as const;

export function registerMoveRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.post(
    '/queues/:vhost/:name/move',
    {
      schema: {
        tags: ['queues'],
        summary: 'Warren extension: moves ready messages (all, or the first `count` matching `filter`) to a queue or through an exchange',
        params,
        body: moveBody,
      },
    },
    async (request) => {
      const user = apiUser(request);
      const vhost = sourceVhost(ctx, request.params, user);
      const { destination, count, filter } = request.body;
      return ctx.ops.mover.move(callerIn(vhost, user), request.params.name, {
        destination: parseDestination(destination),
        count: parseCount(count),
        filter: parseFilter(filter),
      });
    },
  );

  app.post(
    '/queues/:vhost/:name/retry-dead-letters',
    {
      schema: {
        tags: ['queues'],
        summary: 'Warren extension: republishes dead letters to the exchange they first died from, with their original routing keys',
        params,
        body: retryBody,
      },
    },
    async (request) => {
      const user = apiUser(request);
      const vhost = sourceVhost(ctx, request.params, user);
      const { count, filter } = request.body;
      return ctx.ops.mover.retryDeadLetters(callerIn(vhost, user), request.params.name, { count: parseCount(count), filter: parseFilter(filter) });
    },
  );
}

/** The vhost of the source queue named in the URL: 404 `queue_not_found` when the queue is missing. */
function sourceVhost(ctx: ApiContext, params: VhostNameParams, user: ApiUser): VHost {
  const vhost = vhostForWrite(ctx, params.vhost);
  checkVhostAccess(ctx, user, vhost.name);
  if (!vhost.queues.has(params.name)) throw notFound('queue_not_found');
  return vhost;
}

function parseDestination(body: { queue?: string; exchange?: string; routing_key?: string }): MoveDestination {
  const { queue, exchange, routing_key: routingKey } = body;
  if (queue !== undefined && exchange === undefined) {
    if (routingKey !== undefined) throw badRequest('destination "routing_key" goes with "exchange" only; a queue destination takes messages as they are');
    return { queue };
  }
  if (exchange !== undefined && queue === undefined) return { exchange: exchangeName(exchange), routingKey };
  throw badRequest('destination needs exactly one of "queue" or "exchange"');
}

function parseCount(count: Intish | undefined): number | undefined {
  if (count === undefined) return undefined;
  const n = int(count, 0);
  if (!Number.isSafeInteger(n) || n < 1) throw badRequest('count must be a positive integer');
  return n;
}
