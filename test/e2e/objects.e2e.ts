/**
 * Queues, exchanges, bindings and connections in a real browser against a real Warren: live lists,
 * forms, publishing, getting and browsing messages, destructive actions with confirmation.
 */
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { hasCount, hasText, openPanel, row, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

interface QueueInfo {
  messages_ready: number;
  messages_unacknowledged: number;
}

describe('queues, exchanges and connections', () => {
  it('shows a queue declared over REST without a reload, keeping a half-typed form and the selection', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-before`, { durable: true });
    const page = await open('#/queues');
    await row(page, '/', 'e2e-before').waitFor();

    // Start typing a new queue and select a row, then let the list refresh.
    await openPanel(page, 'Add a new queue');
    const nameField = page.getByRole('form', { name: 'Add queue' }).getByLabel('Name');
    await nameField.fill('half-typ');
    await page.getByLabel('Select queue e2e-before in /').check();
    const scrollBefore = await page.evaluate(() => window.scrollY);

    await api('PUT', `/queues/${vh('/')}/e2e-rest`, { durable: false, arguments: { 'x-max-length': 10 } });
    await row(page, '/', 'e2e-rest').waitFor({ timeout: 5000 });
    await hasText(row(page, '/', 'e2e-rest').locator('td[data-col="features"]'), 'Lim');

    expect(await nameField.inputValue()).toBe('half-typ');
    expect(await page.getByLabel('Select queue e2e-before in /').isChecked()).toBe(true);
    await page.getByText('1 selected').waitFor();
    expect(await page.evaluate(() => window.scrollY)).toBe(scrollBefore);
    await screenshot(page, 'queues');
  });

  it('creates an exchange and bindings to a queue and an exchange in the UI, and removes one', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-orders`, { durable: true });
    await api('PUT', `/exchanges/${vh('/')}/e2e-audit`, { type: 'fanout', durable: true });
    const page = await open('#/exchanges');
    await openPanel(page, 'Add a new exchange');
    const form = page.getByRole('form', { name: 'Add exchange' });
    await form.getByLabel('Name').fill('e2e-topic');
    await form.getByLabel('Type', { exact: true }).selectOption('topic');
    await form.getByRole('button', { name: 'Add exchange' }).click();
    await hasText(form.getByRole('status'), 'e2e-topic');
    const x = await api<{ type: string; durable: boolean }>('GET', `/exchanges/${vh('/')}/e2e-topic`);
    expect(x).toMatchObject({ type: 'topic', durable: true });

    await page.getByRole('link', { name: 'e2e-topic' }).click();
    await page.getByRole('heading', { name: /Exchange e2e-topic/ }).waitFor();
    expect(page.url()).toContain('#/exchanges/%2F/e2e-topic');

    const bind = page.getByRole('form', { name: 'Add binding from this exchange' });
    await bind.getByLabel('To', { exact: true }).selectOption('queue');
    await bind.getByLabel('Destination name').fill('e2e-orders');
    await bind.getByLabel('Routing key').fill('orders.#');
    await bind.getByRole('button', { name: 'Bind' }).click();
    await hasText(bind.getByRole('status'), 'Bound to queue e2e-orders');

    await bind.getByLabel('To', { exact: true }).selectOption('exchange');
    await bind.getByLabel('Destination name').fill('e2e-audit');
    await bind.getByLabel('Routing key').fill('#');
    await bind.getByRole('button', { name: 'Bind' }).click();
    await hasText(bind.getByRole('status'), 'Bound to exchange e2e-audit');

    const outgoing = page.getByRole('table', { name: 'Bindings from e2e-topic' });
    await outgoing.getByRole('link', { name: 'e2e-orders (queue)' }).waitFor();
    await outgoing.getByRole('link', { name: 'e2e-audit (exchange)' }).waitFor();
    const bindings = await api<Array<{ destination: string; routing_key: string }>>('GET', `/exchanges/${vh('/')}/e2e-topic/bindings/source`);
    expect(bindings.map((b) => `${b.destination}:${b.routing_key}`).sort()).toEqual(['e2e-audit:#', 'e2e-orders:orders.#']);
    await screenshot(page, 'exchange');

    // Remove the exchange-to-exchange binding, after confirming.
    await outgoing.getByRole('button', { name: /Unbind e2e-topic → e2e-audit/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Unbind' }).click();
    await outgoing.getByRole('link', { name: 'e2e-audit (exchange)' }).waitFor({ state: 'detached' });
    const after = await api<unknown[]>('GET', `/exchanges/${vh('/')}/e2e-topic/bindings/source`);
    expect(after).toHaveLength(1);

    await page.goto(`${suite.warren().url}/#/exchanges?name=e2e`);
    await row(page, '/', 'e2e-topic').waitFor();
    await screenshot(page, 'exchanges');
  });

  it('publishes a message with headers from the UI and gets it back in the queue view', async () => {
    // What the previous test built in the UI (declared again so this test also runs on its own).
    await api('PUT', `/exchanges/${vh('/')}/e2e-topic`, { type: 'topic', durable: true });
    await api('PUT', `/queues/${vh('/')}/e2e-orders`, { durable: true });
    await api('POST', `/bindings/${vh('/')}/e/e2e-topic/q/e2e-orders`, { routing_key: 'orders.#' });
    const page = await open(`#/exchanges/${vh('/')}/e2e-topic`);
    await openPanel(page, 'Publish message');
    const form = page.getByRole('form', { name: 'Publish to e2e-topic' });
    await form.getByLabel('Routing key').fill('orders.new');
    await form.getByLabel('Headers: key 1').fill('x-order-id');
    await form.getByLabel('Headers: value 1').fill('1234');
    await form.getByLabel('Headers: type 1').selectOption('number');
    await form.getByLabel('Headers: key 2').fill('x-source');
    await form.getByLabel('Headers: value 2').fill('console');
    await form.getByText('Properties').click();
    await form.getByLabel('Content type').fill('application/json');
    await form.getByLabel('Message id').fill('msg-1');
    await form.getByLabel('Payload', { exact: true }).fill('{"order": 1234}');
    await form.getByRole('button', { name: 'Publish message' }).click();
    await hasText(form.getByRole('status'), 'Message published and routed to at least one queue.', { exact: true });

    // An unroutable key is reported as such.
    await form.getByLabel('Routing key').fill('nobody.listens');
    await form.getByRole('button', { name: 'Publish message' }).click();
    await hasText(form.getByRole('status'), 'no queue received it');

    await page.goto(`${suite.warren().url}/#/queues/${vh('/')}/e2e-orders`);
    await page.getByRole('heading', { name: /Queue e2e-orders/ }).waitFor();
    await openPanel(page, 'Get messages');
    const get = page.getByRole('form', { name: 'Get messages' });
    await get.getByLabel('Ack mode').selectOption('ack_requeue_true');
    await get.getByRole('button', { name: 'Get messages' }).click();
    const message = page.locator('.get-results li.message').first();
    await hasText(message.locator('pre'), '{"order": 1234}', { exact: true });
    await hasText(message.getByRole('table', { name: 'Headers' }), 'x-order-id');
    await hasText(message.getByRole('table', { name: 'Headers' }), '1234');
    await hasText(message.getByRole('table', { name: 'Headers' }), 'console');
    await hasText(message.getByRole('table', { name: 'Properties' }), 'application/json');
    await hasText(message.getByRole('table', { name: 'Properties' }), 'msg-1');
    await hasText(message, 'orders.new');
    // Requeued: the message is still there.
    const q = await api<QueueInfo>('GET', `/queues/${vh('/')}/e2e-orders`);
    expect(q.messages_ready).toBe(1);
    await screenshot(page, 'queue');
  });

  it('browses a backlog page by page without consuming it', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-backlog`, { durable: false });
    const conn = await suite.warren().connect();
    await Promise.all(
      Array.from({ length: 120 }, (_, i) => conn.publish({ exchange: '', routingKey: 'e2e-backlog', body: `message ${i + 1}`, properties: { headers: { n: i + 1 } } })),
    );
    const page = await open(`#/queues/${vh('/')}/e2e-backlog`);
    const summary = page.locator('.browse-summary');
    await hasText(summary, 'Messages 1–50 of 120 ready');
    await hasCount(page.locator('.browse-results li.message'), 50);
    await hasText(page.locator('.browse-results li.message').first(), 'message 1');

    await page.getByRole('button', { name: 'Next ›' }).click();
    await hasText(summary, 'Messages 51–100 of 120 ready');
    const first = page.locator('.browse-results li.message').first();
    await hasText(first, '#51');
    await first.locator('summary').click();
    await hasText(first.locator('pre'), 'message 51', { exact: true });
    await hasText(first.getByRole('table', { name: 'Headers' }), '51');
    await screenshot(page, 'queue-browse');

    await page.getByLabel('Start at position').fill('111');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await hasText(summary, 'Messages 111–120 of 120 ready');
    await hasCount(page.locator('.browse-results li.message'), 10);

    const q = await api<QueueInfo>('GET', `/queues/${vh('/')}/e2e-backlog`);
    expect(q).toMatchObject({ messages_ready: 120, messages_unacknowledged: 0 });
    const [head] = await api<Array<{ redelivered: boolean; payload: string }>>('POST', `/queues/${vh('/')}/e2e-backlog/peek`, { count: 1 });
    expect(head).toMatchObject({ redelivered: false, payload: 'message 1' });
  });

  it('shows where a dead-lettered message died, from its x-death header', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-dlq`, { durable: false });
    await api('PUT', `/queues/${vh('/')}/e2e-work`, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'e2e-dlq' } });
    const conn = await suite.warren().connect();
    await conn.publish({ exchange: '', routingKey: 'e2e-work', body: 'rejected once' });
    const got = await conn.get({ queue: 'e2e-work' });
    if (!got) throw new Error('no message to reject');
    got.reject(false);
    const page = await open(`#/queues/${vh('/')}/e2e-dlq`);
    const first = page.locator('.browse-results li.message').first();
    await first.locator('summary').click();
    const deaths = first.getByRole('table', { name: 'Dead-lettered (x-death, newest first)' });
    await hasText(deaths, 'e2e-work');
    await hasText(deaths, 'rejected');
    await screenshot(page, 'queue-dead-lettered');
  });

  it('purges a queue only after confirmation', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-purge`, { durable: false });
    const conn = await suite.warren().connect();
    await Promise.all(Array.from({ length: 120 }, (_, i) => conn.publish({ exchange: '', routingKey: 'e2e-purge', body: `m${i}` })));
    const page = await open(`#/queues/${vh('/')}/e2e-purge`);
    await hasText(page.locator('dd[data-stat="Ready"]'), '120', { exact: true });
    await page.getByRole('button', { name: 'Purge messages' }).click();
    const dialog = page.getByRole('dialog');
    await hasText(dialog, 'Remove all 120 ready messages');
    // Escape cancels, as does the Cancel button (which has the focus).
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Purge messages' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect((await api<QueueInfo>('GET', `/queues/${vh('/')}/e2e-purge`)).messages_ready).toBe(120);

    await page.getByRole('button', { name: 'Purge messages' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Purge' }).click();
    await page.getByText('Queue purged.').waitFor();
    expect((await api<QueueInfo>('GET', `/queues/${vh('/')}/e2e-purge`)).messages_ready).toBe(0);
    await hasText(page.locator('dd[data-stat="Ready"]'), '0', { exact: true });
  });

  it('deletes a queue, and several selected queues, after confirmation', async () => {
    for (const name of ['e2e-del-1', 'e2e-del-2', 'e2e-del-3']) await api('PUT', `/queues/${vh('/')}/${name}`, {});
    const page = await open(`#/queues/${vh('/')}/e2e-del-1`);
    await page.getByRole('button', { name: 'Delete queue' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete queue' }).click();
    await page.getByRole('heading', { name: 'Queues', level: 1 }).waitFor();
    await expect(api('GET', `/queues/${vh('/')}/e2e-del-1`)).rejects.toThrow(/404/);

    await page.getByRole('searchbox', { name: 'Filter queues' }).fill('e2e-del');
    await row(page, '/', 'e2e-del-2').waitFor();
    await hasCount(page.locator('tbody tr'), 2);
    await page.getByLabel('Select all rows shown').check();
    await page.getByRole('button', { name: 'Delete selected' }).click();
    const dialog = page.getByRole('dialog');
    await hasText(dialog, '"e2e-del-2", "e2e-del-3"');
    await dialog.getByRole('button', { name: 'Delete queues' }).click();
    await page.getByText('Deleted 2 queues.').waitFor();
    await page.getByText('No queues match "e2e-del".').waitFor();
  });

  it('shows connections and closes one', async () => {
    const conn = await suite.warren().connect({ clientProperties: { connection_name: 'e2e-client' } });
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
    const page = await open('#/connections');
    const row = page.locator('tbody tr', { hasText: 'e2e-client' });
    await row.waitFor();
    await hasText(row, 'guest');
    await hasText(row, '127.0.0.1:');
    // Its publish rate (its channel's, sampled by the server: two samples around a burst give a rate).
    await api('PUT', `/queues/${vh('/')}/e2e-conn`, { durable: false });
    // The server's own 5 s sampling may land between two of ours, so burst and sample until the list shows it.
    const sampler = suite.warren().server.app.managementApi.sampler;
    await until(
      async () => {
        sampler.sampleNow();
        await Promise.all(Array.from({ length: 20 }, () => conn.publish({ exchange: '', routingKey: 'e2e-conn', body: 'x' })));
        await new Promise((resolve) => setTimeout(resolve, 100));
        sampler.sampleNow();
        await new Promise((resolve) => setTimeout(resolve, 400));
        return row.locator('td[data-col="publish"]').textContent();
      },
      (t) => t !== null && t !== '0/s',
      'a publish rate',
      15_000,
    );
    await screenshot(page, 'connections');
    await row.getByRole('button', { name: /Close connection/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Close connection' }).click();
    await closed;
    await row.waitFor({ state: 'detached' });
  });

  it('shows an AMQP connection’s protocol and channel count, and its several channels by name and number', async () => {
    const conn = await amqp.connect(suite.warren().amqpUrl, { clientProperties: { connection_name: 'e2e-multi' } });
    try {
      const first = await conn.createChannel();
      await first.prefetch(5, false);
      await first.prefetch(7, true);
      await conn.createConfirmChannel();
      const connections = await api<Array<{ name: string; user_provided_name?: string }>>('GET', '/connections');
      const id = connections.find((c) => c.user_provided_name === 'e2e-multi')?.name ?? '';

      const page = await open('#/connections');
      const connection = page.locator('tbody tr', { hasText: 'e2e-multi' });
      await connection.waitFor();
      await hasText(connection.locator('td[data-col="protocol"]'), 'AMQP 0-9-1');
      await hasText(connection.locator('td[data-col="channels"]'), '2');
      await connection.locator('td[data-col="channels"] a').click();

      await page.getByRole('heading', { name: 'Channels' }).waitFor();
      await hasCount(page.locator('tbody tr'), 2);
      const one = row(page, `${id} (1)`);
      const two = row(page, `${id} (2)`);
      await hasText(one.locator('td[data-col="number"]'), '1');
      await hasText(one.locator('td[data-col="prefetch"]'), '5, 7 shared');
      await hasText(one.locator('td[data-col="mode"]'), '–');
      await hasText(two.locator('td[data-col="number"]'), '2');
      await hasText(two.locator('td[data-col="mode"]'), 'C');
      await screenshot(page, 'channels');

      // Per vhost the console asks /api/vhosts/{vhost}/channels.
      await page.goto(`${suite.warren().url}/#/channels?vhost=%2F&name=${encodeURIComponent(id)}`);
      await hasCount(page.locator('tbody tr'), 2);
    } finally {
      await conn.close();
    }
  });
});
