/**
 * The console's shell in a real browser: how it is served, signing in and out, what a user's tags show,
 * the live overview charts and the back button, a narrow window.
 */
import { get as httpGet } from 'node:http';
import { describe, expect, it } from 'vitest';
import { dataValue, hasCount, hasText, openPanel, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

describe('console shell', () => {
  it('is served with revalidating cache headers, and uPlot from node_modules', async () => {
    const index = await fetch(`${suite.warren().url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('/js/app.js');
    const app = await fetch(`${suite.warren().url}/js/app.js`);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect(app.headers.get('cache-control')).toBe('no-cache');
    const etag = app.headers.get('etag');
    expect(etag).toBeTruthy();
    // fetch() turns a conditional request into a no-cache one; a browser's revalidation is a plain GET.
    const revalidated = await new Promise<number | undefined>((resolve, reject) =>
      httpGet(`${suite.warren().url}/js/app.js`, { headers: { 'if-none-match': etag ?? '' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(revalidated).toBe(304);
    const uplot = await fetch(`${suite.warren().url}/vendor/uplot/uPlot.esm.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    expect(uplot.headers.get('cache-control')).toBe('public, max-age=86400');
    expect((await fetch(`${suite.warren().url}/vendor/uplot/uPlot.min.css`)).status).toBe(200);
    // Only the files the console uses are reachable, nothing else from node_modules.
    expect((await fetch(`${suite.warren().url}/vendor/uplot/uPlot.cjs.js`)).status).toBe(404);
    expect((await fetch(`${suite.warren().url}/vendor/uplot/../package.json`)).status).toBe(404);
  });

  it('signs in with basic credentials, keeps the session for the tab, and signs out', async () => {
    const page = await suite.blank();
    await page.goto(`${suite.warren().url}/#/queues`);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Username').fill('guest');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await hasText(page.getByRole('alert'), 'Wrong username or password.', { exact: true });

    // With the keyboard only: Enter submits.
    await page.getByLabel('Password').fill('guest');
    await page.getByLabel('Password').press('Enter');
    // Signing in lands on the page the address asked for.
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();

    // The page heading has the focus; the navigation is just before it, and Enter follows a link.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    let focused = '';
    for (let i = 0; i < 10 && focused !== 'Exchanges'; i++) {
      await page.keyboard.press('Shift+Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    }
    expect(focused).toBe('Exchanges');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Exchanges', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toContain('warren.credentials');

    // A reload keeps the session (same tab).
    await page.reload();
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('warren.credentials'))).toBeNull();
  });

  it('signs out, saying why, when the signed-in user is deleted', async () => {
    await api('PUT', '/users/e2e-temp', { password: 'temp-pw', tags: 'management' });
    await api('PUT', `/permissions/${vh('/')}/e2e-temp`, { configure: '.*', write: '.*', read: '.*' });
    const page = await open('#/queues', ['e2e-temp', 'temp-pw']);
    await api('DELETE', '/users/e2e-temp');
    await hasText(page.getByRole('alert'), 'You were signed out: Wrong username or password.');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('does not show Admin to a user without the administrator tag', async () => {
    await api('PUT', '/users/e2e-watcher', { password: 'watch-pw', tags: 'monitoring' });
    await api('PUT', `/permissions/${vh('/')}/e2e-watcher`, { configure: '', write: '', read: '.*' });
    const page = await open('#/', ['e2e-watcher', 'watch-pw']);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Queues' }).waitFor();
    await hasCount(nav.getByRole('link', { name: 'Admin' }), 0);
    await page.goto(`${suite.warren().url}/#/admin/users`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await page.getByText('This page needs the administrator tag').waitFor();
    await screenshot(page, 'not-allowed');

    // What its permissions refuse is explained where it was tried.
    await page.goto(`${suite.warren().url}/#/queues`);
    await openPanel(page, 'Add a new queue');
    const form = page.getByRole('form', { name: 'Add queue' });
    await form.getByLabel('Name').fill('not-mine');
    await form.getByRole('button', { name: 'Add queue' }).click();
    await hasText(form.getByRole('alert'), 'Access refused: your permissions in this virtual host do not allow it.', { exact: true });
  });

  it('moves the overview charts while a publisher runs, and keeps the back button working', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-load`, { durable: false });
    const conn = await suite.warren().connect();
    let running = true;
    const publisher = (async () => {
      while (running) {
        await Promise.all(Array.from({ length: 20 }, () => conn.publish({ exchange: '', routingKey: 'e2e-load', body: 'tick' })));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      const page = await open('#/');
      const rates = page.locator('figure[data-chart="rates"]');
      const publish = rates.locator('li[data-series="Publish"] .legend-value');
      await until(() => dataValue(publish), (v) => v > 10, 'a publish rate', 10_000);
      // The chart gains a point every second or so (not every five-second sample).
      const latest1 = Number(await rates.getAttribute('data-latest'));
      await page.waitForTimeout(2200);
      const latest2 = Number(await rates.getAttribute('data-latest'));
      expect(latest2 - latest1).toBeGreaterThanOrEqual(1000);
      const queued = page.locator('figure[data-chart="lengths"] li[data-series="Ready"] .legend-value');
      await until(() => dataValue(queued), (v) => v > 0, 'queued messages');
      await until(() => page.locator('dd[data-stat="queues"]').textContent(), (t) => t !== '–', 'a value');
      await screenshot(page, 'overview');

      // Range selection is part of the address; back returns to the previous range.
      await page.getByLabel('Chart range').selectOption('60');
      await until(async () => page.url(), (u) => /#\/overview\?range=60$/.test(u), 'address');
      await page.getByRole('link', { name: 'Queues' }).click();
      await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await until(() => page.getByLabel('Chart range').inputValue(), (v) => v === '60', 'value ' + '60');
      await page.goBack();
      await until(() => page.getByLabel('Chart range').inputValue(), (v) => v === '600', 'value ' + '600');
    } finally {
      running = false;
      await publisher;
    }
  });

  it('works in a narrow window', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-narrow`, { durable: true });
    await api('POST', `/exchanges/${vh('/')}/amq.default/publish`, { routing_key: 'e2e-narrow', properties: {}, payload: 'small screen', payload_encoding: 'string' });
    const page = await open(`#/queues/${vh('/')}/e2e-narrow`, ['guest', 'guest'], { width: 390, height: 844 });
    await page.getByRole('heading', { name: /Queue e2e-narrow/ }).waitFor();
    await hasText(page.locator('dd[data-stat="Ready"]'), '1', { exact: true });
    await screenshot(page, 'queue-narrow');
    // Nothing sticks out sideways: wide tables scroll inside their own box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
