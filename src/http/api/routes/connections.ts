/**
 * `/api/connections`, `/api/channels`, `/api/consumers`. Users without the monitoring tag see only their
 * own connections (and their channels and consumers); closing someone else's needs administrator.
 */
import type { Consumer } from '../../../broker/consumer.js';
import type { Session } from '../../../protocol/session.js';
import { apiUser, type ApiUser } from '../auth.js';
import { checkVhostAccess, nameParam, parseRanges, plainParam, statsListQuery, vhostOr404, vhostParams, vhostsFor, visibleSessions, type ApiContext, type ApiInstance } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';
import { channelName, connectionOfChannel, formatChannel, formatConnection, formatConsumer } from '../format-sessions.js';
import { FORMAT, list, listQuery, type ListSpec } from '../listing.js';
import type { Ranges } from '../rates.js';

const nameParams = { type: 'object', properties: { name: nameParam }, required: ['name'] } as const;
const usernameParams = { type: 'object', properties: { username: plainParam }, required: ['username'] } as const;
const closeHeaders = { type: 'object', properties: { 'x-reason': { type: 'string', description: 'Shown to the client in the close frame' } } } as const;

const DEFAULT_CLOSE_REASON = 'Closed via management plugin';

function connectionSpec(ctx: ApiContext, ranges: Ranges): ListSpec<Session> {
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name: (s) => s.id,
    key: (s, key) => (key === 'vhost' ? s.vhost.name : key === 'name' ? s.id : key === 'user' ? (s.user?.name ?? '') : FORMAT),
    format: (s) => formatConnection(ctx, s, ranges),
  };
}

function channelSpec(ctx: ApiContext, ranges: Ranges): ListSpec<Session> {
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name: channelName,
    key: (s, key) => (key === 'vhost' ? s.vhost.name : key === 'name' ? channelName(s) : FORMAT),
    format: (s) => formatChannel(ctx, s, ranges),
  };
}

function consumerSpec(ctx: ApiContext): ListSpec<Consumer> {
  return {
    defaultSort: ['queue.vhost', 'queue.name', 'consumer_tag'],
    pageable: false,
    key: (c, key) => (key === 'queue.vhost' ? c.queue.vhost : key === 'queue.name' ? c.queue.name : key === 'consumer_tag' ? c.tag : FORMAT),
    format: (c) => formatConsumer(ctx, c),
  };
}

/** An open connection the user may see (its own, or any with monitoring); 404 otherwise, as RabbitMQ. */
function findSession(ctx: ApiContext, id: string | undefined, user: ApiUser): Session {
  const session = id === undefined ? undefined : ctx.sessions.get(id);
  if (!session || session.state !== 'open') throw objectNotFound();
  if (!user.isMonitor && session.user?.name !== user.name) throw notAuthorised('Not monitor user');
  return session;
}

function close(session: Session, reason: string | undefined, user: ApiUser): void {
  if (!user.isAdmin && session.user?.name !== user.name) throw notAuthorised('Not administrator user');
  session.close('CONNECTION_FORCED', reason && reason.trim() !== '' ? reason : DEFAULT_CLOSE_REASON);
}

export function registerConnectionRoutes(app: ApiInstance, ctx: ApiContext): void {
  const connectionsOf = (user: ApiUser, vhost?: string): Session[] => {
    if (vhost !== undefined) checkVhostAccess(ctx, user, vhostOr404(ctx, vhost).name);
    return visibleSessions(ctx, user, vhost);
  };

  app.get(
    '/connections',
    { schema: { tags: ['connections'], summary: 'Open WebSocket connections', querystring: statsListQuery } },
    async (request) => list(connectionsOf(apiUser(request)), request.query, connectionSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/vhosts/:vhost/connections',
    { schema: { tags: ['connections'], params: vhostParams, querystring: statsListQuery } },
    async (request) => list(connectionsOf(apiUser(request), request.params.vhost), request.query, connectionSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/connections/username/:username',
    { schema: { tags: ['connections'], summary: "One user's connections", params: usernameParams, querystring: statsListQuery } },
    async (request) => {
      const user = apiUser(request);
      if (!user.isMonitor && request.params.username !== user.name) throw notAuthorised('Not monitor user');
      const sessions = visibleSessions(ctx, user).filter((s) => s.user?.name === request.params.username);
      return list(sessions, request.query, connectionSpec(ctx, parseRanges(request.query)));
    },
  );
  app.delete(
    '/connections/username/:username',
    { schema: { tags: ['connections'], summary: "Closes all of one user's connections", params: usernameParams, headers: closeHeaders } },
    async (request, reply) => {
      const user = apiUser(request);
      for (const session of ctx.sessions.list()) {
        if (session.state === 'open' && session.user?.name === request.params.username) close(session, request.headers['x-reason'], user);
      }
      return reply.code(204).send();
    },
  );
  app.get(
    '/connections/:name',
    { schema: { tags: ['connections'], params: nameParams, querystring: statsListQuery } },
    async (request) => formatConnection(ctx, findSession(ctx, request.params.name, apiUser(request)), parseRanges(request.query)),
  );
  app.delete(
    '/connections/:name',
    { schema: { tags: ['connections'], summary: 'Closes the connection (close frame 320 CONNECTION_FORCED; reason from X-Reason)', params: nameParams, headers: closeHeaders } },
    async (request, reply) => {
      const user = apiUser(request);
      close(findSession(ctx, request.params.name, user), request.headers['x-reason'], user);
      return reply.code(204).send();
    },
  );
  app.get(
    '/connections/:name/channels',
    { schema: { tags: ['channels'], params: nameParams, querystring: statsListQuery } },
    async (request) => {
      const session = findSession(ctx, request.params.name, apiUser(request));
      return list([session], request.query, channelSpec(ctx, parseRanges(request.query)));
    },
  );

  app.get(
    '/channels',
    { schema: { tags: ['channels'], summary: 'One channel per connection, named `<connection> (1)`', querystring: statsListQuery } },
    async (request) => list(connectionsOf(apiUser(request)), request.query, channelSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/vhosts/:vhost/channels',
    { schema: { tags: ['channels'], params: vhostParams, querystring: statsListQuery } },
    async (request) => list(connectionsOf(apiUser(request), request.params.vhost), request.query, channelSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/channels/:name',
    { schema: { tags: ['channels'], params: nameParams, querystring: statsListQuery } },
    async (request) => {
      const session = findSession(ctx, connectionOfChannel(request.params.name), apiUser(request));
      return formatChannel(ctx, session, parseRanges(request.query), true);
    },
  );

  const consumersOf = (user: ApiUser, vhost?: string): Consumer[] => {
    const out: Consumer[] = [];
    for (const v of vhostsFor(ctx, user, vhost)) {
      for (const queue of v.queues.values()) {
        for (const consumer of queue.consumerList) {
          if (user.isMonitor || ctx.sessions.get(consumer.channel.id)?.user?.name === user.name) out.push(consumer);
        }
      }
    }
    return out;
  };
  app.get(
    '/consumers',
    { schema: { tags: ['consumers'], querystring: listQuery } },
    async (request) => list(consumersOf(apiUser(request)), request.query, consumerSpec(ctx)),
  );
  app.get(
    '/consumers/:vhost',
    { schema: { tags: ['consumers'], params: vhostParams, querystring: listQuery } },
    async (request) => list(consumersOf(apiUser(request), request.params.vhost), request.query, consumerSpec(ctx)),
  );
}
