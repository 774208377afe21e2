import type { FastifyInstance } from 'fastify';
import type { SessionRegistry } from '../protocol/session-registry.js';
import { Session, type SessionContext, type Transport } from '../protocol/session.js';
import type { WebSocket } from 'ws';

/** `/ws`: each WebSocket becomes one protocol session. */
export function registerWebSocketRoute(app: FastifyInstance, context: SessionContext, sessions: SessionRegistry): void {
  const sessionContext: SessionContext = {
    ...context,
    onOpen: (session) => sessions.add(session),
    onClose: (session) => sessions.remove(session),
  };
  app.get('/ws', { websocket: true }, (socket: WebSocket, request) => {
    const session = new Session(sessionContext, socketTransport(socket), {
      address: request.socket.remoteAddress ?? '',
      port: request.socket.remotePort ?? 0,
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) session.handleBinary();
      else session.handleText(data.toString());
    });
    socket.on('pong', () => session.heard());
    socket.on('close', () => session.handleClosed());
    socket.on('error', (error) => {
      app.log.debug({ err: error, connection: session.id }, 'websocket error');
    });
  });
}

function socketTransport(socket: WebSocket): Transport {
  return {
    send: (text) => {
      if (socket.readyState === socket.OPEN) socket.send(text);
    },
    ping: () => {
      if (socket.readyState === socket.OPEN) socket.ping();
    },
    close: (code, reason) => socket.close(code, reason),
    terminate: () => socket.terminate(),
  };
}
