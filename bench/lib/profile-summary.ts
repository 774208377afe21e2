/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time and by total
 * (inclusive) time, and self time per file / package. Also a CLI:
 *   node dist-bench/bench/lib/profile-summary.js FILE.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `src/protocol/session.ts`-like names: strip the repo prefix, keep node_modules/<pkg>/…, node:… as is. */
function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = /\/(dist|dist-bench)\/(.*)$/.exec(url);
  if (dist) return `${dist[1]}/${dist[2]}`;
  return url.replace(/^file:\/\//, '');
}

/** The package or area a frame belongs to: `ws`, `fastify`, `node:internal`, `warren:protocol`, `(gc)`. */
function areaOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith('node:')) return 'node:internals';
  const dist = /\/dist\/([^/]+)\//.exec(url);
  if (dist) return `warren:${dist[1]}`;
  return shortUrl(url);
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const where = shortUrl(frame.url);
  return where ? `${name} ${where}:${frame.lineNumber + 1}` : name;
}

export function summarizeProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const selfByLabel = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const totalByLabel = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode;
    total += us;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const own = label(node.callFrame);
    selfByLabel.set(own, (selfByLabel.get(own) ?? 0) + us);
    const area = areaOf(node.callFrame);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label((byId.get(at) as ProfileNode).callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      totalByLabel.set(l, (totalByLabel.get(l) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const table = (map: Map<string, number>, n: number): string =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
      .join('\n');
  const skip = new Set(['(root)', '(program)']);
  const inclusive = new Map([...totalByLabel].filter(([l]) => !skip.has(l.split(' ')[0] as string)));
  return [
    `wall ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}%), idle ${(idle / 1e6).toFixed(1)} s; percentages are of busy time`,
    `self time by area:\n${table(selfByArea, 15)}`,
    `top ${top} functions by self time:\n${table(selfByLabel, top)}`,
    `top ${top} functions by total (inclusive) time:\n${table(inclusive, top)}`,
  ].join('\n\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  if (files.length === 0) {
    console.error('usage: node dist-bench/bench/lib/profile-summary.js FILE.cpuprofile [--top=25]');
    process.exitCode = 2;
  }
  for (const file of files) console.log(`${file}\n${summarizeProfile(file, topArg ? Number(topArg.slice(6)) : 25)}\n`);
}
