import { createServer, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { AmqpConnection, type AmqpContext } from '../protocol/amqp/server/amqp-connection.js';
import { TcpAmqpTransport, WebSocketAmqpTransport } from './amqp-transports.js';
import { tlsFactsOf } from './tls/tls-facts.js';

/** Makes the listening server; `accept` is called with each connection ready to speak AMQP (after any TLS handshake). */
export type AmqpServerFactory = (accept: (socket: Socket) => void) => Server;

const plainServer: AmqpServerFactory = (accept) => createServer({ noDelay: true }, accept);
import { foreignOrigin } from './origin-check.js';

/** A bug met while serving one connection costs that connection, never the broker. */
function guarded(context: AmqpContext, connection: AmqpConnection, what: string, work: () => void, drop: () => void): void {
  try {
    work();
  } catch (error) {
    context.log.error({ err: error, connection: connection.id }, `internal error in AMQP ${what}`);
    try {
      connection.close('INTERNAL_ERROR', 'internal error: connection closed');
    } catch {
      drop();
    }
  }
}

/** AMQP 0-9-1 over TCP, or over TLS with a TLS server factory (AMQPS). */
export class AmqpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly context: AmqpContext,
    createServer: AmqpServerFactory = plainServer,
  ) {
    this.server = createServer((socket) => this.serve(socket));
    // Counted from the TCP accept, so that close() also drops a peer stuck in a TLS handshake.
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Resolves with the port bound (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /**
   * Stops accepting. Connections were told to close (connection.close 320) just before: each gets up to
   * `graceMs` to answer close-ok and go; what is left then is dropped.
   */
  async close(graceMs = 1000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Takes a socket connected elsewhere (a cluster tunnel) as if this listener had accepted it: through
   * the TLS handshake first when this is the AMQPS listener, and closed with the others by `close()`.
   */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  private serve(socket: Socket): void {
    const transport = new TcpAmqpTransport(socket);
    const connection = new AmqpConnection(
      this.context,
      transport,
      { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, ...tlsFactsOf(socket) },
      'tcp',
      socket.localPort ?? 0,
    );
    transport.onWritable = (writable) => connection.setWritable(writable);
    const drop = (): void => void socket.destroy();
    socket.on('data', (chunk: Buffer) => guarded(this.context, connection, 'frame handling', () => connection.receive(chunk), drop));
    socket.on('close', () => {
      guarded(this.context, connection, 'connection close', () => connection.transportClosed(), drop);
    });
    socket.on('error', (error) => this.context.log.debug({ err: error, connection: connection.id }, 'AMQP socket error'));
  }
}

/** `/amqp`: AMQP 0-9-1 over WebSocket (binary messages, subprotocol `amqp`), as LavinMQ offers it. */
export function registerAmqpWebSocketRoute(app: FastifyInstance, context: AmqpContext): void {
  app.get('/amqp', { websocket: true }, (socket: WebSocket, request) => {
    const raw = request.socket;
    const transport = new WebSocketAmqpTransport(socket, raw);
    const connection = new AmqpConnection(
      context,
      transport,
      { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0, ...tlsFactsOf(raw), foreignOrigin: foreignOrigin(request) },
      'websocket',
      raw.localPort ?? 0,
    );
    transport.onWritable = (writable) => connection.setWritable(writable);
    const drop = (): void => socket.terminate();
    socket.on('message', (data, isBinary) =>
      guarded(
        context,
        connection,
        'frame handling',
        () => {
          if (!isBinary) {
            // AMQP frames are binary; a text message means the client speaks something else.
            socket.close(1003, 'AMQP frames must be sent as binary messages');
            return;
          }
          connection.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
        },
        drop,
      ),
    );
    socket.on('close', () => guarded(context, connection, 'connection close', () => connection.transportClosed(), drop));
    socket.on('error', (error) => context.log.debug({ err: error, connection: connection.id }, 'AMQP WebSocket error'));
  });
}

/** The WebSocket subprotocol: `amqp` on `/amqp` when offered; elsewhere `ws`'s default (the first offered). */
export function selectSubprotocol(protocols: Set<string>, request: { url?: string | undefined }): string | false {
  if ((request.url ?? '').split('?')[0] === '/amqp' && protocols.has('amqp')) return 'amqp';
  const [first] = protocols;
  return first ?? false;
}
