/** Admin pages in a real browser: users, permissions, virtual hosts, definitions export and import. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasText, row, screenshot, useConsole } from './support.js';

const suite = useConsole();
const { open, api } = suite;

describe('admin', () => {
  it('administers users, permissions, virtual hosts and definitions', async () => {
    const page = await open('#/admin/users');
    const add = page.getByRole('form', { name: 'Add a user' });
    await add.getByLabel('Username').fill('e2e-ops');
    await add.getByLabel('Password', { exact: true }).fill('ops-pw-1');
    await add.getByLabel('Repeat password').fill('ops-pw-1');
    await add.getByLabel('management').check();
    await add.getByRole('button', { name: 'Add user' }).click();
    await hasText(add.getByRole('status'), 'User e2e-ops saved');
    const user = row(page, 'e2e-ops');
    await hasText(user, 'management');

    // Change the password (tags kept).
    await user.getByRole('button', { name: 'Edit user e2e-ops' }).click();
    const edit = page.getByRole('form', { name: /Edit user/ });
    await edit.getByLabel('New password').fill('ops-pw-2');
    await edit.getByLabel('monitoring').check();
    await edit.getByRole('button', { name: 'Save user' }).click();
    await hasText(edit.getByRole('status'), 'New password and tags of e2e-ops saved');
    expect((await api<{ tags: string[] }>('GET', '/whoami', undefined, ['e2e-ops', 'ops-pw-2'])).tags.sort()).toEqual(['management', 'monitoring']);
    await screenshot(page, 'admin-users');

    // Virtual hosts.
    await page.getByRole('link', { name: 'Virtual hosts' }).click();
    const addVhost = page.getByRole('form', { name: 'Add a virtual host' });
    await addVhost.getByLabel('Name').fill('e2e-vh');
    await addVhost.getByLabel('Description').fill('for the browser tests');
    await addVhost.getByRole('button', { name: 'Add virtual host' }).click();
    await hasText(addVhost.getByRole('status'), 'Virtual host e2e-vh saved');
    await row(page, 'e2e-vh').waitFor();
    await screenshot(page, 'admin-vhosts');

    // Permissions for the new user there.
    await page.getByRole('link', { name: 'Permissions' }).click();
    const perm = page.getByRole('form', { name: 'Set permissions' });
    await perm.getByLabel('User').selectOption('e2e-ops');
    await perm.getByLabel('Virtual host').selectOption('e2e-vh');
    await perm.getByLabel('Configure regexp').fill('^ops\\.');
    await perm.getByRole('button', { name: 'Set permissions' }).click();
    await hasText(perm.getByRole('status'), 'Permissions of e2e-ops in e2e-vh set');
    await row(page, 'e2e-vh', 'e2e-ops').waitFor();
    const perms = await api<{ configure: string; read: string }>('GET', `/permissions/e2e-vh/e2e-ops`);
    expect(perms).toMatchObject({ configure: '^ops\\.', read: '.*' });
    await screenshot(page, 'admin-permissions');

    // Export downloads JSON; importing it back succeeds.
    await page.getByRole('link', { name: 'Definitions' }).click();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download JSON' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^warren-definitions-\d{4}-\d\d-\d\d\.json$/);
    const path = await file.path();
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { users: Array<{ name: string }>; vhosts: Array<{ name: string }> };
    expect(doc.users.map((u) => u.name)).toContain('e2e-ops');
    expect(doc.vhosts.map((v) => v.name)).toContain('e2e-vh');

    await api('DELETE', '/users/e2e-ops');
    await page.getByLabel('Definitions file').setInputFiles(path);
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await hasText(page.getByRole('form', { name: 'Import definitions' }).getByRole('status'), 'Imported');
    await api('GET', '/users/e2e-ops');
    await screenshot(page, 'admin-definitions');

    // Deleting a vhost asks for its name.
    await page.getByRole('link', { name: 'Virtual hosts' }).click();
    await page.getByRole('button', { name: 'Delete virtual host e2e-vh' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByRole('button', { name: 'Delete virtual host' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Type "e2e-vh" to confirm').fill('e2e-vh');
    await dialog.getByRole('button', { name: 'Delete virtual host' }).click();
    await row(page, 'e2e-vh').waitFor({ state: 'detached' });
    await expect(api('GET', '/vhosts/e2e-vh')).rejects.toThrow(/404/);
  });
});
