// The built broker started as `npm start` would, with TLS from WARREN_TLS_* variables.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki } from './pki.js';
import { httpsRequest } from './support.js';

const mainJs = new URL('../../../dist/main.js', import.meta.url).pathname;

function run(env: Record<string, string>, dataDir: string) {
  const child = spawn(process.execPath, [mainJs], {
    env: { ...process.env, WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_AMQPS_PORT: '0', WARREN_PROMETHEUS_PORT: '0', WARREN_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output, errors: () => errors };
}

describe('warren process with TLS', () => {
  let pki: TestPki;
  let dataDir: string;

  beforeAll(() => {
    pki = new TestPki();
    dataDir = mkdtempSync(join(tmpdir(), 'warren-main-tls-'));
  });

  afterAll(() => {
    pki?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs https:// and amqps:// listeners and serves both', async () => {
    const server = pki.issue('localhost', { server: true });
    const broker = run({ WARREN_TLS_CERT: server.certFile, WARREN_TLS_KEY: server.keyFile, WARREN_TLS_CA: pki.ca.certFile }, dataDir);
    try {
      await expect.poll(() => broker.output(), { timeout: 20_000, interval: 50 }).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
      const url = /listening on (https:\/\/[^"\s]+)/.exec(broker.output())?.[1] ?? '';
      const amqpsPort = /AMQP 0-9-1 over TLS listening on amqps:\/\/127\.0\.0\.1:(\d+)/.exec(broker.output())?.[1];
      expect(amqpsPort).toBeDefined();
      expect((await httpsRequest(`${url}/api/overview`, { ca: pki.ca.cert })).status).toBe(200);
      const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${amqpsPort}`, { ca: [pki.ca.cert] });
      await connection.close();
    } finally {
      broker.child.kill('SIGTERM');
      await broker.exited;
    }
  });

  it('fails to start with one line naming the file it cannot read, and no stack', async () => {
    const broker = run({ WARREN_TLS_CERT: join(pki.dir, 'absent.pem'), WARREN_TLS_KEY: join(pki.dir, 'absent.key') }, dataDir);
    expect(await broker.exited).toBe(1);
    expect(broker.errors().trim()).toMatch(/^warren: failed to start: --tls-cert: cannot read '.*absent\.pem': ENOENT[^\n]*$/);
  });

  it('refuses a certificate without its key as a configuration error (exit 2, with the usage)', async () => {
    const broker = run({ WARREN_TLS_CERT: pki.ca.certFile }, dataDir);
    expect(await broker.exited).toBe(2);
    expect(broker.errors()).toMatch(/^warren: --tls-cert and --tls-key go together: --tls-cert is set without the other\n\nUsage:/);
  });
});
