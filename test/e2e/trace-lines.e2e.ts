/**
 * The Trace view's reading of lines a real server cannot be made to send on demand — a line that is not
 * JSON, and events of a message whose content the server never had in memory for this trace (exchange
 * null) — with the stream served by the test itself (page.route). Everything else is tested against a
 * real Warren in trace.e2e.ts.
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
  it('skips an unreadable line with a notice, and shows a message whose content the server never had', async () => {
    const page = await suite.open('#/trace');
    await serve(page, [
      { type: 'hello', vhost: '/', filter: { queue: 'q' } },
      event(1, '1', 'published', { queues: ['q'] }),
      event(2, '1', 'routed', { queues: ['q'] }),
      { type: 'gap', missed: 17 },
      event(3, '1', 'expired', { queue: 'q' }),
      event(7, '3', 'acked', { queue: 'q', exchange: null, routing_keys: [], properties: {}, payload: '', payload_bytes: 9 }),
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
    const first = page.locator('li.traced').last();
    const steps = await until(() => first.locator('li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-event'))), (s) => s.length === 6, 'six steps');
    expect(steps).toEqual(['published', 'routed', 'expired', 'dead-lettered', 'routed', 'delivered']);
    await hasText(page.locator('.trace-state'), 'Closed by the server: vhost deleted');
    // Paged out before the trace saw it: said so, not shown as the default exchange.
    await hasText(page.locator('li.traced[data-trace-id="3"] .traced-route'), '(not known)');
    await hasText(page.locator('li.traced[data-trace-id="3"] li.step'), 'acked in queue "q"');
    await first.locator('.traced-head').click();
    await hasText(page.locator('.trace-detail .payload pre'), '<script>alert(1)</script>', { exact: true });
    await hasText(page.locator('.trace-detail'), 'truncated');
    expect(await page.locator('main script, main i').count()).toBe(0);
    await screenshot(page, 'trace-lines');
  });
});
