/**
 * Scenario 12: scenarios 1, 2, 3 and 5 through amqplib against both brokers in the same invocation —
 * Warren's AMQP 0-9-1 listener (a fresh broker per run, as for every Warren scenario) and the running
 * RabbitMQ — with the same job code, parameters and load patterns (bench/load/amqp.ts), so the only
 * difference between the two sides is the broker. Unlike scenario 8, Warren is not measured through
 * its own WebSocket client here. Each line carries both sides, their ratio and the targets.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/broker.js';
import { amqpReachable } from '../load/amqp.js';
import type { BenchOptions, Scenario } from './common.js';
import type { Folded, RunRepeated } from './compare.js';

export const ID = '12';
export const NAME = 'amqp';
/** The scenarios it runs, by id (`--amqp-of` narrows them). */
const OF = ['1', '2', '3', '5'];
const BROKERS = ['warren', 'rabbitmq'] as const;
type BrokerName = (typeof BROKERS)[number];

function amqplibVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/amqplib/package.json'), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

function listFlag<T extends string>(options: BenchOptions, flag: string, allowed: readonly T[]): T[] {
  const raw = options.flags[flag];
  if (raw === undefined) return [...allowed];
  const items = raw.split(',').map((s) => s.trim());
  const known = allowed.filter((a) => items.includes(a));
  if (known.length !== items.length) throw new Error(`--${flag}: expected some of ${allowed.join(',')}, got '${raw}'`);
  return known;
}

function ratio(a: unknown, b: unknown): number | undefined {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : undefined;
}

/** The figures worth comparing, whichever scenario produced them. */
function side(metrics: Record<string, unknown>): Record<string, unknown> {
  const keys = ['msgsPerSec', 'latency', 'confirmLatency', 'publishedPerSec', 'worstConsumerP99', 'sendLag', 'brokerRssMiB', 'cpuPct', 'samples', 'loadAvg', 'note'];
  return Object.fromEntries(keys.filter((k) => metrics[k] !== undefined).map((k) => [k, metrics[k]]));
}

/** A publish→deliver percentile of a line, if it has one. */
function latency(metrics: Record<string, unknown>, q: 'p50' | 'p99'): number | undefined {
  const l = metrics.latency;
  const value: unknown = typeof l === 'object' && l !== null ? Object.getOwnPropertyDescriptor(l, q)?.value : undefined;
  return typeof value === 'number' ? value : undefined;
}

/** The targets for this line, where one applies: 2× msgs/s on 1 and 2; a lower p99 at 10k msgs/s. */
function targets(of: string, key: string, warren: Folded, rabbit: Folded): Record<string, unknown> | undefined {
  if (of === '1' || of === '2') {
    const r = ratio(warren.metrics.msgsPerSec, rabbit.metrics.msgsPerSec);
    return { msgsPerSecAtLeast2x: r === undefined ? null : r >= 2 };
  }
  if (of === '5' && key === 'rate=10000') {
    const w = latency(warren.metrics, 'p99');
    const r = latency(rabbit.metrics, 'p99');
    return { lowerP99: w === undefined || r === undefined ? null : w < r };
  }
  return undefined;
}

export async function amqpSideBySide(
  options: BenchOptions,
  all: readonly Scenario[],
  runRepeated: RunRepeated,
  emit: (line: Record<string, unknown>) => void,
): Promise<void> {
  const of = listFlag(options, 'amqp-of', OF);
  const brokers = listFlag<BrokerName>(options, 'brokers', BROKERS);
  const client = `amqplib ${amqplibVersion()}`;
  const rabbitUrl = options.amqpUrl.replace(/\/\/[^@]*@/, '//');
  let rabbitSkipped: string | undefined;
  if (brokers.includes('rabbitmq') && !(await amqpReachable(options.amqpUrl))) {
    rabbitSkipped = `no RabbitMQ reachable at ${rabbitUrl}`;
    process.stderr.write(`[${ID} ${NAME}] ${rabbitSkipped}: Warren only\n`);
  }
  for (const scenario of all.filter((s) => of.includes(s.id))) {
    const warren = brokers.includes('warren') ? await runRepeated(scenario, 'warren-amqp') : undefined;
    const rabbit = brokers.includes('rabbitmq') && !rabbitSkipped ? await runRepeated(scenario, 'amqp') : undefined;
    for (const first of warren ?? rabbit ?? []) {
      const w = warren?.find((l) => l.key === first.key);
      const r = rabbit?.find((l) => l.key === first.key);
      emit({
        scenario: ID,
        name: NAME,
        params: { of: scenario.id, ofName: scenario.name, client, ...first.params },
        warren: w ? side(w.metrics) : null,
        rabbitmq: r ? side(r.metrics) : rabbitSkipped ? { skipped: rabbitSkipped } : null,
        ...(w && r
          ? {
              ratio: {
                msgsPerSec: ratio(w.metrics.msgsPerSec, r.metrics.msgsPerSec),
                p50: ratio(latency(w.metrics, 'p50'), latency(r.metrics, 'p50')),
                p99: ratio(latency(w.metrics, 'p99'), latency(r.metrics, 'p99')),
              },
              targets: targets(scenario.id, first.key, w, r),
            }
          : {}),
      });
    }
  }
}
