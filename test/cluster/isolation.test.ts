// The single-node path must not load the cluster layer: a Warren without --cluster runs with no etcd
// client in memory and nothing of src/cluster. Until --cluster is wired in (a later step), nothing
// outside src/cluster may import it or etcd3 at all; the wiring will add one allowed, lazy import.
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
      for (const match of runtimeImportsOf(readFileSync(file, 'utf8')).matchAll(SPECIFIER)) {
        if (match[1] !== undefined && importsCluster(match[1])) offenders.push(`${path}: ${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
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
