/**
 * The console's Trace view in a real browser against a real Warren: messages published by a real AMQP
 * client (amqplib) and the management API are followed live through the server's trace stream —
 * published, routed, delivered, acked; unroutable and returned; dead-lettered and expired — with the
 * filters, Stop, the server's cap, and the paused states (by the user, and when the page falls behind).
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { Locator, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { hasText, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

/** Connections opened by a test, closed after it. */
const opened: ChannelModel[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function amqpChannel(name: string): Promise<Channel> {
  const connection = await amqp.connect(suite.warren().amqpUrl, { clientProperties: { connection_name: name } });
  opened.push(connection);
  return connection.createChannel();
}

/** Publishes through the management API; returns whether it was routed. */
async function restPublish(exchange: string, routingKey: string, payload: string, headers: Record<string, unknown> = {}): Promise<boolean> {
  const answer = await api<{ routed: boolean }>('POST', `/exchanges/${vh('/')}/${exchange || 'amq.default'}/publish`, {
    routing_key: routingKey,
    properties: { headers },
    payload,
    payload_encoding: 'string',
  });
  return answer.routed;
}

/** Live trace watchers of vhost `/` in the server (the firehose is off). */
const watchers = (): number => suite.warren().server.broker.vhost('/').tracer.listenerCount;

const stat = (page: Page, name: string): Locator => page.locator(`dd[data-stat="${name}"]`);
const state = (page: Page): Locator => page.locator('.trace-state');
/** The list entry of the message whose payload preview contains `text`. */
const traced = (page: Page, text: string): Locator => page.locator('li.traced', { has: page.locator('.preview', { hasText: text }) });
/** The events of a list entry, in order. */
const stepsOf = (entry: Locator): Promise<string[]> => entry.locator('li.step').evaluateAll((items) => items.map((item) => item.getAttribute('data-event') ?? ''));

/**
 * Clicks Resume whenever the page paused itself, until `read()` (the number of messages shown, unless
 * given) reaches `count`.
 */
async function resumeUntil(page: Page, count: number, read: () => Promise<number> = async () => Number(((await stat(page, 'Messages shown').textContent()) ?? '').replace(/\D/g, ''))): Promise<void> {
  await until(
    async () => {
      const value = await read();
      if (value < count && (await state(page).getAttribute('data-state')) === 'paused') await page.getByRole('button', { name: 'Resume', exact: true }).click();
      return value;
    },
    (value) => value >= count,
    `${count} reached`,
    20_000,
  );
}

/** Opens the Trace page, fills the form and starts; resolves once the server's hello line is shown. */
async function startTrace(page: Page, fields: Record<string, string> = {}): Promise<void> {
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await hasText(page.locator('.trace-notice[data-kind="hello"]'), 'Tracing virtual host "/"');
  await hasText(state(page), 'Live');
}

describe('console trace view', () => {
  it('follows a consumed message from its publisher to its ack, and shows its details escaped', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-trace-work`, { durable: false });
    const page = await open('#/trace');
    await page.getByRole('link', { name: 'Trace' }).waitFor();
    await startTrace(page);

    const ch = await amqpChannel('e2e-trace-publisher');
    const markup = '<img src=x onerror="window.__pwned=1"> order 42';
    ch.sendToQueue('e2e-trace-work', Buffer.from(markup), { headers: { tenant: '<b>acme</b>' }, contentType: 'text/plain', messageId: 'm-42' });
    const consumer = await amqpChannel('e2e-trace-consumer');
    await consumer.consume('e2e-trace-work', (msg) => msg && consumer.ack(msg), { consumerTag: 'e2e-worker' });

    const entry = traced(page, 'order 42');
    await until(() => stepsOf(entry), (steps) => steps.join(' ') === 'published routed delivered acked', 'published → routed → delivered → acked');
    await hasText(entry.locator('.badge'), 'acked', { exact: true });
    await hasText(entry.locator('li.step[data-event="published"]'), 'user guest, amqp091');
    await hasText(entry.locator('li.step[data-event="published"]'), 'connection "e2e-trace-publisher"');
    await hasText(entry.locator('li.step[data-event="acked"]'), 'connection "e2e-trace-consumer"');
    await hasText(entry.locator('li.step[data-event="published"]'), 'the default exchange with routing key "e2e-trace-work"');
    await hasText(entry.locator('li.step[data-event="routed"]'), 'to queue "e2e-trace-work"');
    await hasText(entry.locator('li.step[data-event="delivered"]'), 'from queue "e2e-trace-work" to consumer "e2e-worker"');
    await hasText(entry.locator('li.step[data-event="acked"]'), 'in queue "e2e-trace-work" by connection');

    // Details: properties and the payload, as text. Nothing from the message became markup.
    await entry.locator('.traced-head').click();
    const detail = page.locator('.trace-detail');
    await hasText(detail.locator('.payload pre'), markup, { exact: true });
    await hasText(detail.locator('table.kv', { hasText: 'Headers' }), 'tenant<b>acme</b>');
    await hasText(detail.locator('table.kv', { hasText: 'Properties' }), 'm-42');
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await hasText(stat(page, 'Messages shown'), '1', { exact: true });
    await screenshot(page, 'trace');
  });

  it('shows a message nobody could take: unroutable, and returned to a mandatory publisher', async () => {
    await api('PUT', `/exchanges/${vh('/')}/e2e-trace-void`, { type: 'direct', durable: false });
    const page = await open('#/trace');
    await startTrace(page);
    const ch = await amqpChannel('e2e-trace-unroutable');
    ch.publish('e2e-trace-void', 'nowhere', Buffer.from('dropped on the floor'));
    ch.publish('e2e-trace-void', 'nowhere', Buffer.from('sent back'), { mandatory: true });
    // The management API's publish is mandatory, as RabbitMQ's: its caller hears "routed: false".
    expect(await restPublish('e2e-trace-void', 'nowhere', 'told over http')).toBe(false);

    const dropped = traced(page, 'dropped on the floor');
    await until(() => stepsOf(dropped), (steps) => steps.join(' ') === 'published unroutable', 'published → unroutable');
    await hasText(dropped.locator('li.step[data-event="unroutable"]'), 'no queue is bound to exchange "e2e-trace-void"');
    await hasText(dropped.locator('.badge'), 'unroutable', { exact: true });

    const returned = traced(page, 'sent back');
    await until(() => stepsOf(returned), (steps) => steps.join(' ') === 'published returned', 'published → returned');
    await hasText(returned.locator('li.step[data-event="returned"]'), 'to the publisher, connection');
    const http = traced(page, 'told over http');
    await until(() => stepsOf(http), (steps) => steps.join(' ') === 'published returned', 'the HTTP publish returned');
    await hasText(http.locator('li.step[data-event="published"]'), 'user guest, http');
  });

  it('shows only what the filter matches: routing-key glob and header', async () => {
    await api('PUT', `/exchanges/${vh('/')}/e2e-trace-orders`, { type: 'topic', durable: false });
    await api('PUT', `/queues/${vh('/')}/e2e-trace-orders-q`, { durable: false });
    await api('POST', `/bindings/${vh('/')}/e/e2e-trace-orders/q/e2e-trace-orders-q`, { routing_key: '#' });
    // From the exchange's page: the Trace view with the exchange filled in.
    const page = await open(`#/exchanges/${vh('/')}/e2e-trace-orders`);
    await page.getByRole('link', { name: 'Trace its messages' }).click();
    expect(await page.getByLabel('Exchange', { exact: true }).inputValue()).toBe('e2e-trace-orders');
    await startTrace(page, { 'Routing key (glob)': 'order.*', 'Header name': 'tenant', 'Header value': 'acme' });
    await hasText(page.locator('.trace-notice[data-kind="hello"]'), 'where exchange "e2e-trace-orders", routing key "order.*", header "tenant=acme", up to 1,000 events.');

    // Excluded first (wrong key, wrong header, wrong exchange), then the one that matches: the stream is in
    // order, so once that one is shown the others would have been too.
    await restPublish('e2e-trace-orders', 'invoice.paid', 'wrong key', { tenant: 'acme' });
    await restPublish('e2e-trace-orders', 'order.paid', 'wrong tenant', { tenant: 'globex' });
    await restPublish('', 'e2e-trace-orders-q', 'wrong exchange', { tenant: 'acme' });
    await restPublish('e2e-trace-orders', 'order.paid', 'the one', { tenant: 'acme' });
    await until(() => stepsOf(traced(page, 'the one')), (steps) => steps.join(' ') === 'published routed', 'the matching message');
    await hasText(stat(page, 'Messages shown'), '1', { exact: true });
    expect(await page.locator('li.traced').count()).toBe(1);
  });

  it('joins a dead letter to the message it came from: expired by TTL, then rejected', async () => {
    await api('PUT', `/exchanges/${vh('/')}/e2e-trace-dlx`, { type: 'fanout', durable: false });
    await api('PUT', `/queues/${vh('/')}/e2e-trace-dlq`, { durable: false });
    await api('POST', `/bindings/${vh('/')}/e/e2e-trace-dlx/q/e2e-trace-dlq`, { routing_key: '' });
    await api('PUT', `/queues/${vh('/')}/e2e-trace-ttl`, { durable: false, arguments: { 'x-message-ttl': 50, 'x-dead-letter-exchange': 'e2e-trace-dlx' } });
    await api('PUT', `/queues/${vh('/')}/e2e-trace-rejects`, { durable: false, arguments: { 'x-dead-letter-exchange': 'e2e-trace-dlx' } });
    const page = await open('#/trace');
    await startTrace(page);

    await restPublish('', 'e2e-trace-ttl', 'too late');
    const expired = traced(page, 'too late');
    await until(() => stepsOf(expired), (steps) => steps.includes('expired') && steps.includes('dead-lettered') && steps.at(-1) === 'routed', 'expired, dead-lettered and routed to the DLQ');
    await hasText(expired.locator('li.step[data-event="dead-lettered"]'), 'from queue "e2e-trace-ttl" (expired) to exchange "e2e-trace-dlx"');
    await hasText(expired.locator('li.step[data-event="routed"]').last(), 'to queue "e2e-trace-dlq"');
    expect(await page.locator('li.traced').count()).toBe(1);

    await restPublish('', 'e2e-trace-rejects', 'not wanted');
    const ch = await amqpChannel('e2e-trace-rejecter');
    const got = await until(() => ch.get('e2e-trace-rejects'), (msg) => msg !== false, 'a message to reject');
    if (got) ch.reject(got, false);
    const rejected = traced(page, 'not wanted');
    await until(() => stepsOf(rejected), (steps) => steps.join(' ') === 'published routed delivered rejected dead-lettered routed', 'rejected and dead-lettered');
    await hasText(rejected.locator('li.step[data-event="delivered"]'), 'fetched with get by connection');
    await hasText(rejected.locator('li.step[data-event="rejected"]'), 'not requeued');
    await hasText(rejected.locator('li.step[data-event="dead-lettered"]'), '(rejected)');
    // Both dead letters really are in the DLQ.
    await until(() => api<{ messages_ready: number }>('GET', `/queues/${vh('/')}/e2e-trace-dlq`), (q) => q.messages_ready === 2, 'two dead letters');
  });

  it('Stop ends the request: the server drops the watcher and nothing more arrives', async () => {
    const page = await open('#/trace');
    await startTrace(page);
    expect(watchers()).toBe(1);
    await restPublish('', 'e2e-trace-nobody', 'before stop');
    await hasText(stat(page, 'Received'), '2', { exact: true });
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await hasText(state(page), 'Stopped.', { exact: true });
    expect(await page.getByRole('button', { name: 'Stop', exact: true }).isDisabled()).toBe(true);
    await until(async () => watchers(), (n) => n === 0, 'the server to drop the watcher');
    await restPublish('', 'e2e-trace-nobody', 'after stop');
    await hasText(stat(page, 'Received'), '2', { exact: true });
    expect(await traced(page, 'after stop').count()).toBe(0);
  });

  it('shows the server cap and the end of the trace', async () => {
    const page = await open('#/trace');
    await startTrace(page, { 'Stop after (events)': '3' });
    await restPublish('', 'e2e-trace-capped', 'one');
    await restPublish('', 'e2e-trace-capped', 'two');
    await hasText(page.locator('.trace-notice[data-kind="capped"]'), 'Capped: the server stopped after 3 events.');
    await hasText(state(page), 'Capped after 3 events');
    expect(await page.locator('.trace-state').getAttribute('data-state')).toBe('ended');
    await hasText(stat(page, 'Received'), '3', { exact: true });
    expect(await page.getByRole('button', { name: 'Stop', exact: true }).isDisabled()).toBe(true);
  });

  it('says so when the server closes the trace because its vhost was deleted', async () => {
    await api('PUT', `/vhosts/e2e-trace-gone`, {});
    await api('PUT', `/permissions/e2e-trace-gone/guest`, { configure: '.*', write: '.*', read: '.*' });
    const page = await open(`#/trace?vhost=e2e-trace-gone`);
    await page.getByLabel('Virtual host').selectOption('e2e-trace-gone');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await hasText(page.locator('.trace-notice[data-kind="hello"]'), 'Tracing virtual host "e2e-trace-gone"');
    await api('DELETE', `/vhosts/e2e-trace-gone`);
    await hasText(page.locator('.trace-notice[data-kind="closed"]'), 'The server closed the trace: vhost deleted');
    await hasText(state(page), 'Closed by the server: vhost deleted', { exact: true });
  });

  it('keeps only the newest messages on screen', async () => {
    const page = await open('#/trace');
    await startTrace(page, { 'Keep on screen (messages)': '2' });
    for (const n of [1, 2, 3, 4]) await restPublish('', 'e2e-trace-kept', `kept ${n}`);
    await until(() => page.locator('li.traced .preview').allTextContents(), (texts) => texts.join('|') === 'kept 4|kept 3', 'the two newest, newest first');
    await hasText(stat(page, 'Dropped from view'), '2', { exact: true });
    await hasText(stat(page, 'Received'), '8', { exact: true });
  });

  it('pauses: the list freezes while events wait, reading stops at the limit and the server holds back, Resume tells what was missed', async () => {
    const page = await open('#/trace');
    await startTrace(page, { 'Stop reading when waiting (events)': '6' });
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await hasText(state(page), 'Paused (you paused the list): 0 events waiting.');
    expect(await state(page).getAttribute('data-state')).toBe('paused');

    await restPublish('', 'e2e-trace-paused', 'paused 1');
    await hasText(stat(page, 'Waiting'), '2', { exact: true });
    expect(await page.locator('li.traced').count()).toBe(0);
    await restPublish('', 'e2e-trace-paused', 'paused 2');
    await hasText(stat(page, 'Waiting'), '4', { exact: true });
    await restPublish('', 'e2e-trace-paused', 'paused 3');
    // The page reads no more, and the server (told so) sends nothing more: it counts.
    await hasText(state(page), 'Reading stopped: the server holds back new events');
    await restPublish('', 'e2e-trace-paused', 'paused 4');
    await screenshot(page, 'trace-paused');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await hasText(stat(page, 'Messages shown'), '3', { exact: true });
    await hasText(stat(page, 'Missed'), '2', { exact: true });
    await hasText(page.locator('.trace-notice[data-kind="gap"]'), 'Missed 2 events');
    await hasText(state(page), 'Live');
    expect(await page.locator('li.traced .preview').allTextContents()).toEqual(['paused 3', 'paused 2', 'paused 1']);
    // Live again: the next message shows.
    await restPublish('', 'e2e-trace-paused', 'paused 5');
    await hasText(stat(page, 'Messages shown'), '4', { exact: true });
  });

  it('pauses by itself when the page falls behind, and Resume reads on: every event is read or counted missed', async () => {
    const page = await open('#/trace');
    await startTrace(page, { 'Stop reading when waiting (events)': '5' });
    // A burst of publishes arrives many lines to a read: more than five wait before the next frame.
    const ch = await amqpChannel('e2e-trace-burst');
    for (let n = 1; n <= 100; n++) ch.publish('', 'e2e-trace-behind', Buffer.from(`burst ${n}`));
    await hasText(state(page), 'Paused (the browser fell behind)');
    expect(await state(page).getAttribute('data-state')).toBe('paused');
    const count = async (name: string): Promise<number> => Number(((await stat(page, name).textContent()) ?? '').replace(/\D/g, ''));
    await resumeUntil(page, 200, async () => (await count('Received')) + (await count('Missed')));
    // The last lines may have come in one burst and paused the page once more: one Resume and it is live.
    if ((await state(page).getAttribute('data-state')) === 'paused') await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await hasText(state(page), 'Live');
  });

  it('shows the server\'s gap line when a burst outruns what it buffers for the page', async () => {
    // 100 messages with a 40 KB header each; one get of all of them makes 200 lines (delivered, nacked)
    // in one go, far past the 1 MiB the server holds for a reader: it drops the rest and says how many.
    await api('PUT', `/queues/${vh('/')}/e2e-trace-burst`, { durable: false });
    const ch = await amqpChannel('e2e-trace-burst-publisher');
    const big = 'x'.repeat(40_000);
    for (let n = 1; n <= 100; n++) ch.sendToQueue('e2e-trace-burst', Buffer.from(`burst ${n}`), { headers: { big } });
    await until(() => api<{ messages_ready: number }>('GET', `/queues/${vh('/')}/e2e-trace-burst`), (q) => q.messages_ready === 100, '100 messages ready');
    const page = await open('#/trace');
    await startTrace(page, { Queue: 'e2e-trace-burst' });
    await api('POST', `/queues/${vh('/')}/e2e-trace-burst/get`, { count: 100, ackmode: 'ack_requeue_true', encoding: 'auto' });
    const gap = await hasText(page.locator('.trace-notice[data-kind="gap"]'), /Missed \d+ events/);
    const missed = Number(/Missed (\d+)/.exec(gap)?.[1]);
    expect(missed).toBeGreaterThan(0);
    await hasText(stat(page, 'Missed'), String(missed), { exact: true });
    // Every line is accounted for: read, or missed.
    await until(async () => Number(await stat(page, 'Received').textContent()) + missed, (n) => n === 200, 'received + missed = 200');
  });

  it('explains the refusal to a user who is not an administrator', async () => {
    await api('PUT', '/users/e2e-trace-monitor', { password: 'monitor', tags: 'monitoring' });
    await api('PUT', `/permissions/${vh('/')}/e2e-trace-monitor`, { configure: '.*', write: '.*', read: '.*' });
    const page = await open('#/trace', ['e2e-trace-monitor', 'monitor']);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await hasText(page.getByRole('alert'), 'Only users with the administrator tag can do this.');
    await hasText(state(page), 'Not tracing.', { exact: true });
    // Still signed in: a refusal does not end the session.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  });
});
