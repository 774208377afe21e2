/**
 * A delayed exchange in a real browser against a real Warren: declared in the console, messages
 * scheduled over the REST publish with a long `x-delay`, listed on the exchange page in due order, paged
 * through, one cancelled after a confirmation and gone from the list and from the broker.
 */
import { describe, expect, it } from 'vitest';
import { hasText, openPanel, row, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

interface PublishAnswer {
  routed: boolean;
  scheduled?: { id: number; due: number; due_at: string };
}

interface ScheduledList {
  total: number;
  items: Array<{ id: number; routing_key: string }>;
}

const HOUR = 3_600_000;

describe('scheduled messages of a delayed exchange', () => {
  it('lists what is scheduled, pages through it and cancels one', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-later`, { durable: true });
    const page = await open('#/exchanges');
    await openPanel(page, 'Add a new exchange');
    const form = page.getByRole('form', { name: 'Add exchange' });
    await form.getByLabel('Name').fill('e2e-delayed');
    await until(() => form.getByLabel('Type', { exact: true }).locator('option[value="x-delayed-message"]').count(), (n) => n === 1, 'the delayed type offered');
    await form.getByLabel('Type', { exact: true }).selectOption('x-delayed-message');
    await form.getByRole('button', { name: 'x-delayed-type' }).click();
    await form.getByLabel('Arguments: value 1').fill('direct');
    await form.getByRole('button', { name: 'Add exchange' }).click();
    await hasText(form.getByRole('status'), 'e2e-delayed');
    await api('POST', `/bindings/${vh('/')}/e/e2e-delayed/q/e2e-later`, { routing_key: 'job' });

    // 25 messages due in an hour and more, one second apart: earliest first, ids in publish order.
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      const answer = await api<PublishAnswer>('POST', `/exchanges/${vh('/')}/e2e-delayed/publish`, {
        routing_key: 'job',
        properties: { delivery_mode: 2, headers: { 'x-delay': HOUR + i * 1000, n: i + 1 } },
        payload: `job ${i + 1}`,
        payload_encoding: 'string',
      });
      expect(answer.routed).toBe(false);
      if (!answer.scheduled) throw new Error('the publish was not scheduled');
      ids.push(answer.scheduled.id);
    }

    await page.getByRole('link', { name: 'e2e-delayed' }).click();
    await page.getByRole('heading', { name: /Exchange e2e-delayed/ }).waitFor();
    await hasText(page.locator('dd[data-fact="Scheduled messages"]'), '25', { exact: true });
    const section = page.getByRole('region', { name: 'Scheduled messages' });
    await hasText(section.locator('.browse-summary'), 'Scheduled 1–20 of 25, earliest due first.', { exact: true });
    const first = row(page, String(ids[0]));
    await hasText(first.locator('td[data-col="preview"]'), 'job 1', { exact: true });
    await hasText(first.locator('td[data-col="due"]'), /in (59m|1h 0m)/);
    await hasText(first.locator('td[data-col="props"]'), 'n: 1');
    await screenshot(page, 'exchange-scheduled');

    // The second page: the last five.
    await section.getByRole('button', { name: 'Next ›' }).click();
    await hasText(section.locator('.browse-summary'), 'Scheduled 21–25 of 25, earliest due first.', { exact: true });
    expect(await section.locator('tbody tr').count()).toBe(5);
    const target = ids[21] ?? 0;
    await hasText(row(page, String(target)).locator('td[data-col="preview"]'), 'job 22', { exact: true });

    // Cancel job 22: asked first, then gone from the page and from the broker.
    await section.getByRole('button', { name: `Cancel scheduled message ${target}`, exact: true }).click();
    const dialog = page.getByRole('dialog');
    await hasText(dialog, 'will never be routed');
    await dialog.getByRole('button', { name: 'Cancel message' }).click();
    await hasText(section.getByRole('status'), `Scheduled message ${target} cancelled.`, { exact: true });
    await row(page, String(target)).waitFor({ state: 'detached' });
    await hasText(section.locator('.browse-summary'), 'Scheduled 21–24 of 24, earliest due first.', { exact: true });
    await hasText(page.locator('dd[data-fact="Scheduled messages"]'), '24', { exact: true });
    const listed = await api<ScheduledList>('GET', `/exchanges/${vh('/')}/e2e-delayed/scheduled?count=100`);
    expect(listed.total).toBe(24);
    expect(listed.items.map((m) => m.id)).not.toContain(target);

    // A message cancelled elsewhere while the dialog is open: the server's 404 is said next to the list.
    await section.getByRole('button', { name: '« First' }).click();
    await hasText(section.locator('.browse-summary'), 'Scheduled 1–20 of 24, earliest due first.', { exact: true });
    await section.getByRole('button', { name: `Cancel scheduled message ${ids[0]}`, exact: true }).click();
    await api('DELETE', `/exchanges/${vh('/')}/e2e-delayed/scheduled/${ids[0]}`);
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel message' }).click();
    await hasText(section.getByRole('alert'), `No scheduled message ${ids[0]} in exchange 'e2e-delayed' in vhost '/'.`, { exact: true });
    await row(page, String(ids[0])).waitFor({ state: 'detached' });
  });
});
