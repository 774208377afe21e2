// The codec is pure: it imports only its own files (Buffer and TextDecoder are globals), so it can be
// driven by a TCP socket, a WebSocket or a test alike.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../../src/protocol/amqp/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('src/protocol/amqp purity', () => {
  const files = tsFiles(DIR);

  it('finds the codec files', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files.map((f) => [f.slice(DIR.length), f]))('%s imports only files of the codec', (_name, file) => {
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? '');
    for (const s of specifiers) {
      expect(s.startsWith('./') || s.startsWith('../'), s).toBe(true);
      const depth = file.slice(DIR.length).split('/').length - 1;
      expect(s.split('/').filter((p) => p === '..').length, s).toBeLessThanOrEqual(depth);
    }
  });
});
