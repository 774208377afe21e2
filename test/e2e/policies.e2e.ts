/**
 * Policies, operator policies and virtual host limits in a real browser against a real Warren: a policy
 * added in the console changes what a queue shows, deleting it takes that away, bad values are refused
 * where they were typed, and a vhost limit set in the console is listed.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasText, openPanel, row, screenshot, until, useConsole, vh } from './support.js';

const suite = useConsole();
const { open, api } = suite;

interface Policy {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': string;
  priority: number;
  definition: Record<string, unknown>;
  inert_keys?: string[];
}

interface QueueInfo {
  policy: string | null;
  operator_policy: string | null;
  effective_policy_definition: Record<string, unknown>;
}

/** Whether the REST call answers 404. */
async function missing(path: string): Promise<boolean> {
  try {
    await api('GET', path);
    return false;
  } catch (error) {
    return /HTTP 404/.test(String(error));
  }
}

const policyForm = (page: Page) => page.getByRole('form', { name: 'Add or update a policy' });

describe('policies and limits', () => {
  it('adds a TTL policy in the console, shows it on the queue it matches, and takes it away on delete', async () => {
    await api('PUT', `/queues/${vh('/')}/e2e-pol-orders`, { durable: true });
    const page = await open('#/admin/policies');
    const form = policyForm(page);
    await form.getByLabel('Virtual host').selectOption('/');
    await form.getByLabel('Name').fill('e2e-ttl');
    await form.getByLabel('Pattern').fill('^e2e-pol-');
    await form.getByLabel('Apply to').selectOption('queues');
    await form.getByLabel('Priority').fill('3');
    await form.getByRole('button', { name: 'message-ttl' }).click();
    await form.getByLabel('Definition: value 1').fill('60000');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('status'), 'Policy e2e-ttl in / added.', { exact: true });

    // Sent typed: the TTL is a JSON number.
    const stored = await api<Policy>('GET', `/policies/${vh('/')}/e2e-ttl`);
    expect(stored).toMatchObject({ pattern: '^e2e-pol-', 'apply-to': 'queues', priority: 3, definition: { 'message-ttl': 60000 } });
    await hasText(row(page, '/', 'e2e-ttl').locator('td[data-col="definition"]'), 'message-ttl=60000', { exact: true });
    await screenshot(page, 'admin-policies');

    // The queue list's features and the queue view follow the effective policy.
    await until(() => api<QueueInfo>('GET', `/queues/${vh('/')}/e2e-pol-orders`), (q) => q.policy === 'e2e-ttl', 'the policy to apply');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
    const features = row(page, '/', 'e2e-pol-orders').locator('td[data-col="features"]');
    await hasText(features, 'TTL');
    await hasText(features, 'Pol e2e-ttl');
    expect(await features.getByText('TTL', { exact: true }).getAttribute('title')).toBe('message-ttl: 60000 (effective policy)');

    await page.getByRole('link', { name: 'e2e-pol-orders' }).click();
    await hasText(page.locator('dd[data-fact="Policy"]'), 'e2e-ttl', { exact: true });
    await hasText(page.locator('dd[data-fact="Operator policy"]'), 'none', { exact: true });
    await hasText(page.locator('dd[data-fact="Effective policy definition"]'), 'message-ttl=60000', { exact: true });
    await screenshot(page, 'queue-policy');

    // Edit it: the form is filled from the row, and saving says "updated".
    await page.goto(`${suite.warren().url}/#/admin/policies`);
    await row(page, '/', 'e2e-ttl').getByRole('button', { name: 'Edit policy e2e-ttl in /' }).click();
    expect(await form.getByLabel('Pattern').inputValue()).toBe('^e2e-pol-');
    expect(await form.getByLabel('Definition: value 1').inputValue()).toBe('60000');
    await form.getByLabel('Definition: value 1').fill('30000');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('status'), 'Policy e2e-ttl in / updated.', { exact: true });
    expect((await api<Policy>('GET', `/policies/${vh('/')}/e2e-ttl`)).definition).toEqual({ 'message-ttl': 30000 });

    // Delete, after confirming.
    await row(page, '/', 'e2e-ttl').getByRole('button', { name: 'Delete policy e2e-ttl in /' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete policy' }).click();
    await row(page, '/', 'e2e-ttl').waitFor({ state: 'detached' });
    expect(await missing(`/policies/${vh('/')}/e2e-ttl`)).toBe(true);

    await page.goto(`${suite.warren().url}/#/queues/${vh('/')}/e2e-pol-orders`);
    await hasText(page.locator('dd[data-fact="Policy"]'), 'none', { exact: true });
    await hasText(page.locator('dd[data-fact="Effective policy definition"]'), 'none', { exact: true });
    await page.goto(`${suite.warren().url}/#/queues`);
    await until(
      () => row(page, '/', 'e2e-pol-orders').locator('td[data-col="features"]').textContent(),
      (text) => text !== null && text.startsWith('D') && !text.includes('TTL') && !text.includes('Pol'),
      'the TTL and policy flags to go',
    );
  });

  it('refuses bad values where they were typed, and shows the server refusing what it cannot do', async () => {
    const page = await open('#/admin/policies');
    const form = policyForm(page);
    await form.getByLabel('Name').fill('e2e-bad');
    await form.getByLabel('Pattern').fill('.*');
    await form.getByRole('button', { name: 'message-ttl' }).click();
    await form.getByLabel('Definition: value 1').fill('soon');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('alert'), '"message-ttl" must be a whole number ≥ 0, not "soon".', { exact: true });
    expect(await form.getByLabel('Definition: value 1').getAttribute('aria-invalid')).toBe('true');

    await form.getByLabel('Definition: value 1').fill('1000');
    await form.getByRole('button', { name: 'overflow' }).click();
    await form.getByLabel('Definition: value 2').fill('drop-tail');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('alert'), '"overflow" must be one of drop-head, reject-publish, reject-publish-dlx, not "drop-tail".', { exact: true });
    expect(await form.getByLabel('Definition: value 1').getAttribute('aria-invalid')).toBeNull();
    expect(await missing(`/policies/${vh('/')}/e2e-bad`)).toBe(true);
    await screenshot(page, 'admin-policies-invalid');

    // A key Warren does not know passes the console and is refused by the server, shown in the form.
    await form.getByLabel('Definition: value 2').fill('reject-publish');
    await form.getByLabel('Definition: key 3').fill('no-such-setting');
    await form.getByLabel('Definition: value 3').fill('1');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('alert'), 'Validation failed: [{<<"no-such-setting">>,<<"1">>}] are not recognised policy settings.', { exact: true });
    expect(await missing(`/policies/${vh('/')}/e2e-bad`)).toBe(true);

    // Operator policies take only their own keys.
    await page.getByRole('link', { name: 'Operator policies' }).click();
    const op = page.getByRole('form', { name: 'Add or update an operator policy' });
    expect(await op.getByLabel('Apply to').locator('option').allTextContents()).toEqual(['queues', 'classic_queues', 'quorum_queues', 'streams']);
    await op.getByLabel('Name').fill('e2e-op');
    await op.getByLabel('Pattern').fill('^e2e-pol-');
    await op.getByLabel('Definition: key 1').fill('dead-letter-exchange');
    await op.getByLabel('Definition: value 1').fill('dlx');
    await op.getByRole('button', { name: 'Save operator policy' }).click();
    await hasText(op.getByRole('alert'), /"dead-letter-exchange" cannot be set by an operator policy/);
    await op.getByLabel('Definition: key 1').fill('max-length');
    await op.getByLabel('Definition: value 1').fill('100');
    await op.getByRole('button', { name: 'Save operator policy' }).click();
    await hasText(op.getByRole('status'), 'Operator policy e2e-op in / added.', { exact: true });
    expect((await api<Policy>('GET', `/operator-policies/${vh('/')}/e2e-op`)).definition).toEqual({ 'max-length': 100 });
    await hasText(row(page, '/', 'e2e-op').locator('td[data-col="definition"]'), 'max-length=100', { exact: true });

    // It applies to a queue it matches: named on the queue's page, its cap in the effective definition and features.
    await api('PUT', `/queues/${vh('/')}/e2e-pol-capped`, { durable: true });
    await page.goto(`${suite.warren().url}/#/queues/${vh('/')}/e2e-pol-capped`);
    await hasText(page.locator('dd[data-fact="Operator policy"]'), 'e2e-op', { exact: true });
    await hasText(page.locator('dd[data-fact="Effective policy definition"]'), 'max-length=100', { exact: true });
    await page.goto(`${suite.warren().url}/#/queues`);
    const features = row(page, '/', 'e2e-pol-capped').locator('td[data-col="features"]');
    await hasText(features, 'Op e2e-op');
    expect(await features.getByText('Lim', { exact: true }).getAttribute('title')).toBe('max-length: 100 (effective policy)');
    await api('DELETE', `/operator-policies/${vh('/')}/e2e-op`);
    await api('DELETE', `/queues/${vh('/')}/e2e-pol-capped`);
  });

  it('greys keys the server lists as inert, with a tooltip saying they have no effect', async () => {
    // queue-mode is a RabbitMQ key Warren accepts for compatibility and does not act on.
    await api('PUT', `/policies/${vh('/')}/e2e-compat`, { pattern: '^compat$', definition: { 'queue-mode': 'lazy', 'max-length': 5 }, 'apply-to': 'queues' });
    const stored = await api<Policy>('GET', `/policies/${vh('/')}/e2e-compat`);
    expect(stored.inert_keys).toEqual(['queue-mode']);
    const page = await open('#/admin/policies');
    const cell = row(page, '/', 'e2e-compat').locator('td[data-col="definition"]');
    await hasText(cell, 'max-length=5');
    for (const key of Object.keys(stored.definition)) {
      const chip = cell.locator(`code[data-key="${key}"]`);
      const inert = (stored.inert_keys ?? []).includes(key);
      expect(await chip.getAttribute('class')).toBe(inert ? 'chip inert' : 'chip');
      expect(await chip.getAttribute('title')).toBe(inert ? 'accepted for compatibility, no effect in Warren' : null);
    }
    await hasText(cell.locator('code.chip.inert'), 'queue-mode=lazy', { exact: true });

    // Editing it says the same under the key's row (the server keeps keys sorted, as RabbitMQ).
    await row(page, '/', 'e2e-compat').getByRole('button', { name: 'Edit policy e2e-compat in /' }).click();
    const form = policyForm(page);
    expect(await form.getByLabel('Definition: key 2').inputValue()).toBe('queue-mode');
    await hasText(form.locator('.def-row').nth(1).locator('.def-note'), 'accepted for compatibility, no effect in Warren', { exact: true });
    await api('DELETE', `/policies/${vh('/')}/e2e-compat`);
  });

  it('shows the policy that applies to an exchange, in the list and on its page', async () => {
    await api('PUT', `/exchanges/${vh('/')}/e2e-pol-x`, { type: 'fanout', durable: true });
    await api('PUT', `/policies/${vh('/')}/e2e-ae`, { pattern: '^e2e-pol-x$', definition: { 'alternate-exchange': 'amq.fanout' }, 'apply-to': 'exchanges' });
    const page = await open('#/exchanges');
    await hasText(row(page, '/', 'e2e-pol-x').locator('td[data-col="features"]'), 'Pol e2e-ae');
    await page.getByRole('link', { name: 'e2e-pol-x' }).click();
    await hasText(page.locator('dd[data-fact="Policy"]'), 'e2e-ae', { exact: true });
    await page.locator('dd[data-fact="Policy"]').getByRole('link', { name: 'e2e-ae' }).click();
    await row(page, '/', 'e2e-ae').waitFor();
    await api('DELETE', `/policies/${vh('/')}/e2e-ae`);
  });

  it('imports policies from a definitions file and says which parts it left out', async () => {
    const page = await open('#/admin/definitions');
    const doc = {
      policies: [{ vhost: '/', name: 'e2e-imported', pattern: '^e2e-imp', 'apply-to': 'queues', definition: { 'max-length': 7 }, priority: 0 }],
      some_plugin_section: [{ name: 'x' }],
    };
    await page.getByLabel('Definitions file').setInputFiles({ name: 'rabbit.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await hasText(
      page.getByRole('form', { name: 'Import definitions' }).getByRole('status'),
      "Imported rabbit.json: 1 policy. Not imported (1): section 'some_plugin_section'.",
      { exact: true },
    );
    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    await hasText(row(page, '/', 'e2e-imported').locator('td[data-col="definition"]'), 'max-length=7', { exact: true });
    await api('DELETE', `/policies/${vh('/')}/e2e-imported`);
  });

  it('gives a policymaker Admin › Policies and nothing else of Admin', async () => {
    await api('PUT', '/users/e2e-pm', { password: 'pm-pw', tags: 'policymaker' });
    await api('PUT', `/permissions/${vh('/')}/e2e-pm`, { configure: '.*', write: '.*', read: '.*' });
    const page = await open('#/', ['e2e-pm', 'pm-pw']);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin: Policies' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link').allTextContents()).toEqual(['Policies']);
    const form = policyForm(page);
    await form.getByLabel('Name').fill('e2e-pm-policy');
    await form.getByLabel('Pattern').fill('^e2e-pm-');
    await form.getByRole('button', { name: 'max-length', exact: true }).click();
    await form.getByLabel('Definition: value 1').fill('10');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await hasText(form.getByRole('status'), 'Policy e2e-pm-policy in / added.', { exact: true });
    await row(page, '/', 'e2e-pm-policy').waitFor();

    await page.goto(`${suite.warren().url}/#/admin/operator-policies`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await api('DELETE', `/policies/${vh('/')}/e2e-pm-policy`);
    await api('DELETE', '/users/e2e-pm');
  });

  it('sets a max-queues limit on a virtual host in the console and clears it', async () => {
    const page = await open('#/admin/vhosts');
    const form = page.getByRole('form', { name: 'Virtual host limits' });
    await form.getByLabel('Virtual host').selectOption('/');
    await form.getByLabel('Limit').selectOption('max-queues');
    await form.getByLabel('Value').fill('many');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await hasText(form.getByRole('alert'), 'max-queues must be a whole number ≥ 0, not "many".', { exact: true });

    await form.getByLabel('Value').fill('500');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await hasText(form.getByRole('status'), 'max-queues of / set to 500.', { exact: true });
    expect(await api('GET', `/vhost-limits/${vh('/')}`)).toEqual([{ vhost: '/', value: { 'max-queues': 500 } }]);
    await hasText(row(page, '/').locator('td[data-col="max-queues"]'), '500', { exact: true });
    await hasText(row(page, '/').locator('td[data-col="max-connections"]'), 'no limit', { exact: true });
    await screenshot(page, 'admin-vhost-limits');

    // The Limits button of a row prefills the form with that vhost's value.
    await form.getByLabel('Value').fill('');
    await row(page, '/').getByRole('button', { name: 'Edit limits of virtual host /' }).click();
    expect(await form.getByLabel('Value').inputValue()).toBe('500');

    // 0 allows no new queue: the queue form then shows the server's refusal.
    await form.getByLabel('Value').fill('0');
    await form.getByRole('button', { name: 'Set limit' }).click();
    await hasText(row(page, '/').locator('td[data-col="max-queues"]'), '0', { exact: true });
    await page.goto(`${suite.warren().url}/#/queues`);
    await openPanel(page, 'Add a new queue');
    const addQueue = page.getByRole('form', { name: 'Add queue' });
    await addQueue.getByLabel('Name').fill('e2e-over-limit');
    await addQueue.getByRole('button', { name: 'Add queue' }).click();
    await hasText(addQueue.getByRole('alert'), "queue limit in vhost '/' (0) is reached");

    await page.goto(`${suite.warren().url}/#/admin/vhosts`);
    await form.getByLabel('Limit').selectOption('max-queues');
    await form.getByRole('button', { name: 'Clear limit' }).click();
    await hasText(form.getByRole('status'), 'max-queues of / cleared.', { exact: true });
    await hasText(row(page, '/').locator('td[data-col="max-queues"]'), 'no limit', { exact: true });
    expect(await api('GET', `/vhost-limits/${vh('/')}`)).toEqual([]);
  });
});
