/**
 * AMQP 0-9-1 over WebSocket from a real browser: a page served from its own origin loads
 * @cloudamqp/amqp-client's browser build, connects to Warren's `/amqp`, publishes with a confirm and
 * consumes its message back; the same message is then visible to the management API.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { launchBrowser, openPage, rest } from './support.js';

const require = createRequire(import.meta.url);
const clientBundle = join(dirname(require.resolve('@cloudamqp/amqp-client')), '..', '..', 'dist', 'amqp-websocket-client.mjs');

const PAGE = `<!doctype html><meta charset="utf-8"><title>amqp over websocket</title><pre id="out">…</pre>
<script type="module">
import { AMQPWebSocketClient } from '/amqp-websocket-client.mjs';
const out = document.getElementById('out');
try {
  const url = new URLSearchParams(location.search).get('broker');
  // guest may not log in from another origin's page: a user of the app's own.
  const client = new AMQPWebSocketClient(url, '/', 'browser-app', 'browser-secret');
  const conn = await client.connect();
  const ch = await conn.channel();
  await ch.queueDeclare('browser-q', { durable: true });
  await ch.confirmSelect();
  // With confirm mode on, the publish resolves on the broker's basic.ack.
  await ch.basicPublish('', 'browser-q', 'hello from the browser', { contentType: 'text/plain', headers: { n: 7 } });
  const msg = await ch.basicGet('browser-q', { noAck: true });
  out.textContent = JSON.stringify({ body: msg.bodyToString(), contentType: msg.properties.contentType, headers: msg.properties.headers });
  await conn.close();
} catch (error) {
  out.textContent = 'error: ' + error;
}
</script>`;

let warren: RunningWarren;
let site: Server;
let browser: Browser;

beforeAll(async () => {
  // Another origin than the broker's: the page a developer would serve their app from.
  site = createServer((request, response) => {
    if (request.url?.startsWith('/amqp-websocket-client.mjs')) {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(clientBundle));
    } else response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  // The operator allows the app's origin (by default only the broker's own pages may open /amqp).
  warren = await startWarren({ wsAllowedOrigins: [`http://127.0.0.1:${(site.address() as AddressInfo).port}`] });
  await rest(warren.url, 'PUT', '/users/browser-app', { password: 'browser-secret', tags: '' });
  await rest(warren.url, 'PUT', '/permissions/%2F/browser-app', { configure: '.*', write: '.*', read: '.*' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await warren?.stop();
});

describe('AMQP over WebSocket in Chromium', () => {
  it('@cloudamqp/amqp-client connects to /amqp, publishes with a confirm and gets its message back', async () => {
    const { page, errors, close } = await openPage(browser);
    const { port } = site.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?broker=${encodeURIComponent(warren.amqpWsUrl)}`);
    await expect.poll(() => page.locator('#out').textContent(), { timeout: 10_000 }).not.toBe('…');
    const out = (await page.locator('#out').textContent()) ?? '';
    expect(out).not.toMatch(/^error/);
    expect(JSON.parse(out)).toEqual({
      body: 'hello from the browser',
      contentType: 'text/plain',
      headers: { n: 7 },
    });
    expect(errors).toEqual([]);
    await close();
  });
});
