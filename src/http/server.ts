import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { UserStore } from '../auth/user-store.js';
import { createAuthenticator } from '../auth/auth-setup.js';
import { Broker } from '../broker/broker.js';
import { systemClock, type Clock } from '../broker/clock.js';
import { StartupClock } from '../broker/startup-clock.js';
import type { WarrenConfig } from '../config.js';
import { FrameParser } from '../protocol/frame-parser.js';
import { protocolSchemaDocument } from '../protocol/schemas.js';
import { ConnectionRegistry } from '../protocol/connection-registry.js';
import { VERSION } from '../version.js';
import { registerManagementApi } from './api/index.js';
import { registerConsole } from './console-route.js';
import { registerWebSocketRoute } from './ws-route.js';
import { registerBrowserAccess } from './browser-access.js';
import { trustedActor } from '../operations/caller.js';
import { Operations } from '../operations/operations.js';
import type { OpenFile } from '../store/definitions-log.js';
import { DurableState } from '../store/durable-state.js';
import type { DiskBusyReporter, StoreChangeObserver } from '../store/store-changes.js';
import type { DurabilityBarrier } from '../broker/persistence.js';
import { importDefinitions } from './api/definitions-import.js';
import { MemoryMonitor, memoryLimitBytes } from './memory-monitor.js';
import { totalmem } from 'node:os';
import { AmqpListener, registerAmqpWebSocketRoute, selectSubprotocol } from './amqp-listener.js';
import type { AmqpContext } from '../protocol/amqp/server/amqp-connection.js';
import { createPrometheusListener } from './prometheus/prometheus-setup.js';
import type { RequestHandler } from './prometheus/prometheus-listener.js';
import { BoundListeners } from './bound-listeners.js';
import { TlsListeners } from './tls/tls-listeners.js';
import type { WatchOptions } from './tls/certificate-source.js';
import { createTunnelAcceptor } from './tunnel-accept.js';
import type { Socket } from 'node:net';
import type { TunnelTarget } from '../cluster/cluster-port.js';
import type { ClusterStatus } from '../cluster/cluster-status.js';

export interface WarrenServer {
  readonly app: FastifyInstance;
  readonly broker: Broker;
  readonly memory: MemoryMonitor;
  readonly durable: DurableState;
  readonly users: UserStore;
  readonly connections: ConnectionRegistry;
  readonly ops: Operations;
  /** Starts listening; resolves with the address actually bound (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number; url: string; amqpPort?: number; amqpsPort?: number; prometheusPort?: number }>;
  /** Closes every connection with a `close` push (320 CONNECTION_FORCED), then the server. */
  close(): Promise<void>;
  /**
   * A client connection a follower tunnelled here (src/cluster ClusterPortListener's onTunnel): served
   * by the HTTP/HTTPS, AMQP or AMQPS server as if the client had connected directly, its address being
   * the client's; a protocol that is off here, or a server shutting down, drops it.
   */
  acceptTunnel(socket: Socket, target: TunnelTarget, leftover: Buffer): void;
}

/** What an embedding process or a test brings beyond the configuration. */
export interface WarrenServerOptions {
  /** Time for the lifecycle rules (queue expiry); a test brings a fake one so that nothing sleeps. */
  readonly clock?: Clock | undefined;
  /** How fast certificate file changes are picked up; tests shorten it. */
  readonly tlsWatch?: WatchOptions | undefined;
  /** Told of every change to the data dir's files (a cluster leader streams them to its followers). */
  readonly changes?: StoreChangeObserver | undefined;
  /** Told when the oldest disk write in flight began (a cluster leader's stalled-disk watchdog). */
  readonly diskBusy?: DiskBusyReporter | undefined;
  /** Recovered messages all come back flagged redelivered (a cluster leader taking over a replica). */
  readonly recoverAsRedelivered?: boolean | undefined;
  /** What replies wait for, around the local stores (a cluster leader's confirms also wait for its in-sync replicas). */
  readonly durability?: ((local: DurableState) => DurabilityBarrier) | undefined;
  /** `GET /api/cluster` with `--cluster` (from the cluster orchestrator); a single node answers `{cluster: false}`. */
  readonly clusterStatus?: (() => ClusterStatus | Promise<ClusterStatus>) | undefined;
  /** How the stores open their files; a test passes one whose fsyncs wait or fail on cue. */
  readonly openFile?: OpenFile | undefined;
}

export async function createWarrenServer(config: WarrenConfig, options: WarrenServerOptions = {}): Promise<WarrenServer> {
  // Before anything is opened: a key file that cannot be read stops the start with nothing to undo.
  const users = new UserStore();
  const authenticator = createAuthenticator(users, config);
  const tls = await TlsListeners.open(config);
  const app = Fastify({
    ...tls?.fastifyOptions(),
    logger: { level: config.logLevel },
    // A console polling the API would flood the log; request lines are for debugging.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    // Management API paths carry percent-encoded names of up to 255 bytes (765 characters encoded). A
    // longer parameter must still reach its route, which answers 400 naming the limit (a router miss
    // would look like a 404 or 405); Node caps the whole request line and headers at 16 KiB anyway.
    routerOptions: { maxParamLength: 16 * 1024 },
    // A client that never finishes its headers is cut after 10 s (Node's default is 60 s, checked every
    // 30 s); a whole request (a large definitions import included) gets 5 minutes.
    requestTimeout: 300_000,
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
  });
  const durable = await DurableState.open({
    dataDir: config.dataDir,
    segmentSize: config.segmentSize,
    diskFreeLimit: config.diskFreeLimit,
    log: app.log,
    ...(options.changes ? { changes: options.changes } : {}),
    ...(options.diskBusy ? { diskBusy: options.diskBusy } : {}),
    ...(options.recoverAsRedelivered ? { recoverAsRedelivered: true } : {}),
    ...(options.openFile ? { openFile: options.openFile } : {}),
  });
  const clock = new StartupClock(options.clock ?? systemClock);
  const broker = new Broker({
    maxBodySize: config.maxBodySize,
    messageStore: durable.messages,
    definitions: durable.definitions,
    clock,
    consumerTimeout: config.consumerTimeout,
  });
  const connections = new ConnectionRegistry();
  const ops = new Operations({ broker, users, durability: options.durability?.(durable) ?? durable, connections, log: app.log });
  await durable.restore(broker, users, {
    firstStart: () => createDefaultUser(ops, config),
    importDocument: async (document) => {
      const report = await importDefinitions(ops, broker, users, document);
      for (const item of report.notImportedItems) app.log.warn(`definitions import: not imported: ${item}`);
    },
  });
  clock.started();

  await app.register(fastifyWebsocket, {
    // A broken frame (invalid UTF-8, too large) is the client's fault: `ws` closes that socket with the
    // right code; it is not the broker's error, and one log line each would let a client flood the log.
    errorHandler: (error, socket) => {
      app.log.debug({ err: error }, 'websocket protocol error: connection closed');
      socket.terminate();
    },
    // Room for a maximum-size body in base64 plus the frame around it; a bigger frame closes the socket.
    options: { maxPayload: Math.ceil((config.maxBodySize * 4) / 3) + 1024 * 1024, handleProtocols: selectSubprotocol },
  });
  registerBrowserAccess(app, config);
  registerWebSocketRoute(
    app,
    {
      broker,
      authenticator,
      ops,
      parser: new FrameParser(),
      version: VERSION,
      heartbeat: config.heartbeat,
      handshakeTimeout: config.handshakeTimeout,
      log: app.log,
    },
    connections,
  );
  const amqpContext: AmqpContext = {
    broker,
    ops,
    authenticator,
    version: VERSION,
    heartbeat: config.heartbeat,
    handshakeTimeout: config.handshakeTimeout,
    log: app.log,
    findUser: (name, peerAddress, foreignOrigin) => users.admitProven(name, peerAddress, foreignOrigin),
    onOpen: (connection) => connections.add(connection),
    onClose: (connection) => connections.remove(connection),
  };
  registerAmqpWebSocketRoute(app, amqpContext);
  tls?.start(amqpContext, options.tlsWatch);
  const amqp = config.amqpPort === 'off' ? undefined : { listener: new AmqpListener(amqpContext), port: config.amqpPort };
  app.get('/api/protocol/schema', async () => protocolSchemaDocument());
  broker.onDiskAlarm = (on) => connections.setAlarm('disk', on);
  broker.onReplicationAlarm = (reason) => connections.setAlarm('replication', reason !== undefined);
  const memory = new MemoryMonitor({
    limitBytes: memoryLimitBytes(config.memoryHighWatermark, totalmem()),
    onChange: (alarm, rss) => {
      broker.memoryAlarm = alarm;
      connections.setMemoryAlarm(alarm);
      if (alarm) app.log.warn({ rss, limit: memory.limitBytes }, 'memory above high watermark: blocking publishers');
      else app.log.info({ rss }, 'memory back below high watermark: publishers resumed');
    },
  });
  memory.start();
  const bound = new BoundListeners();
  await registerManagementApi(app, {
    listeners: bound,
    broker,
    users,
    authenticator,
    ops,
    connections,
    version: VERSION,
    memoryLimit: () => memory.limitBytes,
    disk: () => durable.diskUsage(),
    tls,
    clusterStatus: options.clusterStatus,
  });
  await registerConsole(app);
  // With TLS configured every listener speaks it, the metrics port too (RabbitMQ's `https/prometheus`).
  const metricsServer = tls?.fastifyOptions('https/prometheus').serverFactory;
  const prometheus = createPrometheusListener(config.prometheusPort, {
    broker,
    connections,
    durable,
    memoryLimit: () => memory.limitBytes,
    version: VERSION,
    log: app.log,
    ...(metricsServer ? { createServer: (handler: RequestHandler) => metricsServer(handler, {}) } : {}),
  });

  let closing: Promise<void> | undefined;
  const acceptTunnel = createTunnelAcceptor({
    http: app.server,
    amqp: amqp?.listener,
    amqps: tls?.amqpsListener,
    isClosing: () => closing !== undefined,
    log: app.log,
  });
  return {
    app,
    broker,
    memory,
    durable,
    users,
    connections,
    ops,
    acceptTunnel,
    async listen() {
      // AMQP first: once the line tools and people wait for (`listening on http://HOST:PORT`) is out, every listener is up.
      const amqpPort = amqp ? await amqp.listener.listen(config.host, amqp.port) : undefined;
      if (amqpPort !== undefined) app.log.info(`AMQP 0-9-1 listening on amqp://${config.host}:${amqpPort}`);
      const amqpsPort = await tls?.listen(config.host);
      if (amqpsPort !== undefined) app.log.info(`AMQP 0-9-1 over TLS listening on amqps://${config.host}:${amqpsPort}`);
      const prometheusPort = prometheus ? await prometheus.listener.listen(config.host, prometheus.port) : undefined;
      if (prometheusPort !== undefined) app.log.info(`Prometheus metrics on ${tls ? 'https' : 'http'}://${config.host}:${prometheusPort}/metrics`);
      // fastify names the scheme from its own `https` option, which a server factory bypasses.
      const scheme = tls ? 'https' : 'http';
      await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `listening on ${address.replace(/^http:/, `${scheme}:`)}` });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      if (amqpPort !== undefined) bound.add({ protocol: 'amqp', address: config.host, port: amqpPort });
      if (amqpsPort !== undefined) bound.add({ protocol: 'amqp/ssl', address: config.host, port: amqpsPort });
      bound.addHttp(tls !== undefined, config.host, port);
      if (prometheusPort !== undefined) bound.add({ protocol: tls ? 'https/prometheus' : 'http/prometheus', address: config.host, port: prometheusPort });
      return {
        host: config.host,
        port,
        url: `${scheme}://${config.host}:${port}`,
        ...(amqpPort !== undefined ? { amqpPort } : {}),
        ...(amqpsPort !== undefined ? { amqpsPort } : {}),
        ...(prometheusPort !== undefined ? { prometheusPort } : {}),
      };
    },
    close() {
      closing ??= (async () => {
        memory.stop();
        connections.closeAll('broker shutting down');
        await Promise.all([amqp?.listener.close(), tls?.close(), prometheus?.listener.close()]);
        await app.close();
        await durable.close();
      })();
      return closing;
    },
  };
}

/** First start: the configured default user, administrator with full permissions on `/`, as RabbitMQ. */
async function createDefaultUser(ops: Operations, config: WarrenConfig): Promise<void> {
  const actor = trustedActor('rmq-internal');
  await ops.admin.putUser(actor, config.defaultUser, { password: config.defaultPass, tags: ['administrator'] });
  await ops.admin.setPermission(actor, { user: config.defaultUser, vhost: '/', configure: '.*', write: '.*', read: '.*' });
}
