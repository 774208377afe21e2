/**
 * `npm run bench [-- --scenario=1,latency --quick --repeat=3 …]`: runs the benchmark scenarios against
 * the built broker (dist/main.js, spawned per run) with the load generator in a child process, and
 * prints one JSON line per scenario (and per rate for scenario 5) on stdout: the median of the runs.
 * Progress goes to stderr. See docs/benchmarks.md.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/broker.js';
import { loadAverage, machine } from './lib/procfs.js';
import { summarizeProfile } from './lib/profile-summary.js';
import { median, medianOf } from './lib/stats.js';
import type { BenchOptions, Line, Scenario, TargetKind } from './scenarios/common.js';
import { amqpSideBySide, ID as AMQP_ID, NAME as AMQP_NAME } from './scenarios/amqp-clients.js';
import { compare, type Folded } from './scenarios/compare.js';
import { scenarios } from './scenarios/index.js';

const NAMES = [...scenarios, { id: '8', name: 'compare' }, { id: AMQP_ID, name: AMQP_NAME }]
  .sort((a, b) => Number(a.id) - Number(b.id))
  .map((s) => `${s.id}=${s.name}`)
  .join(' ');

const HELP = `Usage: npm run bench -- [options]

  --scenario=LIST     ids or names, comma-separated (default: all): ${NAMES}
  --quick             small sizes (e.g. 100k backlog, 1000 connections, 3 s per rate)
  --repeat=N          runs per scenario, the median is reported (default 3)
  --out=FILE          also append the JSON lines to FILE
  --cpu-prof[=DIR]    run the broker with --cpu-prof (default dir bench-results/profiles) and summarise
  --amqp-url=URL      RabbitMQ for scenarios 8 and 12 (default amqp://guest:guest@localhost:5672)
  --amqp-of=1,2,3,5   scenario 12: which scenarios to run through amqplib (default all four)
  --brokers=warren,rabbitmq   scenario 12: which brokers (default both)
  --log-level=LEVEL   broker log level (default info: the 'listening on' line is an info log)
  --data-root=DIR     where the brokers' temp data dirs go (default the OS temp dir)
  --broker-node-args="--max-semi-space-size=32"   extra node flags for the broker (A/B tests)
  --generator=split   scenarios 1 and 2 (and 8, 12 of them): publisher and consumer in two threads of
                      the generator (default); single: both on one event loop (before 2026-12-01)
  sizes: --count --size --prefetch --ack-every --window --confirm-window --queues --bindings --batch
         --rates=1000,10000 --duration=SECONDS --backlog --fill-window --connections --concurrency
         --timeout=SECONDS (scenario 9: per line, no declare is sent after it)
  ttl (scenario 10): --count --size --persistent --ttl-min=SECONDS (1) --ttl-max=SECONDS (60)
         --confirm-window (1000) --sample-ms (100: REST polling interval)
  delayed (scenario 11): --count (1000000) --size (256) --persistent --due-rate=PER_SECOND (10000)
         --lead=SECONDS (60: first due time after the first send) --confirm-window (1000)
  cluster-faults (13, only when named; needs etcd and a build with --cluster; use --repeat=1):
         --kills (20) --seed (1) --gap-min/--gap-max=MS (1000/4000) --lease-ttl=SECONDS (3)
         --rate (500 msgs/s under faults) --duration=SECONDS (20: each throughput run) --window (500)`;

function parseOptions(argv: string[]): { options: BenchOptions; selected: string[]; repeat: number; out?: string; help: boolean } {
  const { values } = parseArgs({ args: argv, strict: false, allowPositionals: true });
  const flags: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) flags[k] = v === true ? 'true' : String(v);
  const cpuProf = flags['cpu-prof'];
  const options: BenchOptions = {
    flags,
    quick: flags.quick === 'true',
    logLevel: flags['log-level'] ?? 'info',
    dataRoot: flags['data-root'],
    cpuProfDir: cpuProf === undefined ? undefined : path.resolve(cpuProf === 'true' ? path.join(ROOT, 'bench-results/profiles') : cpuProf),
    brokerNodeArgs: (flags['broker-node-args'] ?? '').split(' ').filter((a) => a !== ''),
    amqpUrl: flags['amqp-url'] ?? 'amqp://guest:guest@localhost:5672',
  };
  const selected = (flags.scenario ?? 'all').split(',').map((s) => s.trim());
  return { options, selected, repeat: Number(flags.repeat ?? 3), out: flags.out, help: flags.help === 'true' };
}

async function main(): Promise<void> {
  const { options, selected, repeat, out, help } = parseOptions(process.argv.slice(2));
  if (help) {
    console.log(HELP);
    return;
  }
  if (!existsSync(path.join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const wanted = (s: { id: string; name: string; explicitOnly?: boolean }): boolean =>
    (selected.includes('all') && !s.explicitOnly) || selected.includes(s.id) || selected.includes(s.name);
  const special = ['8', 'compare', AMQP_ID, AMQP_NAME];
  const unknown = selected.filter((s) => s !== 'all' && !special.includes(s) && !scenarios.some((x) => x.id === s || x.name === s));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}\n\n${HELP}`);
  const mach = machine();
  process.stderr.write(`machine: ${mach.cores} cores, ${mach.cpuModel}, node ${mach.nodeVersion}; load ${loadAverage()}\n`);
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });

  const emit = (line: Record<string, unknown>): void => {
    const text = JSON.stringify({ ...line, machine: mach });
    process.stdout.write(`${text}\n`);
    if (out) appendFileSync(out, `${text}\n`);
  };

  const cache = new Map<string, Folded[]>();
  const runRepeated = async (scenario: Scenario, target: TargetKind): Promise<Folded[]> => {
    const cacheKey = `${scenario.id}/${target}`;
    const cached = cache.get(cacheKey);
    if (cached) return cached;
    const params = scenario.params(options);
    const runs: Line[][] = [];
    const loads: number[] = [];
    for (let i = 1; i <= repeat; i++) {
      const via = { warren: '', 'warren-amqp': ' @warren/amqplib', amqp: ' @rabbitmq' }[target];
      process.stderr.write(`[${scenario.id} ${scenario.name}${via}] run ${i}/${repeat} …\n`);
      loads.push(loadAverage());
      const lines = await scenario.run({ options, target }, params);
      for (const line of lines) process.stderr.write(`  ${line.key}: ${JSON.stringify(line.metrics)}\n`);
      runs.push(lines);
    }
    const folded = (runs[0] ?? []).map((first): Folded => {
      const same = runs.map((lines) => lines.find((l) => l.key === first.key)).filter((l): l is Line => l !== undefined);
      const metrics = medianOf(same.map((l) => l.metrics)) as Record<string, unknown>;
      const headline = scenario.headline ?? 'msgsPerSec';
      const samples = same.map((l) => l.metrics[headline]).filter((v): v is number => typeof v === 'number');
      return {
        key: first.key,
        params: first.params,
        metrics: { ...metrics, runs: same.length, samples: { [headline]: samples }, loadAvg: median(loads) },
      };
    });
    cache.set(cacheKey, folded);
    return folded;
  };

  for (const scenario of scenarios.filter(wanted)) {
    try {
      for (const f of await runRepeated(scenario, 'warren')) {
        const { msgsPerSec, latency, brokerRssMiB, ...rest } = f.metrics;
        emit({ scenario: scenario.id, name: scenario.name, params: f.params, msgsPerSec: msgsPerSec ?? null, latency: latency ?? null, brokerRssMiB, ...rest });
      }
    } catch (error) {
      process.stderr.write(`[${scenario.id}] failed: ${(error as Error).stack ?? String(error)}\n`);
      emit({ scenario: scenario.id, name: scenario.name, error: (error as Error).message });
    }
  }
  if (wanted({ id: '8', name: 'compare' })) {
    try {
      await compare(options, scenarios.filter((s) => s.amqp), runRepeated, emit);
    } catch (error) {
      process.stderr.write(`[8] failed: ${(error as Error).stack ?? String(error)}\n`);
      emit({ scenario: '8', name: 'compare', error: (error as Error).message });
    }
  }
  if (wanted({ id: AMQP_ID, name: AMQP_NAME })) {
    try {
      await amqpSideBySide(options, scenarios, runRepeated, emit);
    } catch (error) {
      process.stderr.write(`[${AMQP_ID}] failed: ${(error as Error).stack ?? String(error)}\n`);
      emit({ scenario: AMQP_ID, name: AMQP_NAME, error: (error as Error).message });
    }
  }
  if (options.cpuProfDir) {
    for (const file of readdirSync(options.cpuProfDir).filter((f) => f.endsWith('.cpuprofile'))) {
      process.stderr.write(`\nprofile ${path.join(options.cpuProfDir, file)}\n${summarizeProfile(path.join(options.cpuProfDir, file))}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
