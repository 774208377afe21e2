// The single-node path must not load the cluster layer: a Warren without --cluster runs with no etcd
// client in memory and nothing of src/cluster. Outside src/cluster, only types may be imported from it
// (erased at build), and main.ts loads it with one lazy import when --cluster is given.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile() && path.endsWith('.ts')) out.push(path);
  }
  return out;
}

const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"`]([^'"`]+)['"`]/g;
/** The one way in: main.ts, with --cluster. */
const ALLOWED_LAZY = new Set(["main.ts: ./cluster/cluster-node.js"]);

/**
 * `import type` statements are erased when compiled (verbatimModuleSyntax guarantees it): src/http may
 * name the cluster's types (a tunnel's target, the cluster status) without loading the cluster layer.
 */
const TYPE_ONLY_IMPORT = /^\s*(?:import|export)\s+type\s[^;]*?from\s*['"`][^'"`]+['"`]\s*;?/gm;

function runtimeImportsOf(source: string): string {
  return source.replace(TYPE_ONLY_IMPORT, '');
}

function importsCluster(specifier: string): boolean {
  return specifier === 'etcd3' || specifier.startsWith('etcd3/') || /(^|\/)cluster\//.test(specifier);
}

describe('the cluster layer is not imported by the single-node path', () => {
  it('no file outside src/cluster imports src/cluster or etcd3', () => {
    const offenders: string[] = [];
    for (const file of filesUnder(SRC)) {
      const path = relative(SRC, file);
      if (path.startsWith('cluster/')) continue;
      const source = readFileSync(file, 'utf8');
      for (const match of runtimeImportsOf(source).matchAll(SPECIFIER)) {
        if (match[1] === undefined || !importsCluster(match[1])) continue;
        const at = `${path}: ${match[1]}`;
        if (ALLOWED_LAZY.has(at) && new RegExp(`await import\\(\\s*['"\`]${match[1].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`).test(source)) continue;
        offenders.push(at);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the detector lets type-only imports through and nothing else', () => {
    const sample = "import type { ClusterStatus } from '../cluster/cluster-status.js';\nimport { Coordinator } from './cluster/coordinator.js';";
    const left = runtimeImportsOf(sample);
    expect([...left.matchAll(SPECIFIER)].map((m) => m[1] ?? '').filter(importsCluster)).toEqual(['./cluster/coordinator.js']);
  });

  it('the detector sees the imports it must', () => {
    const sample = "import { Coordinator } from './cluster/coordinator.js';\nconst m = await import('../cluster/index.js');\nimport { Etcd3 } from 'etcd3';";
    expect([...sample.matchAll(SPECIFIER)].map((m) => m[1] ?? '').filter(importsCluster)).toEqual(['./cluster/coordinator.js', '../cluster/index.js', 'etcd3']);
  });

  it('type-only imports are not counted; a value import next to them is', () => {
    const sample = "import type { TunnelTarget } from '../cluster/cluster-port.js';\nimport type {\n  ClusterStatus,\n} from '../../cluster/cluster-status.js';\nimport { ClusterPortListener } from '../cluster/cluster-port.js';";
    const found = [...runtimeImportsOf(sample).matchAll(SPECIFIER)].map((m) => m[1] ?? '').filter(importsCluster);
    expect(found).toEqual(['../cluster/cluster-port.js']);
  });
});
