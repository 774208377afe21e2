// The codec is pure: it imports only its own files (Buffer and TextDecoder are globals), so it can be
// driven by a TCP socket, a WebSocket or a test alike. The server side (server/) turns frames into
// operations and back: it may use the broker, the operations layer and auth, but never a socket or HTTP.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../../src/protocol/amqp/', import.meta.url));
const SERVER = join(DIR, 'server');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('src/protocol/amqp purity', () => {
  const files = tsFiles(DIR).filter((f) => !f.startsWith(SERVER));

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

describe('src/protocol/amqp/server', () => {
  const files = tsFiles(SERVER);

  it('finds the server files', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files.map((f) => [f.slice(SERVER.length + 1), f]))('%s uses no socket, HTTP or adapter code', (_name, file) => {
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? '');
    for (const s of specifiers) {
      expect(s.startsWith('./') || s.startsWith('../'), s).toBe(true);
      expect(s, s).not.toMatch(/\/(http|store|client)\//);
    }
  });
});
