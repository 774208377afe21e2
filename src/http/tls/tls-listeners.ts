/**
 * TLS on Warren's listeners: the HTTP port as HTTPS (REST, console, WSS for /ws and /amqp) and AMQPS.
 * Every listener is made by a factory that applies the certificate source's options and attaches the
 * server for reloads, so putting TLS on another listener is one call: `createHttpServerFactory(source)`
 * for a fastify app (its `serverFactory` option), `createTlsServerFactory(source, log)` for a raw TCP one.
 */
import type { IncomingMessage, RequestListener, Server as HttpServer, ServerOptions as HttpServerOptions, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { WarrenConfig } from '../../config.js';
import type { AmqpContext } from '../../protocol/amqp/server/amqp-connection.js';
import type { Logger } from '../../protocol/session-context.js';
import { AmqpListener, type AmqpServerFactory } from '../amqp-listener.js';
import { CertificateSource, tlsSettingsOf, type WatchOptions } from './certificate-source.js';
import type { TlsListenerInfo, TlsStatus } from './certificate-expiry.js';

/**
 * For fastify's `serverFactory`: an HTTPS server with the source's certificate, set up as fastify sets
 * up its own HTTP server (its `http` options, request, keep-alive and connection timeouts).
 */
export function createHttpServerFactory(
  source: CertificateSource,
  onCreated: (server: HttpServer) => void = () => undefined,
): (handler: (request: IncomingMessage, response: ServerResponse) => void, fastifyOptions: Record<string, unknown>) => HttpServer {
  return (handler, fastifyOptions) => {
    const http = (fastifyOptions.http ?? {}) as HttpServerOptions;
    const server = createHttpsServer({ ...http, ...source.serverOptions() }, handler as RequestListener);
    const number = (key: string): number | undefined => (typeof fastifyOptions[key] === 'number' ? fastifyOptions[key] : undefined);
    server.keepAliveTimeout = number('keepAliveTimeout') ?? server.keepAliveTimeout;
    server.requestTimeout = number('requestTimeout') ?? server.requestTimeout;
    server.setTimeout(number('connectionTimeout') ?? 0);
    source.attach(server);
    onCreated(server);
    return server;
  };
}

/** A TLS server for a TCP protocol: `accept` gets each socket once its handshake is done. */
export function createTlsServerFactory(source: CertificateSource, log: Logger, handshakeTimeoutMs: number): AmqpServerFactory {
  return (accept) => {
    const server = createTlsServer({ ...source.serverOptions(), handshakeTimeout: handshakeTimeoutMs }, (socket) => {
      socket.setNoDelay(true);
      accept(socket);
    });
    // A client without a valid certificate, or one speaking an older TLS version, or plain AMQP: its
    // problem, told to it by the handshake; one debug line, so that it cannot flood the log.
    server.on('tlsClientError', (error: Error, socket: Socket) =>
      log.debug({ err: error, peer: { address: socket.remoteAddress, port: socket.remotePort } }, 'TLS handshake failed'),
    );
    source.attach(server);
    return server;
  };
}

/** What the server assembly needs: open the certificate, make the listeners, report their certificates. */
export class TlsListeners implements TlsStatus {
  /** HTTPS servers made here, by the protocol the expiration check names them with. */
  private readonly httpServers = new Map<HttpServer, string>();
  private amqps: { listener: AmqpListener; port: number } | undefined;
  private host = '';
  private amqpsBound: number | undefined;

  private constructor(
    readonly source: CertificateSource,
    private readonly amqpsPort: number | 'off',
  ) {}

  /** Undefined without --tls-cert/--tls-key; a ConfigError when a file is missing or does not fit. */
  static async open(config: WarrenConfig): Promise<TlsListeners | undefined> {
    const settings = tlsSettingsOf(config);
    if (!settings) return undefined;
    return new TlsListeners(await CertificateSource.open(settings), config.amqpsPort);
  }

  /**
   * Fastify options that make a fastify app's port speak HTTPS: `Fastify({ ...tls?.fastifyOptions() })`.
   * `protocol` names the listener in the certificate-expiration check (RabbitMQ: `https`, `https/prometheus`).
   */
  fastifyOptions(protocol = 'https'): { serverFactory: ReturnType<typeof createHttpServerFactory> } {
    return {
      serverFactory: createHttpServerFactory(this.source, (server) => {
        this.httpServers.set(server, protocol);
        server.once('close', () => this.httpServers.delete(server));
      }),
    };
  }

  /** Watches the files and prepares AMQPS (unless `--amqps-port off`). */
  start(context: AmqpContext, watch: WatchOptions = {}): void {
    this.source.startWatching(context.log, watch);
    if (this.amqpsPort === 'off') return;
    const factory = createTlsServerFactory(this.source, context.log, context.handshakeTimeout);
    this.amqps = { listener: new AmqpListener(context, factory), port: this.amqpsPort };
  }

  /** Starts AMQPS; resolves with its port, or undefined when it is off. */
  async listen(host: string): Promise<number | undefined> {
    this.host = host;
    if (!this.amqps) return undefined;
    this.amqpsBound = await this.amqps.listener.listen(host, this.amqps.port);
    return this.amqpsBound;
  }

  /** The AMQPS listener, undefined when it is off (`--amqps-port off`) or before `start`. */
  get amqpsListener(): AmqpListener | undefined {
    return this.amqps?.listener;
  }

  async close(): Promise<void> {
    this.source.stop();
    await this.amqps?.listener.close();
  }

  // TlsStatus, for the certificate-expiration health check

  get certFile(): string {
    return this.source.settings.certFile;
  }

  get caFile(): string | undefined {
    return this.source.settings.caFile;
  }

  get certificates(): TlsStatus['certificates'] {
    return this.source.certificates;
  }

  get caCertificates(): TlsStatus['caCertificates'] {
    return this.source.caCertificates;
  }

  listeners(): TlsListenerInfo[] {
    const out: TlsListenerInfo[] = [];
    for (const [server, protocol] of this.httpServers) {
      const address = server.address();
      if (address && typeof address === 'object') out.push({ protocol, interface: address.address, port: address.port });
    }
    if (this.amqpsBound !== undefined) out.push({ protocol: 'amqp/ssl', interface: this.host, port: this.amqpsBound });
    return out;
  }
}
