/**
 * Runs the pika scripts in ./python with Debian's /usr/bin/python3 (the only interpreter with pika here)
 * and parses the JSON lines they print. `pikaAvailable` is false when either is missing, so the tests
 * skip rather than fail on a machine without them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';

export const pikaAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pika'], { stdio: 'ignore' }).status === 0;

export type JsonLine = { t: string } & Record<string, unknown>;

export interface PythonRun {
  readonly code: number | null;
  readonly lines: JsonLine[];
  readonly stderr: string;
}

/** Runs python/SCRIPT with ARGS; the URL given to pika names the default vhost explicitly (`/%2F`). */
export function runPython(script: string, args: string[], timeoutMs = 15_000): Promise<PythonRun> {
  const path = fileURLToPath(new URL(`./python/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} ran over ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as JsonLine);
      resolve({ code, lines, stderr: err });
    });
  });
}

/** pika's URLParameters needs the vhost in the path; `/` is `%2F`. */
export function pikaUrl(amqpUrl: string): string {
  return `${amqpUrl.replace(/\/+$/, '')}/%2F`;
}
