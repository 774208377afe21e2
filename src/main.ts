import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, usage, type WarrenConfig } from './config.js';
import { createWarrenServer } from './http/server.js';

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

main().catch((error: unknown) => {
  console.error('warren: failed to start:', error);
  process.exit(1);
});
