/**
 * A follower's client ports (docs/cluster.md, "Client connections on followers"). A follower has no
 * broker: it listens on the same HTTP, AMQP and AMQPS ports a leader would, and pipes each accepted
 * connection byte for byte through an authenticated tunnel on the leader's cluster port. It parses no
 * protocol, so TLS stays end to end to the leader and the leader sees the client's own address (which
 * the tunnel's hello carries, under the cluster secret's mac: a client cannot forge it).
 *
 * With no leader known, the HTTP port answers a plain 503 (JSON body) and closes; AMQP ports close.
 * When the leader changes, every tunnel is closed and clients reconnect, through here, to the new one.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ClusterLog } from './cluster-log.js';
import { connectClusterPort } from './cluster-port.js';
import type { TunnelTarget } from './cluster-handshake.js';

type Protocol = TunnelTarget['protocol'];

export interface LeaderAddress {
  readonly host: string;
  /** The leader's cluster port. */
  readonly port: number;
  readonly nodeId: string;
}

export interface TunnelFrontOptions {
  /** The interface the client ports bind to. */
  readonly host: string;
  /** 0 picks a free port; 'off' (or absent) does not listen. */
  readonly ports: { readonly http: number; readonly amqp?: number | 'off'; readonly amqps?: number | 'off' };
  /** The leader to tunnel to now; undefined while there is none. */
  leader(): LeaderAddress | undefined;
  readonly nodeId: string;
  readonly secret: Buffer;
  readonly log: ClusterLog;
  /** Only names the scheme in the `listening on` lines: with TLS the tunnelled bytes are TLS, end to end. */
  readonly tls?: boolean;
  /** How long opening a tunnel may take (default 10 s). */
  readonly connectTimeoutMs?: number;
}

export interface TunnelFrontPorts {
  readonly http: number;
  readonly amqp?: number;
  readonly amqps?: number;
}

/** A refused client that does not close its end is dropped after this long. */
const REFUSED_LINGER_MS = 5_000;

/** One client connection and, once it is open, its tunnel to the leader. */
interface Tunnel {
  readonly client: Socket;
  upstream?: Socket;
}

export class TunnelFront {
  private readonly servers = new Map<Protocol, Server>();
  private readonly tunnels = new Set<Tunnel>();
  /** The leader last logged as unreachable: one info line per outage, not one per client. */
  private unreachable: string | undefined;

  constructor(private readonly options: TunnelFrontOptions) {}

  /** Binds every configured client port; resolves with the ports bound. Logs the usual `listening on` lines. */
  async listen(): Promise<TunnelFrontPorts> {
    const { host, ports, log } = this.options;
    const amqp = ports.amqp === undefined || ports.amqp === 'off' ? undefined : await this.listenOn('amqp', ports.amqp);
    if (amqp !== undefined) log.info({}, `AMQP 0-9-1 listening on amqp://${host}:${amqp}`);
    const amqps = ports.amqps === undefined || ports.amqps === 'off' ? undefined : await this.listenOn('amqps', ports.amqps);
    if (amqps !== undefined) log.info({}, `AMQP 0-9-1 over TLS listening on amqps://${host}:${amqps}`);
    const http = await this.listenOn('http', ports.http);
    log.info({}, `listening on ${this.options.tls ? 'https' : 'http'}://${host}:${http}`);
    return { http, ...(amqp !== undefined ? { amqp } : {}), ...(amqps !== undefined ? { amqps } : {}) };
  }

  /** Closes every client connection and its tunnel (the leader changed, or this node stops following). */
  closeTunnels(reason: string): void {
    if (this.tunnels.size === 0) return;
    this.options.log.info({ count: this.tunnels.size }, `cluster: closing ${this.tunnels.size} client tunnel(s): ${reason}`);
    for (const tunnel of this.tunnels) {
      tunnel.client.destroy();
      tunnel.upstream?.destroy();
    }
    this.tunnels.clear();
  }

  /** Stops listening and closes every tunnel. */
  async close(): Promise<void> {
    const closed = [...this.servers.values()].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.closeTunnels('node stopping');
    await Promise.all(closed);
    this.servers.clear();
  }

  private listenOn(protocol: Protocol, port: number): Promise<number> {
    // Paused: the client's bytes stay in the kernel until the tunnel can carry them.
    // Half-open: a client's FIN travels to the leader while the answer still travels back (HTTP clients
    // that half-close after a request); each socket closes once both directions have ended.
    const server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) => this.accept(protocol, client));
    this.servers.set(protocol, server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port }, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private accept(protocol: Protocol, client: Socket): void {
    const { log } = this.options;
    client.on('error', (error) => log.debug({ err: error }, 'tunnel: client socket error'));
    const leader = this.options.leader();
    if (!leader) return this.refuse(protocol, client, 'no leader elected; retry shortly');
    const remoteAddress = client.remoteAddress;
    const remotePort = client.remotePort;
    if (remoteAddress === undefined || remotePort === undefined) return void client.destroy();
    const tunnel: Tunnel = { client };
    this.tunnels.add(tunnel);
    // Once spliced, `splice` decides how the other side goes; before, there is nothing to close yet.
    client.once('close', () => this.tunnels.delete(tunnel));
    connectClusterPort({
      host: leader.host,
      port: leader.port,
      nodeId: this.options.nodeId,
      secret: this.options.secret,
      purpose: 'tunnel',
      tunnel: { protocol, remoteAddress, remotePort },
      ...(this.options.connectTimeoutMs !== undefined ? { timeoutMs: this.options.connectTimeoutMs } : {}),
    }).then(
      ({ socket, leftover }) => {
        // Closed meanwhile: by the client, or by closeTunnels because the leader changed.
        this.unreachable = undefined;
        if (client.destroyed || !this.tunnels.has(tunnel)) return void socket.destroy();
        tunnel.upstream = socket;
        splice(client, socket, leftover, log);
      },
      (error: unknown) => {
        this.tunnels.delete(tunnel);
        if (client.destroyed) return;
        const where = `${leader.nodeId} (${leader.host}:${leader.port})`;
        const line = `tunnel: cannot reach leader ${where}: ${error instanceof Error ? error.message : String(error)}`;
        if (this.unreachable === where) log.debug({ err: error }, line);
        else log.info({ err: error }, line);
        this.unreachable = where;
        this.refuse(protocol, client, `leader ${leader.nodeId} unreachable; retry shortly`);
      },
    );
  }

  /** HTTP gets a 503 it can show; AMQP has nothing to say before its handshake, so it is closed. */
  private refuse(protocol: Protocol, client: Socket, reason: string): void {
    if (protocol !== 'http' || this.options.tls) return void client.destroy();
    const body = JSON.stringify({ error: 'no_leader', reason });
    client.end(
      'HTTP/1.1 503 Service Unavailable\r\n' +
        'content-type: application/json\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'cache-control: no-cache\r\n' +
        'connection: close\r\n' +
        '\r\n' +
        body,
    );
    // Read and discard the request, so that the client sees the answer rather than a reset.
    client.resume();
    setTimeout(() => client.destroy(), REFUSED_LINGER_MS).unref();
  }
}

/**
 * Pipes both ways with backpressure (a side that cannot keep up pauses the other). A side that ends
 * ends the other once what it sent is written; a side that fails or is destroyed destroys the other.
 */
function splice(client: Socket, upstream: Socket, leftover: Buffer, log: ClusterLog): void {
  upstream.on('error', (error) => log.debug({ err: error }, 'tunnel: leader socket error'));
  upstream.allowHalfOpen = true;
  if (leftover.length > 0) client.write(leftover);
  client.pipe(upstream);
  upstream.pipe(client);
  const follow = (from: Socket, to: Socket): void => {
    from.once('close', () => {
      if (to.destroyed) return;
      // Ended cleanly: `pipe` has called to.end(); let that flush, then make sure the socket goes.
      if (from.readableEnded && !from.errored) {
        if (to.writableFinished) to.destroy();
        else to.once('finish', () => to.destroy());
      } else {
        to.destroy();
      }
    });
  };
  follow(client, upstream);
  follow(upstream, client);
}
