/**
 * Messages over HTTP: publish to an exchange, get from a queue (RabbitMQ's four ack modes), and
 * Warren's peek, which shows ready messages without touching them.
 */
import type { VHost } from '../../../broker/vhost.js';
import type { Settlement } from '../../../operations/message-operations.js';
import { apiUser, type ApiUser } from '../auth.js';
import { callerIn, checkVhostAccess, exchangeName, int, intish, rabbitTime, vhostForWrite, vhostNameParams, type ApiContext, type ApiInstance, type VhostNameParams } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { filterSchema, parseFilter } from '../filter-format.js';
import { decodePayload, formatContent, formatEntry, fromRabbitProperties, rabbitPropertiesSchema, type PayloadEncoding } from '../message-format.js';

const params = vhostNameParams;

const publishBody = {
  type: 'object',
  required: ['routing_key', 'properties', 'payload', 'payload_encoding'],
  properties: {
    routing_key: { type: 'string' },
    properties: rabbitPropertiesSchema,
    payload: { type: 'string' },
    payload_encoding: { type: 'string', description: '"string" or "base64"' },
  },
} as const;

const ackModes = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] as const;
type AckMode = (typeof ackModes)[number];

const getBody = {
  type: 'object',
  required: ['count', 'ackmode', 'encoding'],
  properties: {
    count: intish,
    ackmode: { enum: ackModes },
    encoding: { type: 'string', description: '"auto" or "base64"' },
    truncate: intish,
  },
} as const;

const peekBody = {
  type: 'object',
  properties: { offset: intish, count: intish, encoding: { type: 'string', description: '"auto" (default) or "base64"' }, truncate: intish, filter: filterSchema },
} as const;

const MAX_PEEK = 1000;

const settlements: Readonly<Record<AckMode, Settlement>> = {
  ack_requeue_true: 'requeue',
  ack_requeue_false: 'ack',
  reject_requeue_true: 'requeue',
  reject_requeue_false: 'discard',
};

export function registerMessageRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.post(
    '/exchanges/:vhost/:name/publish',
    {
      bodyLimit: ctx.bigBodyLimit,
      schema: { tags: ['exchanges'], summary: 'Publishes one message; answers whether any queue took it', params, body: publishBody },
    },
    async (request) => {
      const user = apiUser(request);
      const vhost = vhostForWrite(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      const name = exchangeName(request.params.name);
      if (!vhost.exchanges.has(name)) throw notFound('exchange_not_found');
      const body = request.body;
      const content = {
        exchange: name,
        routingKey: body.routing_key,
        properties: fromRabbitProperties(body.properties),
        body: decodePayload(body.payload, body.payload_encoding),
      };
      // RabbitMQ publishes mandatory with confirms on a channel of its own; so do the counters here.
      const { value, durable } = ctx.ops.messages.publish(callerIn(vhost, user), content, { mandatory: true, confirm: true });
      await durable;
      if (value.rejectedBy) throw badRequest('rejected Unable to publish message. Check queue limits.');
      const scheduled = value.scheduled;
      // Warren extension: a delayed exchange held it (routed is false: no queue has it yet).
      if (scheduled) return { routed: false, scheduled: { id: scheduled.id, due: scheduled.due, due_at: rabbitTime(scheduled.due) } };
      return { routed: value.routed };
    },
  );

  app.post(
    '/queues/:vhost/:name/get',
    { schema: { tags: ['queues'], summary: 'Takes up to `count` messages and settles them per `ackmode`', params, body: getBody } },
    async (request) => {
      const user = apiUser(request);
      const body = request.body;
      const encoding = payloadEncoding(body.encoding);
      const count = int(body.count, 1);
      const truncate = body.truncate === undefined ? undefined : int(body.truncate, 0);
      const vhost = queueVhost(ctx, request.params, user);
      const { value: taken, durable } = await ctx.ops.messages.take(callerIn(vhost, user), request.params.name, count, settlements[body.ackmode]);
      await durable;
      return taken.map(({ entry, content, redelivered, deliveryCount, messageCount }) => {
        const f = formatContent(content, entry.message.size, encoding, truncate, deliveryCount);
        return {
          payload_bytes: f.payload_bytes,
          redelivered,
          exchange: f.exchange,
          routing_key: f.routing_key,
          message_count: messageCount,
          properties: f.properties,
          payload: f.payload,
          payload_encoding: f.payload_encoding,
        };
      });
    },
  );

  app.post(
    '/queues/:vhost/:name/peek',
    {
      schema: {
        tags: ['queues'],
        summary: 'Warren extension: ready messages in queue order, left exactly as they are',
        params,
        body: peekBody,
      },
    },
    async (request) => {
      const user = apiUser(request);
      const vhost = queueVhost(ctx, request.params, user);
      const body = request.body;
      const offset = int(body.offset, 0);
      const count = int(body.count, 50);
      if (count > MAX_PEEK) throw badRequest(`count must be at most ${MAX_PEEK}`);
      const encoding = payloadEncoding(body.encoding ?? 'auto');
      const truncate = body.truncate === undefined ? undefined : int(body.truncate, 0);
      const now = Date.now();
      // With a filter, `offset` skips matches and `position` is each match's place in the queue.
      if (body.filter !== undefined) {
        const found = await ctx.ops.mover.peek(callerIn(vhost, user), request.params.name, parseFilter(body.filter), offset, count);
        return found.map(({ entry, position }) => ({ position, ...formatEntry(entry, encoding, truncate), age: Math.max(0, now - entry.message.publishedAt) }));
      }
      return (await ctx.ops.messages.peek(callerIn(vhost, user), request.params.name, offset, count)).map((entry, i) => ({
        position: offset + i,
        ...formatEntry(entry, encoding, truncate),
        age: Math.max(0, now - entry.message.publishedAt),
      }));
    },
  );
}

/** The vhost of a queue named in the URL: 404 `queue_not_found` when the queue is missing. */
function queueVhost(ctx: ApiContext, params: VhostNameParams, user: ApiUser): VHost {
  const vhost = vhostForWrite(ctx, params.vhost);
  checkVhostAccess(ctx, user, vhost.name);
  if (!vhost.queues.has(params.name)) throw notFound('queue_not_found');
  return vhost;
}

function payloadEncoding(encoding: string): PayloadEncoding {
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest('Unsupported encoding. Please use auto or base64.');
  return encoding;
}
