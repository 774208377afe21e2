/**
 * The broker under test as a child process: `node dist/main.js` on a free port, a temp data dir, its
 * fd limit raised to the hard limit. Start-up ends at the `listening on http://…` log line (and, when
 * asked, the AMQP listener's line with its port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { peakRssBytes, rssBytes, storageWriteBytes } from './procfs.js';

/** The repository root (this file runs from dist-bench/bench/lib/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface BrokerOptions {
  /** Reuse a data dir (restart); default a fresh temp dir, removed by `dispose()`. */
  dataDir?: string;
  /** Where fresh temp data dirs go; default the OS temp dir. */
  dataRoot?: string;
  /**
   * `info` by default: the `listening on` line is an info-level log, so at `warn` it is never printed.
   * Warren logs nothing per message at info (request logging is off below debug).
   */
  logLevel?: string;
  /** Write a V8 CPU profile of the broker into this directory when it exits. */
  cpuProfDir?: string;
  /** Extra node flags for the broker (A/B tests of V8 settings, e.g. `--max-semi-space-size=32`). */
  nodeArgs?: readonly string[];
  startTimeoutMs?: number;
  /** Also wait for the AMQP listener's start-up line (its port, for amqplib); fails if none comes. */
  amqp?: boolean;
}

/**
 * The AMQP listener's port from a start-up log line (`… amqp://HOST:PORT …`, or a line naming AMQP and
 * a `port` field or an `ADDRESS:PORT`). Tolerant of the wording so the bench does not break on a rephrased log message.
 */
export function amqpPortFromLog(line: string): number | undefined {
  const names = /amqp/i.test(line);
  const match =
    /amqp:\/\/[^\s"/]*:(\d{1,5})/i.exec(line) ??
    (names ? (/\bport\W{0,4}(\d{1,5})\b/i.exec(line) ?? /(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-f:]+\]):(\d{1,5})\b/i.exec(line)) : null);
  const port = match ? Number(match[1]) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

const SHELL_PRELUDE = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

export class BrokerProcess {
  private exited: Promise<number | null>;
  private ownsDataDir: boolean;

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    /** `http://127.0.0.1:PORT` */
    readonly url: string,
    readonly dataDir: string,
    /** Milliseconds from spawn to the `listening on` line (recovery time when the data dir has a backlog). */
    readonly startupMs: number,
    /** The AMQP 0-9-1 port, when started with `amqp: true`. */
    readonly amqpPort: number | undefined,
    exited: Promise<number | null>,
    ownsDataDir: boolean,
  ) {
    this.exited = exited;
    this.ownsDataDir = ownsDataDir;
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/ws`;
  }

  /** `amqp://guest:guest@HOST:AMQP_PORT` (vhost `/`); throws when the AMQP port is not known. */
  get amqpUrl(): string {
    if (this.amqpPort === undefined) throw new Error('the broker was not started with amqp: true');
    return `amqp://guest:guest@${new URL(this.url).hostname}:${this.amqpPort}`;
  }

  static async start(options: BrokerOptions = {}): Promise<BrokerProcess> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(path.join(options.dataRoot ?? os.tmpdir(), 'warren-bench-'));
    const nodeArgs = [...(options.nodeArgs ?? []), ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [])];
    const started = performance.now();
    const child = spawn('sh', ['-c', SHELL_PRELUDE, 'sh', process.execPath, ...nodeArgs, path.join(ROOT, 'dist/main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_PROMETHEUS_PORT: '0',
        WARREN_HOST: '127.0.0.1',
        WARREN_DATA_DIR: dataDir,
        WARREN_LOG_LEVEL: options.logLevel ?? 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const tail: string[] = [];
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    const { url, amqpPort } = await new Promise<{ url: string; amqpPort: number | undefined }>((resolve, reject) => {
      let url: string | undefined;
      let amqpPort: number | undefined;
      const ready = (): boolean => url !== undefined && (!options.amqp || amqpPort !== undefined);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        const missing = url === undefined ? "'listening on'" : 'its AMQP port';
        reject(new Error(`broker did not log ${missing} within ${timeoutMs} ms:\n${tail.join('\n')}`));
      }, timeoutMs);
      let started = false;
      const onLine = (line: string): void => {
        if (!started) {
          const match = /listening on (https?:\/\/[^\s"]+)/.exec(line);
          if (match && url === undefined) url = match[1] as string;
          else if (options.amqp && amqpPort === undefined) amqpPort = amqpPortFromLog(line);
          if (ready()) {
            started = true;
            clearTimeout(timer);
            resolve({ url: url as string, amqpPort });
            return;
          }
          tail.push(line);
        } else if (/"level":(40|50|60)/.test(line) || !line.startsWith('{')) process.stderr.write(`[broker] ${line}\n`);
      };
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
      createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onLine);
      void exited.then((code) => {
        clearTimeout(timer);
        if (!started) reject(new Error(`broker exited (${code}) before listening:\n${tail.join('\n')}`));
      });
    });
    const startupMs = Math.round(performance.now() - started);
    return new BrokerProcess(child, child.pid as number, url, dataDir, startupMs, amqpPort, exited, ownsDataDir);
  }

  rss(): number | undefined {
    return rssBytes(this.pid);
  }

  peakRss(): number | undefined {
    return peakRssBytes(this.pid);
  }

  storageWriteBytes(): number | undefined {
    return storageWriteBytes(this.pid);
  }

  /** SIGTERM (Warren closes every connection and exits); SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops this broker and starts another on the same data dir; its `startupMs` is the recovery time. */
  async restart(options: Omit<BrokerOptions, 'dataDir'> = {}): Promise<BrokerProcess> {
    await this.stop();
    const next = await BrokerProcess.start({ ...options, dataDir: this.dataDir });
    next.ownsDataDir = this.ownsDataDir;
    this.ownsDataDir = false;
    return next;
  }

  /** Stops the broker and removes its temp data dir. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
