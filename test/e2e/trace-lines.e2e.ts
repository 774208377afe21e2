/**
 * The Trace view's reading of lines a real server cannot be made to send on demand — a line that is not
 * JSON, and events of a message whose content the server never had in memory for this trace (exchange
 * null) — with the stream served by the test itself (page.route), and the page's line splitting and
 * message bookkeeping run in the browser on their own. Everything else is tested against a real Warren
 * in trace.e2e.ts.
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

  it('splits lines across chunks and inside a UTF-8 character, and caps messages and steps', async () => {
    const page = await suite.open('#/trace');
    // A string, not a function: vitest would rewrite a dynamic import() in a function's source.
    const result = (await page.evaluate(`(async () => {
      const { LineSplitter, parseLine } = await import('/js/trace-stream.js');
      const { TraceModel, STEPS_PER_MESSAGE } = await import('/js/trace-model.js');
      const bytes = new TextEncoder().encode('{"type":"gap","missed":1}\\n{"type":"closed","reason":"é"}\\n{"type":"capped","events":2}');
      // Cut inside the first line, and inside "é" (two bytes).
      const cut = bytes.indexOf(0xc3) + 1;
      const splitter = new LineSplitter();
      const lines = [...splitter.push(bytes.slice(0, 5)), ...splitter.push(bytes.slice(5, cut)), ...splitter.push(bytes.slice(cut)), ...splitter.end()];
      const event = (traceId, kind, from) => ({ type: 'event', seq: 1, at: '', event: kind, trace_id: traceId, ...(from ? { from_trace_id: from } : {}), exchange: '', routing_keys: [], properties: {}, payload_bytes: 0, payload: '', payload_encoding: 'string', connection: null, channel: null, user: null, protocol: null });
      const model = new TraceModel(2);
      model.apply([event('a', 'published'), event('b', 'published'), event('b2', 'routed', 'b')]);
      const dropped = model.apply([event('c', 'published')]).dropped.map((m) => m.id);
      const looping = new TraceModel(5);
      looping.apply(Array.from({ length: STEPS_PER_MESSAGE + 7 }, () => event('r', 'delivered')));
      const loop = looping.messages.get('r');
      return {
        lines: lines.map((l) => parseLine(l)),
        kept: [...model.messages.keys()],
        dropped,
        joined: [...model.messages.get('b').ids],
        steps: loop.steps.length,
        more: loop.more,
        bad: [parseLine('[1]').type, parseLine('{"type":"event"}').type, parseLine('{"type":"nope"}').type],
      };
    })()`)) as { lines: unknown[]; kept: string[]; dropped: string[]; joined: string[]; steps: number; more: number; bad: string[] };
    expect(result.lines).toEqual([
      { type: 'gap', missed: 1 },
      { type: 'closed', reason: 'é' },
      { type: 'capped', events: 2 },
    ]);
    expect(result.kept).toEqual(['b', 'c']);
    expect(result.dropped).toEqual(['a']);
    expect(result.joined).toEqual(['b', 'b2']);
    expect(result.steps).toBe(50);
    expect(result.more).toBe(7);
    expect(result.bad).toEqual(['unreadable', 'unreadable', 'unreadable']);
  });
});
