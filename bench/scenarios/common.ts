/**
 * Runner-side plumbing every scenario uses: options, the broker (or the local RabbitMQ) to measure,
 * and running a job against it while reading the broker's CPU, RSS and disk writes.
 */
import { BrokerProcess } from '../lib/broker.js';
import { CpuMeter, peakRssBytes, pidsNamed, rssBytes, storageWriteBytes, toMiB } from '../lib/procfs.js';
import { runJob, type JobOutcome } from '../lib/run-job.js';
import type { JobParams, JobResult, Target } from '../load/job.js';

export interface BenchOptions {
  /** `--name=value` flags as given (`--flag` alone is "true"). */
  flags: Readonly<Record<string, string>>;
  quick: boolean;
  logLevel: string;
  dataRoot: string | undefined;
  cpuProfDir: string | undefined;
  /** Extra node flags for the broker process. */
  brokerNodeArgs: readonly string[];
  amqpUrl: string;
}

/**
 * Which broker a run measures, through which client: Warren (spawned per run) over its WebSocket with
 * the bundled client, the same Warren over AMQP 0-9-1 with amqplib, or the RabbitMQ already running
 * (amqplib).
 */
export type TargetKind = 'warren' | 'warren-amqp' | 'amqp';

export interface RunEnv {
  readonly options: BenchOptions;
  readonly target: TargetKind;
}

/** One result of one run; lines of the same `key` across repeated runs are folded into their median. */
export interface Line {
  key: string;
  params: JobParams;
  metrics: Record<string, unknown>;
}

export interface Scenario {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  /** Whether the side-by-side (scenario 8) can run it against RabbitMQ. */
  readonly amqp?: boolean;
  /** Only when named in --scenario, never in the default `all` (e.g. it needs etcd and a cluster build). */
  readonly explicitOnly?: boolean;
  /** The figure whose per-run values the line lists under `samples` (default `msgsPerSec`). */
  readonly headline?: string;
  params(options: BenchOptions): JobParams;
  run(env: RunEnv, params: JobParams): Promise<Line[]>;
}

/** A numeric flag, else the quick or the full default. */
export function num(options: BenchOptions, flag: string, full: number, quick = full): number {
  const raw = options.flags[flag];
  if (raw === undefined) return options.quick ? quick : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${flag}: expected a non-negative number, got '${raw}'`);
  return value;
}

export function numList(options: BenchOptions, flag: string, full: number[], quick = full): number[] {
  const raw = options.flags[flag];
  if (raw === undefined) return options.quick ? quick : full;
  return raw.split(',').map((part) => {
    const value = Number(part);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag}: expected numbers separated by commas, got '${raw}'`);
    return value;
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The broker being measured in one run, whichever it is. */
export interface Measured {
  readonly target: Target;
  readonly pid: number | undefined;
  readonly broker: BrokerProcess | undefined;
}

/** Runs `fn` against a fresh Warren (disposed afterwards) or the running RabbitMQ. */
export async function withTarget<T>(env: RunEnv, fn: (m: Measured) => Promise<T>): Promise<T> {
  if (env.target === 'amqp') {
    return fn({ target: { kind: 'amqp', url: env.options.amqpUrl }, pid: pidsNamed('beam.smp')[0], broker: undefined });
  }
  const overAmqp = env.target === 'warren-amqp';
  const broker = await startWarren(env.options, undefined, overAmqp);
  try {
    const target: Target = overAmqp ? { kind: 'amqp', url: broker.amqpUrl } : { kind: 'warren', url: broker.wsUrl };
    return await fn({ target, pid: broker.pid, broker });
  } finally {
    await broker.dispose();
  }
}

export function startWarren(options: BenchOptions, dataDir?: string, amqp = false): Promise<BrokerProcess> {
  const { dataRoot, logLevel, cpuProfDir, brokerNodeArgs: nodeArgs } = options;
  return BrokerProcess.start({ dataDir, dataRoot, logLevel, cpuProfDir, nodeArgs, amqp });
}

export interface Measurement extends JobOutcome {
  /** Broker CPU, percent of one core, over the job's measured window (from its `measure` mark). */
  brokerCpuPct: number | undefined;
  brokerRssMiB: { peak: number | undefined; end: number | undefined };
  /** Bytes the broker wrote to storage during the job (0: nothing reached the disk). */
  diskWriteMiB: number | undefined;
}

/** Runs a job in the generator child against `m`, metering the broker. */
export async function measure(
  m: Measured,
  job: string,
  params: JobParams,
  onMark?: (name: string, data: unknown) => void | Promise<void>,
  timeoutMs?: number,
): Promise<Measurement> {
  const cpu = m.pid === undefined ? undefined : new CpuMeter(m.pid);
  const writesBefore = m.pid === undefined ? undefined : storageWriteBytes(m.pid);
  let brokerCpuPct: number | undefined;
  const outcome = await runJob(job, params, m.target, {
    timeoutMs,
    onMark: async (name, data) => {
      if (name === 'measure') cpu?.start();
      if (name === 'measured') brokerCpuPct = cpu?.stop();
      await onMark?.(name, data);
    },
  });
  brokerCpuPct ??= cpu?.stop();
  const writesAfter = m.pid === undefined ? undefined : storageWriteBytes(m.pid);
  return {
    ...outcome,
    brokerCpuPct,
    brokerRssMiB: {
      // RabbitMQ's VmHWM spans its whole life, not this run: only Warren's peak is per run.
      peak: m.broker ? toMiB(peakRssBytes(m.broker.pid)) : undefined,
      end: m.pid === undefined ? undefined : toMiB(rssBytes(m.pid)),
    },
    diskWriteMiB: writesBefore === undefined || writesAfter === undefined ? undefined : toMiB(writesAfter - writesBefore),
  };
}

/** The usual metrics of a line from a measurement. */
export function metricsOf(mm: Measurement, extra: JobResult = {}): Record<string, unknown> {
  const { msgsPerSec, latency, ...rest } = mm.result;
  return {
    msgsPerSec,
    latency,
    brokerRssMiB: mm.brokerRssMiB,
    cpuPct: { broker: mm.brokerCpuPct, generator: mm.generatorCpuPct },
    ...rest,
    ...extra,
  };
}
