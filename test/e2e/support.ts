/**
 * Browser-test support: Debian's Chromium through playwright-core, a page per test with its errors
 * collected, sign-in, REST calls as a given user, and light + dark screenshots.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { WarrenServerOptions } from '../../src/http/server.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

export const CHROMIUM = process.env.WARREN_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export interface ConsolePage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Uncaught exceptions and console errors (CSP violations included), failed loads excepted. */
  readonly errors: string[];
  close(): Promise<void>;
}

export async function openPage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 4xx answer the console handles (a wrong password, a 404 it reports) is logged by Chromium as a failed load.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`);
  });
  return { page, context, errors, close: () => context.close() };
}

/** Opens the console at `hash` and signs in. */
export async function signIn(page: Page, baseUrl: string, username = 'guest', password = 'guest', hash = '#/'): Promise<void> {
  await page.goto(`${baseUrl}/${hash}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A REST call to Warren's management API; throws on a non-2xx answer. */
export async function rest<T = unknown>(baseUrl: string, method: string, path: string, body?: unknown, auth: [string, string] = ['guest', 'guest']): Promise<T> {
  const response = await fetch(`${baseUrl}/api${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Form controls without a `<label>` (none should have one missing). */
export function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea'))
      .filter((el) => el.type !== 'hidden' && (el.labels?.length ?? 0) === 0)
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Saves `<name>-light.png` and `<name>-dark.png`, after checking every control on the page has a label. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const missing = await unlabelled(page);
  if (missing.length > 0) throw new Error(`controls without a <label> on ${name}: ${missing.join(' | ')}`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const fullPage = options.fullPage ?? true;
  // The header is sticky: from the top it is drawn once, where it belongs.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-light.png`), fullPage });
  await page.emulateMedia({ colorScheme: 'dark' });
  // uPlot redraws with the dark palette on the media change.
  await page.waitForTimeout(250);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-dark.png`), fullPage });
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Polls until `check` returns true (for server-side state). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const vh = encodeURIComponent;

/** Reads until `ok` holds; the error names what was awaited and the last value seen. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const textOf = async (locator: Locator): Promise<string> => ((await locator.textContent({ timeout: 1000 })) ?? '').replace(/\s+/g, ' ').trim();

/** Waits until the element's text contains `expected` (or equals it, with `exact`). */
export async function hasText(locator: Locator, expected: string | RegExp, options: { exact?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const matches = (text: string): boolean =>
    typeof expected === 'string' ? (options.exact ? text === expected : text.includes(expected)) : expected.test(text);
  return until(() => textOf(locator), matches, `text ${String(expected)}`, options.timeoutMs);
}

export async function hasCount(locator: Locator, count: number): Promise<void> {
  await until(() => locator.count(), (n) => n === count, `${count} elements`);
}

/** A number kept in a `data-value` attribute (chart legends). */
export async function dataValue(locator: Locator): Promise<number> {
  return Number((await locator.getAttribute('data-value', { timeout: 1000 })) || 0);
}

/** The table row of an item, by the parts of its key (vhost and name, say). */
export const row = (page: Page, ...parts: string[]): Locator => page.locator(`tr[data-key='${JSON.stringify(parts)}']`);

/** Opens a collapsible panel by its title. */
export const openPanel = (page: Page, title: string): Promise<void> => page.locator('details.panel > summary', { hasText: title }).click();

export interface ConsoleSuite {
  readonly warren: () => RunningWarren;
  /** A fresh browser context signed in at `hash`; its page errors fail the test. */
  open(hash?: string, user?: [string, string], size?: { width: number; height: number }): Promise<Page>;
  /** A page that is not signed in yet. */
  blank(): Promise<Page>;
  /** REST as guest (or `auth`). */
  api<T = unknown>(method: string, path: string, body?: unknown, auth?: [string, string]): Promise<T>;
}

/**
 * One Warren and one Chromium for the file; one browser context per test, closed after it, with any
 * uncaught error or console error in the page failing the test. `serverOptions` reach createWarrenServer
 * (a faked cluster status, for instance).
 */
export function useConsole(serverOptions: WarrenServerOptions = {}): ConsoleSuite {
  let warren: RunningWarren | undefined;
  let browser: Browser | undefined;
  let current: ConsolePage | undefined;
  beforeAll(async () => {
    [warren, browser] = await Promise.all([startWarren({}, serverOptions), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await warren?.stop();
  });
  afterEach(async () => {
    const errors = current?.errors ?? [];
    await current?.close();
    current = undefined;
    expect(errors, 'errors in the page').toEqual([]);
  });
  const running = (): RunningWarren => {
    if (!warren) throw new Error('Warren is not started');
    return warren;
  };
  const blank = async (size?: { width: number; height: number }): Promise<Page> => {
    if (!browser) throw new Error('the browser is not started');
    current = await openPage(browser, size);
    return current.page;
  };
  return {
    warren: running,
    blank: () => blank(),
    async open(hash = '#/', user = ['guest', 'guest'], size) {
      const page = await blank(size);
      await signIn(page, running().url, user[0], user[1], hash);
      return page;
    },
    api: (method, path, body, auth) => rest(running().url, method, path, body, auth),
  };
}
