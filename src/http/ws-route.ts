import type { FastifyInstance } from 'fastify';
import type { ConnectionRegistry } from '../protocol/connection-registry.js';
import { Session } from '../protocol/session.js';
import type { SessionContext } from '../protocol/session-context.js';
import { DEFAULT_SEND_HIGH_WATER, SocketTransport } from './socket-transport.js';
import type { WebSocket } from 'ws';
import { tlsFactsOf } from './tls/tls-facts.js';
import { foreignOrigin } from './origin-check.js';

/** `/ws`: each WebSocket becomes one protocol session. */
export function registerWebSocketRoute(
  app: FastifyInstance,
  context: SessionContext,
  connections: ConnectionRegistry,
  sendHighWater = DEFAULT_SEND_HIGH_WATER,
): void {
  const sessionContext: SessionContext = {
    ...context,
    onOpen: (session) => connections.add(session),
    onClose: (session) => connections.remove(session),
  };
  app.get('/ws', { websocket: true }, (socket: WebSocket, request) => {
    const transport = new SocketTransport(socket, request.socket, sendHighWater);
    const session = new Session(
      sessionContext,
      transport,
      { address: request.socket.remoteAddress ?? '', port: request.socket.remotePort ?? 0, ...tlsFactsOf(request.socket), foreignOrigin: foreignOrigin(request) },
      request.socket.localPort ?? 0,
    );
    transport.onWritable = (writable) => {
      if (session.state === 'open') session.channel.setWritable(writable);
    };
    // A bug met while serving one connection must cost that connection, never the broker.
    const guarded = (what: string, work: () => void): void => {
      try {
        work();
      } catch (error) {
        app.log.error({ err: error, connection: session.id }, `internal error in ${what}`);
        try {
          session.close('INTERNAL_ERROR', 'internal error: connection closed');
        } catch {
          socket.terminate();
        }
      }
    };
    socket.on('message', (data, isBinary) =>
      guarded('frame handling', () => (isBinary ? session.handleBinary() : session.handleText(data.toString()))),
    );
    socket.on('pong', () => session.heard());
    socket.on('close', () => guarded('connection close', () => session.handleClosed()));
    socket.on('error', (error) => {
      app.log.debug({ err: error, connection: session.id }, 'websocket error');
    });
  });
}
