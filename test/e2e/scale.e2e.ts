/**
 * The queue list with 10,000 queues: the console asks the server for one page at a time, so paging,
 * sorting and filtering stay quick.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { hasCount, hasText, launchBrowser, openPage, screenshot, signIn, until, type ConsolePage } from './support.js';

const QUEUES = 10_000;
let warren: RunningWarren;
let browser: Browser;
let current: ConsolePage | undefined;

beforeAll(async () => {
  [warren, browser] = await Promise.all([startWarren(), launchBrowser()]);
  const conn = await warren.connect();
  for (let start = 0; start < QUEUES; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, QUEUES - start) }, (_, i) => conn.queueDeclare({ queue: `q-${String(start + i).padStart(5, '0')}`, durable: false })),
    );
  }
  // A little backlog on one queue, to sort by.
  await Promise.all(Array.from({ length: 7 }, () => conn.publish({ exchange: '', routingKey: 'q-04321', body: 'x' })));
}, 120_000);

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

it('pages, sorts and filters 10,000 queues through the server', async () => {
  current = await openPage(browser);
  const page = current.page;
  await signIn(page, warren.url, 'guest', 'guest', '#/queues');
  const summary = page.locator('.pager-summary');
  await hasText(summary, '1–50 of 10,000 queues');
  await hasCount(page.locator('tbody tr'), 50);
  await hasText(page.locator('tbody tr').first(), 'q-00000');
  await screenshot(page, 'queues-10k', { fullPage: false });

  // Every list request asks for one page only.
  const requests: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/queues')) requests.push(request.url());
  });

  let started = Date.now();
  await page.getByRole('button', { name: 'Last page' }).click();
  await hasText(summary, '9,951–10,000 of 10,000 queues');
  await hasText(page.locator('tbody tr').last(), 'q-09999');
  const lastPageMs = Date.now() - started;
  expect(page.url()).toContain('page=200');

  // Back returns to the first page.
  await page.goBack();
  await hasText(summary, '1–50 of 10,000 queues');

  // Sort by total messages, largest first (click twice).
  await page.getByRole('button', { name: 'Total', exact: true }).click();
  await page.getByRole('button', { name: 'Total', exact: true }).click();
  await hasText(page.locator('tbody tr').first(), 'q-04321');
  expect(page.url()).toContain('desc=1');

  started = Date.now();
  await page.getByRole('searchbox', { name: 'Filter queues' }).fill('q-0999');
  await hasText(summary, '1–10 of 10 queues matching, of 10,000 in all');
  const filterMs = Date.now() - started;

  await page.getByRole('searchbox', { name: 'Filter queues' }).fill('^q-0000[1-3]$');
  await page.getByLabel('Regular expression').check();
  await hasText(summary, '1–3 of 3 queues matching');
  await hasCount(page.locator('tbody tr'), 3);

  // A broken regular expression is explained next to the filter.
  await page.getByRole('searchbox', { name: 'Filter queues' }).fill('q-(');
  await hasText(page.locator('.paged-list > .status.error'), 'regular expression');

  expect(requests.length).toBeGreaterThan(0);
  for (const url of requests) expect(new URL(url).searchParams.get('page_size')).toBe('50');
  // Generous bounds for a loaded CI machine; locally each is ~100 ms.
  expect(lastPageMs).toBeLessThan(3000);
  expect(filterMs).toBeLessThan(3000);
  await until(async () => page.url(), (u) => u.includes('regex=1'), 'regex in the address');
});
