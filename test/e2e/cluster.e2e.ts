/** The Cluster page: a single node says so; a (faked) three-node cluster shows its nodes, leader, ISR and lag. */
import { describe, expect, it } from 'vitest';
import type { ClusteredStatus } from '../../src/cluster/cluster-status.js';
import { hasCount, hasText, row, screenshot, useConsole } from './support.js';

describe('the Cluster page on a single node', () => {
  const { open, api } = useConsole();

  it('says the broker is a single node, and is offered to monitoring users only', async () => {
    const { name } = await api<{ name: string }>('GET', '/cluster-name');
    const page = await open('#/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('heading', { name: 'Cluster', level: 1 }).waitFor();
    await hasText(page.locator('[data-cluster=single]'), `Single node: ${name} runs without --cluster`);
    expect(await page.locator('[data-cluster=nodes]').isHidden()).toBe(true);
    await screenshot(page, 'cluster-single');

    await api('PUT', '/users/e2e-cluster-manager', { password: 'manage-pw', tags: 'management' });
    const managerPage = await open('#/', ['e2e-cluster-manager', 'manage-pw']);
    const nav = managerPage.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Queues' }).waitFor();
    await hasCount(nav.getByRole('link', { name: 'Cluster' }), 0);
  });
});

describe('the Cluster page on a three-node cluster', () => {
  let status: ClusteredStatus = {
    cluster: true,
    node: 'node-a',
    role: 'leader',
    epoch: '12',
    leader: 'node-a',
    minInsync: 2,
    isr: ['node-a', 'node-b'],
    members: [
      { nodeId: 'node-c', advertise: 'http://10.0.0.3:15672', role: 'follower', state: 'catching-up', ackedSeq: 0, lagEntries: 4200 },
      { nodeId: 'node-b', advertise: 'http://10.0.0.2:15672', role: 'follower', state: 'in-sync', ackedSeq: 41, lagEntries: 1 },
      { nodeId: 'node-a', advertise: 'http://10.0.0.1:15672', role: 'leader', state: 'leader' },
    ],
  };
  const { open } = useConsole({ clusterStatus: () => status });

  it('lists the nodes, leader first, with role, state, ISR membership and lag, and follows changes', async () => {
    const page = await open('#/cluster');
    await hasCount(page.locator('table.data tbody tr:not(.empty)'), 3);
    expect(await page.locator('table.data tbody tr td:first-child').allTextContents()).toEqual(['node-a', 'node-b', 'node-c']);
    await hasText(page.locator('[data-stat=leader]'), 'node-a', { exact: true });
    await hasText(page.locator('[data-stat=epoch]'), '12', { exact: true });
    await hasText(page.locator('[data-stat=isr]'), '2 of 3', { exact: true });
    await hasText(page.locator('[data-stat=min-insync]'), '2', { exact: true });
    await hasText(row(page, 'node-c'), 'catching-up');
    await hasText(row(page, 'node-c'), '4,200');
    await hasText(row(page, 'node-b'), 'in-sync');
    expect(await page.locator('[data-cluster=single]').isHidden()).toBe(true);
    await screenshot(page, 'cluster-nodes');

    // node-c caught up and joined the ISR: the page shows it on its next refresh.
    status = { ...status, isr: ['node-a', 'node-b', 'node-c'], members: status.members.map((m) => (m.nodeId === 'node-c' ? { ...m, state: 'in-sync', ackedSeq: 4242, lagEntries: 0 } : m)) };
    await hasText(page.locator('[data-stat=isr]'), '3 of 3', { exact: true });
    await hasText(row(page, 'node-c'), 'in-sync');
  });
});
