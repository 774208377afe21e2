import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built broker (`npm test` builds before running vitest). */
const mainJs = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface ChildBroker {
  readonly child: ChildProcess;
  /** `http://HOST:PORT` */
  readonly url: string;
  /** `ws://HOST:PORT/ws` */
  readonly wsUrl: string;
  /** Everything it printed so far. */
  output(): string;
}

/**
 * A real broker process on `dataDir` (port chosen by the OS), for crash tests: `child.kill('SIGKILL')`
 * is a `kill -9`. The caller kills it.
 */
export function spawnBroker(dataDir: string, env: Record<string, string> = {}): Promise<ChildBroker> {
  const child = spawn(process.execPath, [mainJs], {
    env: { ...process.env, WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_PROMETHEUS_PORT: '0', WARREN_HOST: '127.0.0.1', WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => void (output += chunk.toString());
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = /listening on http:\/\/([^"\s]+)/.exec(output);
      if (match?.[1]) resolve({ child, url: `http://${match[1]}`, wsUrl: `ws://${match[1]}/ws`, output: () => output });
    });
    child.on('exit', (code, signal) => reject(new Error(`broker exited with ${code ?? signal}: ${output}`)));
  });
}

/** Waits for the process to be gone (after a kill). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
