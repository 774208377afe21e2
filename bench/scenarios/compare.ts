/**
 * Scenario 8: Warren beside RabbitMQ. When a RabbitMQ answers at the AMQP URL, scenarios 1, 2 and 5
 * run against it through amqplib with the same parameters, and each line carries Warren/RabbitMQ
 * ratios from the same invocation (Warren's figures are reused when its scenario already ran).
 */
import { amqpReachable } from '../load/amqp.js';
import type { BenchOptions, Scenario, TargetKind } from './common.js';

/** A scenario's result after folding the repeated runs: one per line key. */
export interface Folded {
  key: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
}

export type RunRepeated = (scenario: Scenario, target: TargetKind) => Promise<Folded[]>;

function ratio(a: unknown, b: unknown): number | undefined {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : undefined;
}

function pick(metrics: Record<string, unknown>): Record<string, unknown> {
  return { msgsPerSec: metrics.msgsPerSec, latency: metrics.latency, brokerRssMiB: metrics.brokerRssMiB, cpuPct: metrics.cpuPct };
}

export async function compare(
  options: BenchOptions,
  compared: readonly Scenario[],
  runRepeated: RunRepeated,
  emit: (line: Record<string, unknown>) => void,
): Promise<void> {
  if (!(await amqpReachable(options.amqpUrl))) {
    emit({ scenario: '8', name: 'compare', skipped: `no RabbitMQ reachable at ${options.amqpUrl.replace(/\/\/[^@]*@/, '//')}` });
    return;
  }
  for (const scenario of compared) {
    const warren = await runRepeated(scenario, 'warren');
    const rabbit = await runRepeated(scenario, 'amqp');
    for (const w of warren) {
      const r = rabbit.find((line) => line.key === w.key);
      if (!r) continue;
      const wl = w.metrics.latency as Record<string, number> | undefined;
      const rl = r.metrics.latency as Record<string, number> | undefined;
      emit({
        scenario: '8',
        name: 'compare',
        params: { of: scenario.id, ofName: scenario.name, ...w.params },
        warren: pick(w.metrics),
        rabbitmq: pick(r.metrics),
        ratio: {
          msgsPerSec: ratio(w.metrics.msgsPerSec, r.metrics.msgsPerSec),
          p50: ratio(wl?.p50, rl?.p50),
          p99: ratio(wl?.p99, rl?.p99),
        },
      });
    }
  }
}
