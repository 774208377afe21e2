/**
 * The leader's end of a client tunnel (docs/cluster.md, "Client connections on followers"): a follower
 * accepted a client's TCP connection and forwards its bytes over the cluster port; here the socket is
 * handed to the server that would have accepted the client directly (HTTP or HTTPS, AMQP, AMQPS), so
 * TLS, authentication and everything after run exactly as for a direct client.
 *
 * Only types come from src/cluster: the single-node path must not load it (test/cluster/isolation.test.ts).
 */
import type { Server as HttpServer } from 'node:http';
import { isIPv6, type Socket } from 'node:net';
import type { TunnelTarget } from '../cluster/cluster-port.js';
import type { Logger } from '../protocol/session-context.js';

/** Who takes a tunnelled socket of each protocol; a protocol that is off has none. */
export interface TunnelServers {
  /** The HTTP port's server (HTTPS when TLS is on: its own TLS handshake runs on the tunnelled bytes). */
  readonly http: HttpServer;
  readonly amqp?: { accept(socket: Socket): void } | undefined;
  readonly amqps?: { accept(socket: Socket): void } | undefined;
  /** True once the server is shutting down: tunnels arriving then are dropped. */
  isClosing(): boolean;
  readonly log: Logger;
}

export type TunnelAcceptor = (socket: Socket, target: TunnelTarget, leftover: Buffer) => void;

/** The shape of Node's native TCP handle that matters here; not part of Node's typed API. */
interface PeerNameHandle {
  getpeername?: (out: Record<string, unknown>) => number;
}

/**
 * Makes the socket report the client's address and port instead of the tunnel's, to everything that
 * asks: the loopback rule for `guest`, the connection list, fastify's `request.ip`, log lines.
 * `remoteAddress`/`remotePort`/`remoteFamily` are getters on net.Socket's prototype, so own properties
 * shadow them. A TLS server does not ask the socket but its native handle (the TLS socket proxies
 * `getpeername` to the handle it wraps), so the handle answers with the client's address too.
 */
export function presentAsClient(socket: Socket, target: TunnelTarget): void {
  const family = isIPv6(target.remoteAddress) ? 'IPv6' : 'IPv4';
  for (const [key, value] of [
    ['remoteAddress', target.remoteAddress],
    ['remotePort', target.remotePort],
    ['remoteFamily', family],
  ] as const) {
    Object.defineProperty(socket, key, { value, configurable: true, enumerable: true });
  }
  const handle = (socket as unknown as { _handle?: PeerNameHandle | null })._handle;
  if (handle) {
    handle.getpeername = (out) => {
      out.address = target.remoteAddress;
      out.port = target.remotePort;
      out.family = family;
      return 0;
    };
  }
}

export function createTunnelAcceptor(servers: TunnelServers): TunnelAcceptor {
  return (socket, target, leftover) => {
    const take = servers.isClosing() ? undefined : takerFor(servers, target.protocol);
    if (!take) {
      servers.log.debug({ protocol: target.protocol }, 'client tunnel dropped: protocol not served here');
      socket.destroy();
      return;
    }
    presentAsClient(socket, target);
    if (leftover.length > 0) socket.unshift(leftover);
    take(socket);
    // The cluster port paused the socket for its new owner; the servers read by listening ('data',
    // TLS on the handle) and a paused stream stays paused for a plain 'data' listener.
    socket.resume();
  };
}

function takerFor(servers: TunnelServers, protocol: TunnelTarget['protocol']): ((socket: Socket) => void) | undefined {
  switch (protocol) {
    case 'http':
      return (socket) => {
        // As on the HTTP server's own sockets: a client that half-closes after its request still gets the answer.
        socket.allowHalfOpen = true;
        servers.http.emit('connection', socket);
      };
    case 'amqp':
      return servers.amqp ? (socket) => servers.amqp?.accept(socket) : undefined;
    case 'amqps':
      return servers.amqps ? (socket) => servers.amqps?.accept(socket) : undefined;
    default:
      return undefined;
  }
}
