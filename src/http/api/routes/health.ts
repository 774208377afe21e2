/** `/api/aliveness-test/{vhost}` and `/api/health/checks/*`: 200 `{"status":"ok"}` or 503 with a reason. */
import type { FastifyReply } from 'fastify';
import { isBrokerError } from '../../../broker/errors.js';
import { trustedActor } from '../../../operations/caller.js';
import { expiringListeners, windowSeconds } from '../../tls/certificate-expiry.js';
import { apiUser } from '../auth.js';
import { badRequest } from '../errors.js';
import { bareVhostParams, checkVhostAccess, plainParam, vhostOr404, type ApiContext, type ApiInstance } from '../context.js';

const ok = { status: 'ok' } as const;

function failed(reply: FastifyReply, reason: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(503).send({ status: 'failed', reason, ...extra });
}

const tags = ['health'];
const portParams = { type: 'object', properties: { port: plainParam }, required: ['port'] } as const;
const expirationParams = { type: 'object', properties: { within: plainParam, unit: plainParam }, required: ['within', 'unit'] } as const;
const protocolParams = { type: 'object', properties: { protocol: plainParam }, required: ['protocol'] } as const;

/** Other names RabbitMQ's check takes for a listener's protocol. */
const PROTOCOL_ALIASES: Readonly<Record<string, string>> = {
  amqp091: 'amqp',
  'amqp0-9-1': 'amqp',
  'amqp0.9.1': 'amqp',
  amqps: 'amqp/ssl',
  prometheus: 'http/prometheus',
};

export function registerHealthRoutes(app: ApiInstance, ctx: ApiContext): void {
  app.get(
    '/aliveness-test/:vhost',
    { schema: { tags, summary: 'Declares queue aliveness-test, publishes to it and gets the message back', params: bareVhostParams } },
    async (request, reply) => {
      const vhost = vhostOr404(ctx, request.params.vhost);
      const user = apiUser(request);
      checkVhostAccess(ctx, user, vhost.name);
      // As RabbitMQ's: the broker checks itself, whatever the caller's permission regexes allow.
      const caller = { ...trustedActor(user.name), vhost, channel: null };
      try {
        await ctx.ops.topology.declareQueue(caller, { queue: 'aliveness-test', durable: false }).durable;
        const body = Buffer.from('test_message');
        await ctx.ops.messages.publish(caller, { exchange: '', routingKey: 'aliveness-test', properties: {}, body }, { mandatory: false, confirm: false }).durable;
        const { value: taken } = await ctx.ops.messages.take(caller, 'aliveness-test', 1, 'ack');
        if (taken.length === 0) return failed(reply, 'message did not come back');
        return ok;
      } catch (error) {
        if (!isBrokerError(error)) throw error;
        return failed(reply, error.message);
      }
    },
  );

  // RabbitMQ answers 503 with the list of alarms in effect.
  const alarms = async (_request: unknown, reply: FastifyReply): Promise<unknown> => {
    const active = [
      ...(ctx.broker.memoryAlarm ? [{ node: ctx.node, resource: 'memory' }] : []),
      ...(ctx.broker.diskAlarm ? [{ node: ctx.node, resource: 'disk' }] : []),
      ...(ctx.broker.replicationAlarm !== undefined ? [{ node: ctx.node, resource: 'replication' }] : []),
    ];
    if (active.length === 0) return ok;
    return failed(reply, `resource alarm(s) in effect: ${active.map((a) => a.resource).join(', ')}`, { alarms: active });
  };
  app.get('/health/checks/alarms', { schema: { tags } }, alarms);
  app.get('/health/checks/local-alarms', { schema: { tags } }, alarms);
  app.get('/health/checks/virtual-hosts', { schema: { tags, summary: 'Every vhost is running (always, in Warren)' } }, async () => ok);
  app.get('/health/checks/node-is-mirror-sync-critical', { schema: { tags } }, async () => ok);
  app.get('/health/checks/node-is-quorum-critical', { schema: { tags } }, async () => ok);
  app.get('/health/checks/certificate-expiration/:within/:unit', { schema: { tags, params: expirationParams } }, async (request, reply) => {
    const seconds = windowSeconds(request.params.within, request.params.unit);
    if (typeof seconds !== 'number') throw badRequest(seconds.error);
    const expiring = expiringListeners(ctx.tls, seconds, Date.now(), ctx.node);
    if (expiring.length === 0) return ok;
    return failed(reply, 'Certificates expiring', { expired: expiring });
  });
  app.get('/health/checks/port-listener/:port', { schema: { tags, params: portParams } }, async (request, reply) => {
    const ports = [...new Set(ctx.listeners().map((l) => l.port))];
    if (ports.some((port) => String(port) === request.params.port)) return ok;
    return failed(reply, `No active listener on port ${request.params.port}`, { missing: Number(request.params.port), ports });
  });
  app.get('/health/checks/protocol-listener/:protocol', { schema: { tags, params: protocolParams } }, async (request, reply) => {
    const protocols = [...new Set(ctx.listeners().map((l) => l.protocol))];
    if (protocols.includes(PROTOCOL_ALIASES[request.params.protocol] ?? request.params.protocol)) return ok;
    return failed(reply, `No active listener for protocol ${request.params.protocol}`, { missing: request.params.protocol, protocols });
  });
  app.get('/healthchecks/node', { schema: { tags, summary: 'Deprecated in RabbitMQ; always ok' } }, async () => ok);
  app.get('/healthchecks/node/:node', { schema: { tags } }, async () => ok);
}
