/**
 * The Trace view's reading of every line the stream can carry, with the stream served by the browser
 * test itself (page.route): gap, closed and unreadable lines cannot be caused on demand by a real server.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasText, screenshot, until, useConsole } from './support.js';

const suite = useConsole();

function event(seq: number, traceId: string, kind: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'event', seq, at: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(), event: kind, trace_id: traceId,
    exchange: 'x', routing_keys: ['k'], properties: { headers: { h: '<i>v</i>' } }, payload_bytes: 600,
    payload: '<script>alert(1)</script>', payload_encoding: 'string', connection: 'c1', channel: 1, user: 'guest', protocol: 'amqp091', ...extra,
  };
}

async function serve(page: Page, lines: unknown[]): Promise<void> {
  await page.route('**/api/trace/**', (route) =>
    route.fulfill({ status: 200, contentType: 'application/x-ndjson', body: lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n' }),
  );
}

describe('trace view lines', () => {
  it('groups a dead letter with its original and shows gap, closed and unreadable lines', async () => {
    const page = await suite.open('#/trace');
    await serve(page, [
      { type: 'hello', vhost: '/', filter: { queue: 'q' } },
      event(1, '1', 'published', { queues: ['q'] }),
      event(2, '1', 'routed', { queues: ['q'] }),
      { type: 'gap', missed: 17 },
      event(3, '1', 'expired', { queue: 'q' }),
      event(4, '1', 'dead-lettered', { queue: 'q', reason: 'expired', dead_letter_exchange: 'dlx' }),
      event(5, '2', 'routed', { from_trace_id: '1', queues: ['dlq'] }),
      event(6, '2', 'delivered', { queue: 'dlq', consumer_tag: 'ct', redelivered: false, delivery_count: 1 }),
      'not json',
      { type: 'closed', reason: 'vhost deleted' },
    ]);
    await page.getByRole('button', { name: 'Start' }).click();
    await hasText(page.locator('.trace-notice[data-kind="gap"]'), 'Missed 17 events');
    await hasText(page.locator('.trace-notice[data-kind="closed"]'), 'vhost deleted');
    await hasText(page.locator('.trace-notice[data-kind="unreadable"]'), 'not json');
    await hasText(page.locator('.trace-notice[data-kind="hello"]'), 'where queue "q"');
    await hasText(page.locator('dd[data-stat="Missed"]'), '17', { exact: true });
    const steps = await until(() => page.locator('li.traced li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-event'))), (s) => s.length === 6, 'six steps');
    expect(steps).toEqual(['published', 'routed', 'expired', 'dead-lettered', 'routed', 'delivered']);
    await hasText(page.locator('.trace-state'), 'Closed by the server: vhost deleted');
    await page.locator('.traced-head').click();
    await hasText(page.locator('.trace-detail .payload pre'), '<script>alert(1)</script>', { exact: true });
    await hasText(page.locator('.trace-detail'), 'truncated');
    expect(await page.locator('main script, main i').count()).toBe(0);
    await screenshot(page, 'trace-lines');
  });
});
