// Allowed origins: real WebSocket upgrades carrying `Origin` headers, the guest rule for foreign pages, and
// CORS on the management API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { AllowedOrigins, parseOriginList } from '../../src/http/origin-check.js';
import { loadConfig } from '../../src/config.js';
import { withTimeout } from '../protocol/support.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, spawnBroker } from '../helpers/child-broker.js';

type Upgrade = { opened: true; socket: WebSocket } | { opened: false; status: number; body: string };

/** Opens a WebSocket with the given `Origin` (none when undefined): open, or the HTTP refusal. */
function upgrade(url: string, origin: string | undefined, protocol?: string): Promise<Upgrade> {
  return withTimeout(
    new Promise<Upgrade>((resolve, reject) => {
      const socket = new WebSocket(url, protocol ? [protocol] : [], origin === undefined ? {} : { origin });
      socket.once('open', () => resolve({ opened: true, socket }));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ opened: false, status: response.statusCode ?? 0, body }));
      });
      socket.once('error', reject);
    }),
    `upgrade of ${url}`,
  );
}

/** Sends `connect` and resolves with the first frame back (`ok` or `error`). */
function login(socket: WebSocket, username: string, password: string): Promise<Record<string, unknown>> {
  return withTimeout(
    new Promise((resolve) => {
      socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
      socket.send(JSON.stringify({ op: 'connect', id: 1, vhost: '/', username, password }));
    }),
    'connect reply',
  );
}

describe('allowed origins', () => {
  let warren: RunningWarren;
  let own: string;

  beforeAll(async () => {
    warren = await startWarren({ wsAllowedOrigins: ['http://app.test:8080', 'https://*.example.com'] });
    own = warren.url;
    await warren.server.ops.admin.putUser({ user: { name: 'test', tags: ['administrator'] }, trusted: true }, 'alice', { password: 'secret', tags: [] });
    await warren.server.ops.admin.setPermission(
      { user: { name: 'test', tags: ['administrator'] }, trusted: true },
      { user: 'alice', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    );
  });
  afterAll(() => warren.stop());

  it('lets clients without an Origin in (programs, not browsers)', async () => {
    const result = await upgrade(warren.wsUrl, undefined);
    expect(result.opened).toBe(true);
    if (result.opened) result.socket.close();
  });

  it("lets the broker's own pages in, guest included", async () => {
    const result = await upgrade(warren.wsUrl, own);
    expect(result.opened).toBe(true);
    if (!result.opened) return;
    expect(await login(result.socket, 'guest', 'guest')).toMatchObject({ op: 'ok', id: 1 });
    result.socket.close();
  });

  it('refuses a foreign origin with 403 and a reason, on /ws and /amqp', async () => {
    for (const url of [warren.wsUrl, `${warren.wsUrl}?v=1`, warren.amqpWsUrl]) {
      const result = await upgrade(url, 'http://evil.test', url.endsWith('/amqp') ? 'amqp' : undefined);
      expect(result).toMatchObject({ opened: false, status: 403 });
      if (result.opened) continue;
      expect(JSON.parse(result.body)).toEqual({ error: 'forbidden', reason: expect.stringContaining("origin 'http://evil.test' is not allowed") });
    }
  });

  it('refuses the same host on another port or scheme', async () => {
    const port = Number(new URL(own).port);
    for (const origin of [`http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, 'http://app.test:8081', 'https://app.test:8080', 'null']) {
      expect(await upgrade(warren.wsUrl, origin), origin).toMatchObject({ opened: false, status: 403 });
    }
  });

  it('admits a listed origin and wildcard subdomains, but not the bare domain', async () => {
    for (const origin of ['http://app.test:8080', 'https://www.example.com', 'https://a.b.example.com', 'HTTPS://Shop.Example.com:443']) {
      const result = await upgrade(warren.wsUrl, origin);
      expect(result.opened, origin).toBe(true);
      if (result.opened) result.socket.close();
    }
    for (const origin of ['https://example.com', 'http://www.example.com', 'https://www.example.com.evil.test', 'https://www.example.com:8443']) {
      expect(await upgrade(warren.wsUrl, origin), origin).toMatchObject({ opened: false, status: 403 });
    }
  });

  it('refuses guest from an allowed foreign origin, whatever the list says; other users get in', async () => {
    const asGuest = await upgrade(warren.wsUrl, 'http://app.test:8080');
    if (!asGuest.opened) throw new Error('upgrade refused');
    const refused = await login(asGuest.socket, 'guest', 'guest');
    expect(refused).toMatchObject({ op: 'error', id: 1, code: 403, reason: 'ACCESS_REFUSED' });
    expect(String(refused.message)).toContain("not from a page of origin 'http://app.test:8080'");

    const asAlice = await upgrade(warren.wsUrl, 'http://app.test:8080');
    if (!asAlice.opened) throw new Error('upgrade refused');
    expect(await login(asAlice.socket, 'alice', 'secret')).toMatchObject({ op: 'ok', id: 1 });
    asAlice.socket.close();
  });

  it('refuses guest on the API from a foreign page, and not from its own', async () => {
    const asGuest = (origin: string) =>
      warren.server.app.inject({
        method: 'GET',
        url: '/api/whoami',
        headers: { origin, host: new URL(own).host, authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
    const foreign = await asGuest('http://app.test:8080');
    expect(foreign.statusCode).toBe(401);
    expect(JSON.parse(foreign.body)).toEqual({ error: 'not_authorised', reason: 'User can only log in via localhost' });
    expect((await asGuest(own)).statusCode).toBe(200);
  });

  it('answers CORS preflights for listed origins only', async () => {
    const preflight = (origin: string) =>
      warren.server.app.inject({
        method: 'OPTIONS',
        url: '/api/queues',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    const refused = await preflight('http://evil.test');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    expect(refused.headers['access-control-allow-methods']).toBeUndefined();

    const actual = await warren.server.app.inject({
      method: 'GET',
      url: '/api/overview',
      headers: { origin: 'http://app.test:8080', authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` },
    });
    expect(actual.headers['access-control-allow-origin']).toBe('http://app.test:8080');
  });
});

describe('allowed origins by default', () => {
  let warren: RunningWarren;
  beforeAll(async () => {
    warren = await startWarren();
  });
  afterAll(() => warren.stop());

  it("admits only the broker's own origin and answers no CORS preflight", async () => {
    expect(await upgrade(warren.wsUrl, 'http://localhost:3000')).toMatchObject({ opened: false, status: 403 });
    const own = await upgrade(warren.wsUrl, warren.url);
    expect(own.opened).toBe(true);
    if (own.opened) own.socket.close();
    const preflight = await warren.server.app.inject({
      method: 'OPTIONS',
      url: '/api/queues',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the setting', () => {
  it('reads a comma-separated list from the flag or the environment and refuses what is no origin', () => {
    expect(loadConfig(['--ws-allowed-origins', 'https://a.test, https://*.b.test'], {}).wsAllowedOrigins).toEqual(['https://a.test', 'https://*.b.test']);
    expect(loadConfig([], { WARREN_WS_ALLOWED_ORIGINS: 'http://localhost:3000/' }).wsAllowedOrigins).toEqual(['http://localhost:3000']);
    expect(() => parseOriginList('localhost:3000')).toThrow(/not an origin/);
    expect(() => parseOriginList('https://a.test/path')).toThrow(/not an origin/);
  });

  it('matches wildcards on whole labels only', () => {
    const origins = new AllowedOrigins(['https://*.example.com']);
    expect(origins.listed('https://x.example.com')).toBe(true);
    expect(origins.listed('https://xexample.com')).toBe(false);
    expect(origins.listed('https://x.example.com.evil')).toBe(false);
    expect(new AllowedOrigins(['*']).listed('https://anything.test')).toBe(true);
  });
});

describe('the log', () => {
  it('records a refused upgrade on one line at info level, not as an error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-origin-log-'));
    const broker = await spawnBroker(dataDir);
    try {
      expect(await upgrade(broker.wsUrl, 'http://evil.test')).toMatchObject({ opened: false, status: 403 });
      const line = await withTimeout(
        (async () => {
          for (;;) {
            const found = broker.output().split('\n').find((l) => l.includes('origin not allowed'));
            if (found) return found;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })(),
        'the log line',
      );
      expect(JSON.parse(line)).toMatchObject({ level: 30, origin: 'http://evil.test', msg: 'WebSocket upgrade refused: origin not allowed' });
    } finally {
      broker.child.kill('SIGTERM');
      await exited(broker.child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
