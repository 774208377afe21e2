/**
 * Allowed origins in a real browser: a page served from another port (another origin, as any web site the
 * developer visits would be) tries to open the broker's `/ws` and log in as guest, and is refused at the
 * upgrade; the broker's own page (the console's origin) opens it. Then the console's "Sign in with token".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { launchBrowser, openPage } from './support.js';

/** Opens the broker's /ws, tries `connect` as guest, and writes what happened into #out. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>foreign page</title><pre id="out">…</pre>
<script type="module">
const out = document.getElementById('out');
const url = new URLSearchParams(location.search).get('broker');
const ws = new WebSocket(url);
let opened = false;
ws.onopen = () => { opened = true; ws.send(JSON.stringify({ op: 'connect', id: 1, username: 'guest', password: 'guest' })); };
ws.onmessage = (event) => { out.textContent = 'reply: ' + event.data; ws.close(); };
ws.onclose = (event) => { if (!opened) out.textContent = 'refused: ' + event.code; };
</script>`;

const HS256_KEY = 'e2e-development-key';

let warren: RunningWarren;
let site: Server;
let browser: Browser;

beforeAll(async () => {
  warren = await startWarren({ oauth2Hs256Key: HS256_KEY });
  site = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await warren?.stop();
});

describe('origins in Chromium', () => {
  it("refuses the broker's /ws to a page from another origin", async () => {
    const { page, close } = await openPage(browser);
    const { port } = site.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/?broker=${encodeURIComponent(warren.wsUrl)}`);
    await expect.poll(() => page.locator('#out').textContent(), { timeout: 10_000 }).not.toBe('…');
    // The browser sees a failed handshake (1006); the broker answered the upgrade with 403.
    expect(await page.locator('#out').textContent()).toBe('refused: 1006');
    const connections = await fetch(`${warren.url}/api/connections`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    expect(await connections.json()).toEqual([]);
    await close();
  });

  it("lets the broker's own page open /ws and log in as guest", async () => {
    const { page, close } = await openPage(browser);
    await page.goto(`${warren.url}/`);
    const reply = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => ws.send(JSON.stringify({ op: 'connect', id: 1, username: 'guest', password: 'guest' }));
          ws.onmessage = (event) => {
            resolve(String(event.data));
            ws.close();
          };
          ws.onclose = (event) => resolve(`closed: ${event.code}`);
        }),
      warren.wsUrl,
    );
    expect(JSON.parse(reply)).toMatchObject({ op: 'ok', id: 1 });
    await close();
  });
});

describe('console: sign in with token', () => {
  it('signs in with a pasted access token and shows its user', async () => {
    const { page, errors, close } = await openPage(browser);
    const token = await new SignJWT({ sub: 'token-admin', aud: 'warren', scope: 'warren.tag:administrator warren.read:*/*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(HS256_KEY));
    await page.goto(`${warren.url}/#/`);
    await page.getByText('Use an access token instead').click();
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await page.locator('header').textContent()).toContain('token-admin');
    expect(errors).toEqual([]);
    await close();
  });

  it('says why a token is refused', async () => {
    const { page, close } = await openPage(browser);
    const expired = await new SignJWT({ sub: 'late', aud: 'warren', scope: 'warren.tag:management' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(new TextEncoder().encode(HS256_KEY));
    await page.goto(`${warren.url}/#/`);
    await page.getByText('Use an access token instead').click();
    await page.getByLabel('Access token').fill(expired);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await expect.poll(() => page.locator('form.token [role=alert], form.token .status').first().textContent(), { timeout: 10_000 }).toMatch(/expired/);
    await close();
  });
});
