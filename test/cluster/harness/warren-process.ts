// One Warren node as a child process (`node dist/main.js …`), for failure tests: its ports read from
// its start-up log lines, signals (kill -9, SIGSTOP, SIGCONT), restart on the same data dir, and
// waiting for a log line. Every child is tracked so none outlives the test process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NodeEndpoint } from './amqp-endpoints.js';

/** The repository root: the nearest folder up with a package.json (this file also runs from dist-bench/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the harness');
    dir = up;
  }
  return dir;
}

export const mainJs = join(repositoryRoot(), 'dist', 'main.js');

/** Why a test needing `--cluster` cannot run (dist/main.js missing or without the flag), else undefined. */
export function clusterSkipReason(): string | undefined {
  if (!existsSync(mainJs)) return 'dist/main.js is missing (npm run build)';
  const help = spawnSync(process.execPath, [mainJs, '--help'], { encoding: 'utf8' });
  return /--cluster\s/.test(help.stdout ?? '') ? undefined : 'dist/main.js --help lists no --cluster flag (the cluster is not merged yet)';
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export type Signal = 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM';

export interface WarrenProcessOptions {
  readonly id: string;
  readonly dataDir: string;
  /** Arguments after `dist/main.js`, computed at each (re)start. */
  readonly args: () => string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Also wait for the AMQP listener's line (default true). */
  readonly amqp?: boolean;
  /** Called with each log line as it arrives (the cluster harness retargets its proxy from here). */
  readonly onLine?: (line: string) => void;
  readonly startTimeoutMs?: number;
  /** The script to run instead of dist/main.js (the harness's own test runs a stand-in node). */
  readonly program?: string;
}

interface Waiter {
  readonly pattern: RegExp;
  readonly from: number;
  readonly resolve: (match: RegExpExecArray) => void;
}

export class WarrenProcess {
  /** Every line printed, all incarnations. */
  readonly lines: string[] = [];
  #child: ChildProcess | undefined;
  #incarnationStart = 0;
  #waiters = new Set<Waiter>();
  #stopped = false;
  httpPort = 0;
  amqpPort = 0;

  constructor(private readonly o: WarrenProcessOptions) {}

  get id(): string {
    return this.o.id;
  }

  get dataDir(): string {
    return this.o.dataDir;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Running and not SIGSTOPped. */
  get up(): boolean {
    return this.running && !this.#stopped;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Index of this incarnation's first line in `lines`. */
  get incarnationStart(): number {
    return this.#incarnationStart;
  }

  endpoint(): NodeEndpoint {
    return { node: this.id, amqpUrl: `amqp://guest:guest@127.0.0.1:${this.amqpPort}`, httpUrl: `http://127.0.0.1:${this.httpPort}` };
  }

  /** The last `count` lines, for failure messages. */
  tail(count = 40): string {
    return this.lines.slice(-count).join('\n');
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.id} is already running`);
    this.#incarnationStart = this.lines.length;
    this.#stopped = false;
    this.httpPort = 0;
    this.amqpPort = 0;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('WARREN_')) env[key] = value;
    const child = spawn(process.execPath, [this.o.program ?? mainJs, ...this.o.args()], {
      env: { ...env, WARREN_HOST: '127.0.0.1', ...this.o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      this.line(`[harness] ${this.id} exited (${code ?? signal})`);
    });
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (line) => this.line(line));
    const from = this.#incarnationStart;
    const timeoutMs = this.o.startTimeoutMs ?? 30_000;
    const ready = Promise.all([
      this.waitForLog(/listening on http:\/\/[^\s"]+:(\d+)/, { from, timeoutMs }),
      this.o.amqp === false ? undefined : this.waitForLog(/listening on amqp:\/\/[^\s"]+:(\d+)/, { from, timeoutMs }),
    ]);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`${this.id} exited (${code ?? signal}) before it listened:\n${this.tail()}`))),
    );
    const [http, amqp] = await Promise.race([ready, exited]);
    this.httpPort = Number(http[1]);
    if (amqp) this.amqpPort = Number(amqp[1]);
  }

  kill(signal: Signal): void {
    const child = this.#child;
    if (!child || !this.running) return;
    child.kill(signal);
    if (signal === 'SIGSTOP') this.#stopped = true;
    if (signal === 'SIGCONT') this.#stopped = false;
  }

  /** Resolves when the current incarnation is gone. */
  exited(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** kill -9 (if running) and start again on the same data dir. */
  async restart(): Promise<void> {
    this.kill('SIGCONT');
    this.kill('SIGKILL');
    await this.exited();
    await this.start();
  }

  /**
   * The first line matching `pattern` from line index `from` (default: this incarnation's first line);
   * pass `from: node.lines.length` to wait for a line not printed yet.
   */
  waitForLog(pattern: RegExp, o: { from?: number; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    const from = o.from ?? this.#incarnationStart;
    for (let i = from; i < this.lines.length; i++) {
      const match = pattern.exec(this.lines[i] ?? '');
      if (match) return Promise.resolve(match);
    }
    const timeoutMs = o.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.id}: no line matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        pattern,
        from,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  private line(text: string): void {
    this.lines.push(text);
    // For a long run (bench scenario 13): every node's lines in a file, to read after the fact.
    const logDir = process.env['WARREN_HARNESS_LOG_DIR'];
    if (logDir) appendFileSync(join(logDir, `${this.id}.log`), `${text}\n`);
    this.o.onLine?.(text);
    for (const waiter of this.#waiters) {
      const match = waiter.pattern.exec(text);
      if (match) {
        this.#waiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  }
}
