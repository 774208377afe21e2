/**
 * Runner side of a load job: spawns the generator child (fd limit raised, IPC channel), relays marks.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, JobParams, JobResult, Target, ToChild } from '../load/job.js';

const CHILD = fileURLToPath(new URL('../load/child.js', import.meta.url));

export interface RunJobOptions {
  /** Called at each mark; the child waits until it resolves. */
  onMark?: (name: string, data: unknown) => void | Promise<void>;
  timeoutMs?: number;
}

export interface JobOutcome {
  result: JobResult;
  generatorCpuPct: number | undefined;
}

export function runJob(job: string, params: JobParams, target: Target, options: RunJobOptions = {}): Promise<JobOutcome> {
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, CHILD], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<JobOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, outcome?: JobOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else resolve(outcome as JobOutcome);
    };
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    const timer = setTimeout(() => finish(new Error(`job '${job}' timed out after ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (raw: unknown) => {
      const message = raw as FromChild;
      if (message.type === 'mark') {
        Promise.resolve(options.onMark?.(message.name, message.data)).then(
          () => child.connected && child.send({ type: 'continue' } satisfies ToChild),
          (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
        );
      } else if (message.type === 'result') {
        finish(undefined, { result: message.result, generatorCpuPct: message.generatorCpuPct });
      } else {
        finish(new Error(`job '${job}' failed: ${message.message}`));
      }
    });
    // Give a result sent just before the exit time to arrive.
    child.on('exit', (code) => setTimeout(() => finish(new Error(`job '${job}': generator exited (${code}) without a result`)), 200));
    child.on('error', (error) => finish(error));
    child.send({ type: 'start', job, params, target } satisfies ToChild);
  });
}
