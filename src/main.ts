import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, usage, type WarrenConfig } from './config.js';
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
  const server = await createWarrenServer(config);
  const log = server.app.log;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
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

  await server.listen();
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
