/**
 * Warren extension: what a delayed exchange (`x-delayed-message`) holds. RabbitMQ's plugin cannot show
 * its scheduled messages; here they are listed in due order, paged, and can be cancelled one by one.
 */
import type { Scheduled } from '../../../broker/scheduled-messages.js';
import { apiUser } from '../auth.js';
import { callerIn, checkVhostAccess, exchangeName, nameParam, rabbitTime, vhostOr404, vhostParam, type ApiInstance, type ApiContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { formatContent, type PayloadEncoding } from '../message-format.js';

const tags = ['exchanges'];
const params = { type: 'object', properties: { vhost: vhostParam, name: nameParam }, required: ['vhost', 'name'] } as const;
const idParams = {
  type: 'object',
  properties: { vhost: vhostParam, name: nameParam, id: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'The scheduled message id' } },
  required: ['vhost', 'name', 'id'],
} as const;
const digits = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;
const listQuery = {
  type: 'object',
  properties: {
    offset: { ...digits, description: 'Scheduled messages to skip, in due order (default 0)' },
    count: { ...digits, description: `How many to return (default 50, at most ${1000})` },
    encoding: { type: 'string', enum: ['auto', 'base64'], description: 'Payload preview: text when it is UTF-8 (auto, the default), or base64' },
    truncate: { ...digits, description: 'Bytes of payload in the preview (default 1024)' },
  },
} as const;

const MAX_COUNT = 1000;
/**
 * A page costs O(offset + count) on the event loop (a walk of the due-time heap): ~0.5 s half-way
 * through a million, time in which nothing is routed. Listing stops at this depth instead.
 */
export const MAX_LIST_DEPTH = 100_000;
const DEFAULT_PREVIEW_BYTES = 1024;

export function registerScheduledRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(
    '/exchanges/:vhost/:name/scheduled',
    {
      schema: {
        tags,
        summary: 'Warren extension: the messages a delayed exchange holds, in due order (needs read on the exchange)',
        params,
        querystring: listQuery,
      },
    },
    async (request) => {
      const user = apiUser(request);
      const vhost = vhostOr404(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      const name = exchangeName(request.params.name);
      if (!vhost.exchanges.has(name)) throw objectNotFound();
      const query = request.query;
      const offset = Number(query.offset ?? 0);
      const count = Number(query.count ?? 50);
      if (count > MAX_COUNT) throw badRequest(`count must be at most ${MAX_COUNT}`);
      if (offset + count > MAX_LIST_DEPTH) {
        throw badRequest(`offset + count must be at most ${MAX_LIST_DEPTH}: only the ${MAX_LIST_DEPTH} earliest scheduled messages can be listed`);
      }
      const encoding: PayloadEncoding = query.encoding ?? 'auto';
      const truncate = Number(query.truncate ?? DEFAULT_PREVIEW_BYTES);
      const page = ctx.ops.scheduled.list(callerIn(vhost, user), name, offset, count);
      return {
        vhost: vhost.name,
        exchange: name,
        total: page.total,
        offset,
        items: page.items.map((item) => formatScheduled(item, encoding, truncate)),
      };
    },
  );

  app.delete(
    '/exchanges/:vhost/:name/scheduled/:id',
    {
      schema: {
        tags,
        summary: 'Warren extension: cancels one scheduled message, durably (needs configure on the exchange)',
        params: idParams,
      },
    },
    async (request, reply) => {
      const user = apiUser(request);
      const vhost = vhostOr404(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      const name = exchangeName(request.params.name);
      if (!vhost.exchanges.has(name)) throw objectNotFound();
      await ctx.ops.scheduled.cancel(callerIn(vhost, user), name, Number(request.params.id)).durable;
      return reply.code(204).send();
    },
  );
}

function formatScheduled(item: Scheduled, encoding: PayloadEncoding, truncate: number): Record<string, unknown> {
  const content = formatContent(item.content, item.size, encoding, truncate);
  return {
    id: item.seq,
    due: item.due,
    due_at: rabbitTime(item.due),
    published: item.publishedAt,
    routing_key: content.routing_key,
    properties: content.properties,
    payload: content.payload,
    payload_encoding: content.payload_encoding,
    payload_bytes: content.payload_bytes,
    payload_truncated: content.payload_bytes > truncate,
    mandatory: item.mandatory,
  };
}
