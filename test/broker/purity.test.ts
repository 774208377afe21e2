import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * src/broker is the pure domain: no HTTP, WebSocket, validation library, file system, network or
 * processes. Everything with I/O lives in src/protocol, src/http, src/store.
 */
const BROKER_DIR = fileURLToPath(new URL('../../src/broker/', import.meta.url));

const FORBIDDEN_ROOTS = new Set(['fastify', 'ws', 'ajv', 'fs', 'net', 'http', 'https', 'child_process']);

/** Whether a module specifier names something the domain must not use. */
function isForbidden(specifier: string): boolean {
  if (specifier.startsWith('@fastify/')) return true;
  const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  const root = bare.split('/')[0] ?? '';
  return FORBIDDEN_ROOTS.has(root);
}

const SPECIFIER_PATTERNS: readonly RegExp[] = [
  /\bfrom\s*['"]([^'"]+)['"]/g, // import … from '…', export … from '…'
  /\bimport\s*['"]([^'"]+)['"]/g, // import '…'
  /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, // import('…')
  /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g, // require('…'), import x = require('…')
];

/** Every module specifier a source file refers to. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of source.matchAll(pattern)) if (match[1] !== undefined) found.push(match[1]);
  }
  return found;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

describe('the import detector', () => {
  it.each([
    "import Fastify from 'fastify';",
    "import { WebSocket } from 'ws';",
    "import type { WebSocketServer } from \"ws\";",
    "import Ajv from 'ajv';",
    "import addFormats from 'ajv/dist/2020.js';",
    "import websocket from '@fastify/websocket';",
    "import { readFileSync } from 'node:fs';",
    "import { readFile } from 'fs/promises';",
    "import * as fs from 'node:fs/promises';",
    "import net from 'net';",
    "import { createServer } from 'node:http';",
    "import https from 'https';",
    "import { spawn } from 'node:child_process';",
    "import { exec } from 'child_process';",
    "export { createServer } from 'node:net';",
    "export * from 'http';",
    "import 'node:https';",
    "const fs = await import('node:fs');",
    "const cp = require('child_process');",
    'import {\n  readFileSync,\n  writeFileSync,\n} from "fs";',
  ])('flags %j', (source) => {
    expect(specifiersOf(source).some(isForbidden)).toBe(true);
  });

  it.each([
    "import { Queue } from './queue.js';",
    "import type { Channel } from './channel.js';",
    "import { randomUUID } from 'node:crypto';",
    "import { EventEmitter } from 'node:events';",
    "import { fsync } from './fs-helpers.js';",
    "import { wsx } from 'wsx';",
    "import { http2 } from 'node:http2';",
    "const text = 'fs is only mentioned in a string';",
  ])('allows %j', (source) => {
    expect(specifiersOf(source).some(isForbidden)).toBe(false);
  });
});

/** Whether a relative specifier in `file` points outside src/broker (the domain imports nothing of the layers above it). */
function leavesBroker(file: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = join(dirname(file), specifier);
  return relative(BROKER_DIR, target).startsWith('..');
}

describe('the relative-import detector', () => {
  const file = join(BROKER_DIR, 'exchange-types', 'topic-exchange.ts');
  it.each(['../../store/message-store.js', '../../auth/user-store.js', '../../../package.json', '../../protocol/frames.js'])('flags %j', (specifier) => {
    expect(leavesBroker(file, specifier)).toBe(true);
  });
  it.each(['../binding.js', './exchange-type.js', '../exchange-types/registry.js', 'node:crypto'])('allows %j', (specifier) => {
    expect(leavesBroker(file, specifier)).toBe(false);
  });
});

describe('src/broker purity', () => {
  const files = filesUnder(BROKER_DIR);
  const sources = files.filter((f) => /\.(?:[cm]?[jt]s|tsx|jsx)$/.test(f));

  it('finds the domain sources', () => {
    const names = sources.map((f) => relative(BROKER_DIR, f).split('\\').join('/'));
    expect(names).toEqual(expect.arrayContaining(['broker.ts', 'vhost.ts', 'queue.ts', 'channel.ts', 'exchange-types/registry.ts']));
    const total = sources.reduce((n, f) => n + specifiersOf(readFileSync(f, 'utf8')).length, 0);
    expect(total).toBeGreaterThan(0); // the scan does see imports
  });

  it('imports no fastify, ws, ajv, @fastify/*, fs, net, http, https or child_process', () => {
    const offending: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const specifier of specifiersOf(source)) {
        if (isForbidden(specifier)) offending.push(`${relative(BROKER_DIR, file)}: '${specifier}'`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('imports nothing from outside src/broker by relative path', () => {
    const offending: string[] = [];
    for (const file of sources) {
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        if (leavesBroker(file, specifier)) offending.push(`${relative(BROKER_DIR, file)}: '${specifier}'`);
      }
    }
    expect(offending).toEqual([]);
  });
});
