/**
 * Messages over HTTP: publish to an exchange, get from a queue (RabbitMQ's four ack modes), and
 * Warren's peek, which shows ready messages without touching them.
 */
import type { FastifyInstance } from 'fastify';
import { Channel, type DeliverySink } from '../../../broker/channel.js';
import type { Queue } from '../../../broker/queue.js';
import type { VHost } from '../../../broker/vhost.js';
import { apiUser, type ApiUser } from '../auth.js';
import { authorize, checkVhostAccess, exchangeName, int, intish, vhostForWrite, vhostNameParams, type ApiContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { decodePayload, formatEntry, fromRabbitProperties, rabbitPropertiesSchema, type PayloadEncoding } from '../message-format.js';

const params = vhostNameParams;
type Params = { vhost: string; name: string };

interface PublishBody {
  routing_key: string;
  properties: Record<string, unknown>;
  payload: string;
  payload_encoding: string;
}

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

type AckMode = 'ack_requeue_true' | 'ack_requeue_false' | 'reject_requeue_true' | 'reject_requeue_false';

interface GetBody {
  count: number | string;
  ackmode: AckMode;
  encoding: string;
  truncate?: number | string;
}

const getBody = {
  type: 'object',
  required: ['count', 'ackmode', 'encoding'],
  properties: {
    count: intish,
    ackmode: { enum: ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] },
    encoding: { type: 'string', description: '"auto" or "base64"' },
    truncate: intish,
  },
} as const;

interface PeekBody {
  offset?: number | string;
  count?: number | string;
  encoding?: string;
  truncate?: number | string;
}

const peekBody = {
  type: 'object',
  properties: { offset: intish, count: intish, encoding: { type: 'string', description: '"auto" (default) or "base64"' }, truncate: intish },
} as const;

const MAX_PEEK = 1000;
const ignoreDeliveries: DeliverySink = { deliver: () => undefined, consumerCancelled: () => undefined };
let getChannels = 0;

export function registerMessageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: Params; Body: PublishBody }>(
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
      authorize(ctx, user, vhost.name, 'write', name);
      const body = request.body;
      const properties = fromRabbitProperties(body.properties);
      if (properties.userId !== undefined && properties.userId !== user.name) {
        throw badRequest(`user_id property set to '${properties.userId}' but authenticated user was '${user.name}'`);
      }
      const result = vhost.publish({
        exchange: name,
        routingKey: body.routing_key,
        properties,
        body: decodePayload(body.payload, body.payload_encoding),
      });
      // RabbitMQ publishes mandatory with confirms on a channel of its own; the counters say so too.
      const stats = ctx.broker.stats;
      stats.confirm++;
      if (result.queues.length === 0 && result.rejectedBy.length === 0) stats.returnUnroutable++;
      if (result.rejectedBy.length > 0) throw badRequest('rejected Unable to publish message. Check queue limits.');
      return { routed: result.queues.length > 0 };
    },
  );

  app.post<{ Params: Params; Body: GetBody }>(
    '/queues/:vhost/:name/get',
    { schema: { tags: ['queues'], summary: 'Takes up to `count` messages and settles them per `ackmode`', params, body: getBody } },
    async (request) => {
      const user = apiUser(request);
      const { vhost, queue } = queueForMessages(ctx, request.params, user);
      const body = request.body;
      const encoding = payloadEncoding(body.encoding);
      const count = int(body.count, 1);
      const truncate = body.truncate === undefined ? undefined : int(body.truncate, 0);
      return getMessages(vhost, queue, count, body.ackmode, encoding, truncate);
    },
  );

  app.post<{ Params: Params; Body: PeekBody }>(
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
      const vhost = vhostForWrite(ctx, request.params.vhost);
      checkVhostAccess(ctx, user, vhost.name);
      // Exclusive queues may be looked at too: peeking takes nothing from their owner.
      const queue = vhost.queues.get(request.params.name);
      if (!queue) throw notFound('queue_not_found');
      authorize(ctx, user, vhost.name, 'read', queue.name);
      const body = request.body;
      const offset = int(body.offset, 0);
      const count = int(body.count, 50);
      if (count > MAX_PEEK) throw badRequest(`count must be at most ${MAX_PEEK}`);
      const encoding = payloadEncoding(body.encoding ?? 'auto');
      const truncate = body.truncate === undefined ? undefined : int(body.truncate, 0);
      const now = Date.now();
      return (await queue.peekLoaded(offset, count)).map((entry, i) => ({
        position: offset + i,
        ...formatEntry(entry, encoding, truncate),
        age: Math.max(0, now - entry.message.publishedAt),
      }));
    },
  );
}

function queueForMessages(ctx: ApiContext, params: Params, user: ApiUser): { vhost: VHost; queue: Queue } {
  const vhost = vhostForWrite(ctx, params.vhost);
  checkVhostAccess(ctx, user, vhost.name);
  if (!vhost.queues.has(params.name)) throw notFound('queue_not_found');
  authorize(ctx, user, vhost.name, 'read', params.name);
  // useQueue refuses another connection's exclusive queue (RESOURCE_LOCKED → 400), as RabbitMQ does.
  return { vhost, queue: vhost.useQueue(params.name, null) };
}

function payloadEncoding(encoding: string): PayloadEncoding {
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest('Unsupported encoding. Please use auto or base64.');
  return encoding;
}

/**
 * basic.get on a throwaway channel, then settle everything at once: requeueing only after all `count`
 * gets means one call never returns the same message twice.
 */
async function getMessages(vhost: VHost, queue: Queue, count: number, ackmode: AckMode, encoding: PayloadEncoding, truncate: number | undefined): Promise<unknown[]> {
  const channel = new Channel(`mgmt-get-${++getChannels}`, vhost, ignoreDeliveries);
  const out: unknown[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const got = await channel.getLoaded(queue, false);
      if (!got) break;
      const f = formatEntry(got.entry, encoding, truncate);
      out.push({
        payload_bytes: f.payload_bytes,
        redelivered: f.redelivered,
        exchange: f.exchange,
        routing_key: f.routing_key,
        message_count: queue.messageCount,
        properties: f.properties,
        payload: f.payload,
        payload_encoding: f.payload_encoding,
      });
    }
    if (ackmode === 'ack_requeue_false') channel.ack(0, true);
    else channel.nack(0, true, ackmode !== 'reject_requeue_false');
  } finally {
    // Anything still unacked (an error above) goes back to the queue.
    channel.close();
  }
  return out;
}
