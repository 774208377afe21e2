import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type WarrenConnection } from '../../src/client/index.js';
import type { ConnectOptions } from '../../src/client/options.js';
import { defaultConfig, type WarrenConfig } from '../../src/config.js';
import { createWarrenServer, type WarrenServer, type WarrenServerOptions } from '../../src/http/server.js';

export interface RunningWarren {
  readonly server: WarrenServer;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/ws` */
  readonly wsUrl: string;
  readonly dataDir: string;
  /** The AMQP 0-9-1 TCP port (ephemeral); 0 when started with `amqpPort: 'off'`. */
  readonly amqpPort: number;
  /** `amqp://guest:guest@127.0.0.1:AMQP_PORT` */
  readonly amqpUrl: string;
  /** `ws://127.0.0.1:PORT/amqp`: AMQP 0-9-1 over WebSocket. */
  readonly amqpWsUrl: string;
  /** The Prometheus port (ephemeral: a test never binds 15692); 0 when started with `prometheusPort: 'off'`. */
  readonly prometheusPort: number;
  /** Opens a client connection as guest (or with the given options) and closes it with the server. */
  connect(options?: Partial<ConnectOptions>): Promise<WarrenConnection>;
  stop(): Promise<void>;
}

/** A real Warren on an ephemeral port with a fresh temp data dir. */
export async function startWarren(overrides: Partial<WarrenConfig> = {}, options: WarrenServerOptions = {}): Promise<RunningWarren> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'warren-test-'));
  const server = await createWarrenServer({ ...defaultConfig, port: 0, amqpPort: 0, prometheusPort: 0, logLevel: 'silent', ...overrides, dataDir }, options);
  const { port, amqpPort, prometheusPort } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  const connections: WarrenConnection[] = [];
  return {
    server,
    url,
    wsUrl,
    dataDir,
    amqpPort: amqpPort ?? 0,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort ?? 0}`,
    amqpWsUrl: `ws://127.0.0.1:${port}/amqp`,
    prometheusPort: prometheusPort ?? 0,
    async connect(options = {}) {
      const connection = await connect(wsUrl, { username: 'guest', password: 'guest', ...options });
      connections.push(connection);
      return connection;
    },
    async stop() {
      await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
      await server.close();
      if (overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
