/**
 * Dead-letter tooling in a real browser against a real Warren: a message dead-lettered by a rejecting
 * get is found in its DLQ with a filtered preview, retried back to the queue it died in, and the rest
 * moved to another queue; refusals from the server are shown where the action was asked for.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasText, openPanel, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

interface QueueInfo {
  messages_ready: number;
}

interface Peeked {
  routing_key: string;
  payload: string;
  properties: { headers?: Record<string, unknown> };
}

const ready = (queue: string): Promise<number> => api<QueueInfo>('GET', `/queues/${vh('/')}/${queue}`).then((q) => q.messages_ready);
const peek = (queue: string): Promise<Peeked[]> => api<Peeked[]>('POST', `/queues/${vh('/')}/${queue}/peek`, { count: 100 });

/** Publishes to `exchange` with a routing key and text payload; returns whether it was routed. */
async function publish(exchange: string, routingKey: string, payload: string, headers: Record<string, unknown> = {}): Promise<void> {
  const answer = await api<{ routed: boolean }>('POST', `/exchanges/${vh('/')}/${exchange}/publish`, {
    routing_key: routingKey,
    properties: { delivery_mode: 2, headers },
    payload,
    payload_encoding: 'string',
  });
  expect(answer.routed).toBe(true);
}

/** Confirms the dialog that an action opened, by its confirm button. */
async function confirm(page: Page, button: string): Promise<string> {
  const dialog = page.getByRole('dialog');
  const text = await hasText(dialog, button);
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'detached' });
  return text;
}

describe('dead-letter tooling', () => {
  it('previews a DLQ with a filter, retries one dead letter back to its origin and moves the rest', async () => {
    // orders (direct) → work, which dead-letters into dlx (fanout) → dlq.
    await api('PUT', `/exchanges/${vh('/')}/e2e-orders`, { type: 'direct', durable: true });
    await api('PUT', `/exchanges/${vh('/')}/e2e-dlx`, { type: 'fanout', durable: true });
    await api('PUT', `/queues/${vh('/')}/e2e-work`, { durable: true, arguments: { 'x-dead-letter-exchange': 'e2e-dlx' } });
    await api('PUT', `/queues/${vh('/')}/e2e-dlq`, { durable: true });
    await api('PUT', `/queues/${vh('/')}/e2e-parking`, { durable: true });
    await api('POST', `/bindings/${vh('/')}/e/e2e-orders/q/e2e-work`, { routing_key: 'order.paid' });
    await api('POST', `/bindings/${vh('/')}/e/e2e-orders/q/e2e-work`, { routing_key: 'order.refunded' });
    await api('POST', `/bindings/${vh('/')}/e/e2e-dlx/q/e2e-dlq`, { routing_key: '' });
    await publish('e2e-orders', 'order.paid', '{"order": 1, "state": "paid"}', { tenant: 'acme' });
    await publish('e2e-orders', 'order.refunded', '{"order": 2, "state": "refunded"}', { tenant: 'acme' });
    // A consumer that fails: both are rejected without requeue, so both die into the DLQ.
    await api('POST', `/queues/${vh('/')}/e2e-work/get`, { count: 2, ackmode: 'reject_requeue_false', encoding: 'auto' });
    await until(() => ready('e2e-dlq'), (n) => n === 2, 'both messages in the DLQ');
    expect(await ready('e2e-work')).toBe(0);
    // And one message that never died, which a retry must leave alone.
    await publish('', 'e2e-dlq', 'not a dead letter');

    const page = await open(`#/queues/${vh('/')}/e2e-dlq`);
    await page.getByRole('heading', { name: /Queue e2e-dlq/ }).waitFor();
    await openPanel(page, 'Retry dead letters');
    const retry = page.getByRole('form', { name: 'Retry dead letters' });

    // Preview without a filter: three shown, two of them dead letters from e2e-orders.
    await retry.getByRole('button', { name: 'Preview' }).click();
    await hasText(retry.locator('.preview-summary'), '3 messages shown');
    await hasText(retry.locator('.preview-summary'), 'Dead letters: 2, going back to exchange "e2e-orders". Not dead letters, to be skipped: 1.');

    // Preview with a filter (routing-key glob, header, first death reason): only the paid order.
    await retry.getByLabel('Routing key (glob)').fill('order.p*');
    await retry.getByLabel('Header name').fill('tenant');
    await retry.getByLabel('Header value', { exact: true }).fill('acme');
    await retry.getByLabel('First death reason').selectOption('rejected');
    await retry.getByRole('button', { name: 'Preview' }).click();
    await hasText(retry.locator('.preview-summary'), '1 message shown, the first matching ready messages in queue order. Dead letters: 1, going back to exchange "e2e-orders".', { exact: true });
    await hasText(retry.locator('li.message'), 'order.paid');
    expect(await retry.locator('li.message').count()).toBe(1);
    await screenshot(page, 'queue-retry-dead-letters');

    // Retry it: confirmation, then the result line; it is back in e2e-work with its death history.
    await retry.getByRole('button', { name: 'Retry dead letters…' }).click();
    const asked = await confirm(page, 'Retry dead letters');
    expect(asked).toContain('routing key matches "order.p*"');
    await hasText(retry.getByRole('status'), 'Retried 1 message.', { exact: true });
    await until(() => peek('e2e-work'), (m) => m.length === 1, 'the retried message in e2e-work');
    const [back] = await peek('e2e-work');
    expect(back).toMatchObject({ routing_key: 'order.paid', payload: '{"order": 1, "state": "paid"}' });
    expect(back?.properties.headers?.['x-first-death-reason']).toBe('rejected');
    await hasText(page.locator('dd[data-stat="Ready"]'), '2', { exact: true });

    // It arrives at its origin: the work queue's page shows it.
    await page.goto(`${suite.warren().url}/#/queues/${vh('/')}/e2e-work`);
    await hasText(page.locator('dd[data-stat="Ready"]'), '1', { exact: true });
    await hasText(page.locator('.browse li.message'), 'order.paid');

    // Back on the DLQ, retry everything left: one dead letter moves, the plain message is skipped.
    await page.goto(`${suite.warren().url}/#/queues/${vh('/')}/e2e-dlq`);
    await openPanel(page, 'Retry dead letters');
    await retry.getByRole('button', { name: 'Retry dead letters…' }).click();
    await confirm(page, 'Retry dead letters');
    await hasText(retry.getByRole('status'), 'Retried 1 message. Left in e2e-dlq: 1 skipped (not dead letters).', { exact: true });
    await until(() => ready('e2e-work'), (n) => n === 2, 'both orders back in e2e-work');
    expect(await ready('e2e-dlq')).toBe(1);
  });

  it('moves messages between queues with a count and a filter, and shows refusals inline', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-move-from`, { durable: true });
    await api('PUT', `/queues/${vh('/')}/e2e-move-to`, { durable: true });
    for (const [key, body] of [
      ['invoice.eu', 'invoice 1 for ACME'],
      ['invoice.us', 'invoice 2 for Globex'],
      ['invoice.eu', 'invoice 3 for ACME'],
      ['invoice.eu', 'invoice 4 for ACME'],
    ] as const) {
      await api('POST', `/exchanges/${vh('/')}/amq.default/publish`, { routing_key: 'e2e-move-from', properties: { headers: { region: key } }, payload: body, payload_encoding: 'string' });
    }
    const page = await open(`#/queues/${vh('/')}/e2e-move-from`);
    await openPanel(page, 'Move messages');
    const move = page.getByRole('form', { name: 'Move messages' });

    // A destination that does not exist: the server's 404, in words, next to the form; nothing moved.
    await move.getByLabel('Destination queue').fill('e2e-no-such-queue');
    await move.getByRole('button', { name: 'Move messages…' }).click();
    await confirm(page, 'Move messages');
    await hasText(move.getByRole('alert'), "No queue 'e2e-no-such-queue' in vhost '/'.", { exact: true });
    expect(await ready('e2e-move-from')).toBe(4);

    // The source as its own target: the server's 400 reason, as a sentence.
    await move.getByLabel('Destination queue').fill('e2e-move-from');
    await move.getByRole('button', { name: 'Move messages…' }).click();
    await confirm(page, 'Move messages');
    await hasText(move.getByRole('alert'), "Cannot move messages of queue 'e2e-move-from' into itself.", { exact: true });

    // A bad count is refused before anything is sent.
    await move.getByLabel('How many (at most)').fill('0');
    await move.getByRole('button', { name: 'Preview' }).click();
    await hasText(move.getByRole('alert'), 'How many must be a whole number, 1 or more (or empty for all).', { exact: true });

    // Two of the three ACME invoices: the preview shows exactly those two.
    await move.getByLabel('Destination queue').fill('e2e-move-to');
    await move.getByLabel('How many (at most)').fill('2');
    await move.getByLabel('Payload contains').fill('ACME');
    await move.getByRole('button', { name: 'Preview' }).click();
    await hasText(move.locator('.preview-summary'), '2 messages shown, the first matching ready messages in queue order.', { exact: true });
    await hasText(move.locator('li.message').nth(0), 'invoice 1 for ACME');
    await hasText(move.locator('li.message').nth(1), 'invoice 3 for ACME');
    await screenshot(page, 'queue-move-messages');

    await move.getByRole('button', { name: 'Move messages…' }).click();
    const asked = await confirm(page, 'Move messages');
    expect(asked).toContain('Move up to 2 ready messages that match (payload contains "ACME") from "e2e-move-from" to queue "e2e-move-to".');
    await hasText(move.getByRole('status'), 'Moved 2 messages.', { exact: true });
    const moved = await peek('e2e-move-to');
    expect(moved.map((m) => m.payload)).toEqual(['invoice 1 for ACME', 'invoice 3 for ACME']);
    expect((await peek('e2e-move-from')).map((m) => m.payload)).toEqual(['invoice 2 for Globex', 'invoice 4 for ACME']);

    // Through an exchange that routes nowhere: left in the queue and said so.
    await api('PUT', `/exchanges/${vh('/')}/e2e-nowhere`, { type: 'direct', durable: true });
    await move.getByLabel('How many (at most)').fill('');
    await move.getByLabel('Payload contains').fill('');
    await move.getByLabel('Move to').selectOption('exchange');
    await move.getByLabel('Destination exchange').fill('e2e-nowhere');
    await move.getByRole('button', { name: 'Move messages…' }).click();
    await confirm(page, 'Move messages');
    await hasText(move.getByRole('status'), 'Moved 0 messages. Left in e2e-move-from: 2 unroutable (no queue would receive them).', { exact: true });
    expect(await ready('e2e-move-from')).toBe(2);
  });

  it('says so inline when the user may read the queue but not write to the target', async () => {
    await api('PUT', `/users/e2e-reader`, { password: 'reader', tags: 'management' });
    await api('PUT', `/permissions/${vh('/')}/e2e-reader`, { configure: '', write: '', read: '.*' });
    await api('PUT', `/queues/${vh('/')}/e2e-ro-from`, { durable: true });
    await api('PUT', `/queues/${vh('/')}/e2e-ro-to`, { durable: true });
    await api('POST', `/exchanges/${vh('/')}/amq.default/publish`, { routing_key: 'e2e-ro-from', properties: {}, payload: 'stay', payload_encoding: 'string' });
    const page = await open(`#/queues/${vh('/')}/e2e-ro-from`, ['e2e-reader', 'reader']);
    await openPanel(page, 'Move messages');
    const move = page.getByRole('form', { name: 'Move messages' });
    await move.getByLabel('Destination queue').fill('e2e-ro-to');
    await move.getByRole('button', { name: 'Move messages…' }).click();
    await confirm(page, 'Move messages');
    await hasText(move.getByRole('alert'), 'Access refused: your permissions in this virtual host do not allow it.', { exact: true });
    expect(await ready('e2e-ro-from')).toBe(1);
    expect(await ready('e2e-ro-to')).toBe(0);
    // Still signed in: a refused action does not end the session.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  });
});
