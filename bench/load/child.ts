/**
 * The load generator's process: runs one job (see job.ts) from the runner, then exits. Keeping it out
 * of the runner (and the broker) means the generator has an event loop and a core of its own.
 */
import type { FromChild, Job, JobContext, ToChild } from './job.js';
import { jobs } from './jobs.js';

function send(message: FromChild): void {
  process.send?.(message);
}

let resume: (() => void) | undefined;
let cpuAtMeasure: NodeJS.CpuUsage | undefined;
let wallAtMeasure = 0;

process.on('message', (raw: unknown) => {
  const message = raw as ToChild;
  if (message.type === 'continue') {
    const r = resume;
    resume = undefined;
    r?.();
    return;
  }
  const job = jobs[message.job];
  if (!job) {
    send({ type: 'error', message: `unknown job '${message.job}'` });
    process.exit(1);
  }
  const ctx: JobContext = {
    target: message.target,
    params: message.params,
    mark: (name, data) =>
      new Promise<void>((resolve) => {
        if (name === 'measure') {
          cpuAtMeasure = process.cpuUsage();
          wallAtMeasure = performance.now();
        }
        resume = resolve;
        send({ type: 'mark', name, data });
      }),
  };
  (job as unknown as Job)(ctx).then(
    (result) => {
      let generatorCpuPct: number | undefined;
      if (cpuAtMeasure) {
        const used = process.cpuUsage(cpuAtMeasure);
        const wall = performance.now() - wallAtMeasure;
        generatorCpuPct = wall > 0 ? Math.round(((used.user + used.system) / 1000 / wall) * 100) : undefined;
      }
      send({ type: 'result', result, generatorCpuPct });
      // Let the IPC message flush, then go: open connections are simply dropped.
      setTimeout(() => process.exit(0), 50);
    },
    (error: unknown) => {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      setTimeout(() => process.exit(1), 50);
    },
  );
});
