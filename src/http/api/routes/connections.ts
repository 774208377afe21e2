/**
 * `/api/connections`, `/api/channels`, `/api/consumers`. Users without the monitoring tag see only their
 * own connections (and their channels and consumers); closing someone else's needs administrator.
 */
import type { Consumer } from '../../../broker/consumer.js';
import type { ClientConnection } from '../../../protocol/client-connection.js';
import { apiUser, type ApiUser } from '../auth.js';
import { checkVhostAccess, connectionOf, nameParam, parseRanges, plainParam, statsListQuery, vhostOr404, vhostParams, vhostsFor, visibleConnections, type ApiContext, type ApiInstance } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';
import { channelName, channelsOf, formatChannel, formatConnection, formatConsumer, parseChannelName, type ChannelEntry } from '../format-connections.js';
import { FORMAT, list, listQuery, type ListSpec } from '../listing.js';
import type { Ranges } from '../rates.js';

const nameParams = { type: 'object', properties: { name: nameParam }, required: ['name'] } as const;
const usernameParams = { type: 'object', properties: { username: plainParam }, required: ['username'] } as const;
const closeHeaders = { type: 'object', properties: { 'x-reason': { type: 'string', description: 'Shown to the client in the close frame' } } } as const;

const DEFAULT_CLOSE_REASON = 'Closed via management plugin';

function connectionSpec(ctx: ApiContext, ranges: Ranges): ListSpec<ClientConnection> {
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name: (c) => c.id,
    key: (c, key) => (key === 'vhost' ? (c.vhost?.name ?? '') : key === 'name' ? c.id : key === 'user' ? (c.user?.name ?? '') : FORMAT),
    format: (c) => formatConnection(ctx, c, ranges),
  };
}

function channelSpec(ctx: ApiContext, ranges: Ranges): ListSpec<ChannelEntry> {
  const name = (e: ChannelEntry): string => channelName(e.connection, e.view.number);
  return {
    defaultSort: ['vhost', 'name'],
    pageable: true,
    name,
    key: (e, key) => (key === 'vhost' ? e.view.channel.vhost.name : key === 'name' ? name(e) : FORMAT),
    format: (e) => formatChannel(ctx, e, ranges),
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
function findConnection(ctx: ApiContext, id: string | undefined, user: ApiUser): ClientConnection {
  const connection = id === undefined ? undefined : ctx.connections.get(id);
  if (!connection || !connection.isOpen) throw objectNotFound();
  if (!user.isMonitor && connection.user?.name !== user.name) throw notAuthorised('Not monitor user');
  return connection;
}

/** `<connection> (<n>)`: an open channel of a connection the user may see; 404 otherwise. */
function findChannel(ctx: ApiContext, name: string, user: ApiUser): ChannelEntry {
  const parsed = parseChannelName(name);
  if (!parsed) throw objectNotFound();
  const connection = findConnection(ctx, parsed.connection, user);
  const view = connection.channels().find((v) => v.number === parsed.number);
  if (!view) throw objectNotFound();
  return { connection, view };
}

function close(connection: ClientConnection, reason: string | undefined, user: ApiUser): void {
  if (!user.isAdmin && connection.user?.name !== user.name) throw notAuthorised('Not administrator user');
  connection.close('CONNECTION_FORCED', reason && reason.trim() !== '' ? reason : DEFAULT_CLOSE_REASON);
}

export function registerConnectionRoutes(app: ApiInstance, ctx: ApiContext): void {
  const connectionsOf = (user: ApiUser, vhost?: string): ClientConnection[] => {
    if (vhost !== undefined) checkVhostAccess(ctx, user, vhostOr404(ctx, vhost).name);
    return visibleConnections(ctx, user, vhost);
  };

  app.get(
    '/connections',
    { schema: { tags: ['connections'], summary: 'Open client connections of every protocol', querystring: statsListQuery } },
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
      const connections = visibleConnections(ctx, user).filter((c) => c.user?.name === request.params.username);
      return list(connections, request.query, connectionSpec(ctx, parseRanges(request.query)));
    },
  );
  app.delete(
    '/connections/username/:username',
    { schema: { tags: ['connections'], summary: "Closes all of one user's connections", params: usernameParams, headers: closeHeaders } },
    async (request, reply) => {
      const user = apiUser(request);
      for (const connection of ctx.connections.list()) {
        if (connection.isOpen && connection.user?.name === request.params.username) close(connection, request.headers['x-reason'], user);
      }
      return reply.code(204).send();
    },
  );
  app.get(
    '/connections/:name',
    { schema: { tags: ['connections'], params: nameParams, querystring: statsListQuery } },
    async (request) => formatConnection(ctx, findConnection(ctx, request.params.name, apiUser(request)), parseRanges(request.query)),
  );
  app.delete(
    '/connections/:name',
    { schema: { tags: ['connections'], summary: 'Closes the connection (close frame 320 CONNECTION_FORCED; reason from X-Reason)', params: nameParams, headers: closeHeaders } },
    async (request, reply) => {
      const user = apiUser(request);
      close(findConnection(ctx, request.params.name, user), request.headers['x-reason'], user);
      return reply.code(204).send();
    },
  );
  app.get(
    '/connections/:name/channels',
    { schema: { tags: ['channels'], params: nameParams, querystring: statsListQuery } },
    async (request) => {
      const connection = findConnection(ctx, request.params.name, apiUser(request));
      return list(channelsOf([connection]), request.query, channelSpec(ctx, parseRanges(request.query)));
    },
  );

  app.get(
    '/channels',
    { schema: { tags: ['channels'], summary: 'Every channel of every connection, named `<connection> (<number>)`', querystring: statsListQuery } },
    async (request) => list(channelsOf(connectionsOf(apiUser(request))), request.query, channelSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/vhosts/:vhost/channels',
    { schema: { tags: ['channels'], params: vhostParams, querystring: statsListQuery } },
    async (request) => list(channelsOf(connectionsOf(apiUser(request), request.params.vhost)), request.query, channelSpec(ctx, parseRanges(request.query))),
  );
  app.get(
    '/channels/:name',
    { schema: { tags: ['channels'], params: nameParams, querystring: statsListQuery } },
    async (request) => {
      return formatChannel(ctx, findChannel(ctx, request.params.name, apiUser(request)), parseRanges(request.query), true);
    },
  );

  const consumersOf = (user: ApiUser, vhost?: string): Consumer[] => {
    const out: Consumer[] = [];
    for (const v of vhostsFor(ctx, user, vhost)) {
      for (const queue of v.queues.values()) {
        for (const consumer of queue.consumerList) {
          if (user.isMonitor || connectionOf(ctx, consumer.channel)?.user?.name === user.name) out.push(consumer);
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
