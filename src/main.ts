import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, usage, type WarrenConfig } from './config.js';
import type { FastifyBaseLogger } from 'fastify';
import { createWarrenServer } from './http/server.js';
import { DataDirError } from './store/data-dir.js';
import { DefinitionsLogError } from './store/definitions-codec.js';
import { LostDefinitionsError } from './store/lost-definitions.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return;
  }
  let config: WarrenConfig;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`warren: ${(error as Error).message}\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const running = config.cluster ? await startClusterNode(config) : await startSingleNode(config);
  const { log } = running;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    running.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

interface Running {
  readonly log: FastifyBaseLogger;
  close(): Promise<void>;
}

async function startSingleNode(config: WarrenConfig): Promise<Running> {
  const server = await createWarrenServer(config);
  await server.listen();
  return { log: server.app.log, close: () => server.close() };
}

/** Cluster mode loads etcd's client and the cluster folder only here, so a single node never does. */
async function startClusterNode(config: WarrenConfig): Promise<Running> {
  const { pino } = await import('pino');
  const log = pino({ level: config.logLevel });
  const { ClusterNode } = await import('./cluster/cluster-node.js');
  const node = await ClusterNode.start(config, { createServer: createWarrenServer, log });
  return { log, close: () => node.close() };
}

/** Refusals that explain themselves: what is wrong with the data dir and what to do. A stack would bury that. */
const explained = [DataDirError, DefinitionsLogError, LostDefinitionsError, ConfigError];

main().catch((error: unknown) => {
  // The reason first, on its own line; a stack only for what is not one of ours, and after it.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`warren: failed to start: ${message}`);
  if (error instanceof Error && !explained.some((kind) => error instanceof kind)) console.error(error.stack);
  process.exit(1);
});
