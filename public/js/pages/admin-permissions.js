// @ts-check
/** Admin › Permissions: who may configure, write and read what in each virtual host. */
import { api, path } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { Status, confirmAction, field, input, onSubmit, select, setOptions, submit } from '../forms.js';
import { fillVhostSelect } from '../list.js';
import * as router from '../router.js';
import { DataTable, rowKey } from '../table.js';
import { adminHead } from './admin-nav.js';

/** @typedef {{user: string, vhost: string, configure: string, write: string, read: string}} Permission */

/** @type {import('../app.js').PageFn} */
export function mountPermissions(root, _params, location, ctx) {
  ctx.title('Permissions');
  const status = new Status();
  let vhostFilter = location.query.get('vhost') ?? '';
  const filter = select([{ value: '', label: 'All virtual hosts' }]);
  filter.dataset.wanted = vhostFilter;
  fillVhostSelect(filter, status, ctx.signal, { all: true });
  filter.addEventListener('change', () => router.go(router.href(['admin', 'permissions'], { vhost: filter.value })));

  /** @param {Permission} p */
  async function remove(p) {
    const ok = await confirmAction({
      title: 'Remove permissions?',
      message: `Remove all permissions of ${p.user} in virtual host "${p.vhost}"? The user can no longer use that virtual host.`,
      confirm: 'Remove permissions',
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/permissions/${p.vhost}/${p.user}`);
      status.ok(`Permissions of ${p.user} in ${p.vhost} removed.`);
      poller.now();
    } catch (error) {
      status.error(error);
    }
  }

  /** @type {DataTable<Permission>} */
  const table = new DataTable({
    caption: 'Permissions',
    key: (p) => rowKey(p.vhost, p.user),
    empty: 'No permissions.',
    columns: [
      { id: 'vhost', label: 'Virtual host', text: (p) => p.vhost },
      { id: 'user', label: 'User', text: (p) => p.user },
      { id: 'configure', label: 'Configure', text: (p) => p.configure || '(nothing)' },
      { id: 'write', label: 'Write', text: (p) => p.write || '(nothing)' },
      { id: 'read', label: 'Read', text: (p) => p.read || '(nothing)' },
      {
        id: 'actions',
        label: 'Actions',
        create: () => h('span', { class: 'row-actions' }, h('button', { type: 'button', class: 'small', text: 'Edit' }), h('button', { type: 'button', class: 'small danger', text: 'Remove' })),
        update: (el, p) => {
          const [editButton, removeButton] = /** @type {HTMLButtonElement[]} */ ([...el.children]);
          if (editButton) {
            editButton.onclick = () => fill(p);
            editButton.setAttribute('aria-label', `Edit permissions of ${p.user} in ${p.vhost}`);
          }
          if (removeButton) {
            removeButton.onclick = () => void remove(p);
            removeButton.setAttribute('aria-label', `Remove permissions of ${p.user} in ${p.vhost}`);
          }
        },
      },
    ],
  });

  const poller = ctx.every(5000, async () => {
    const all = /** @type {Permission[]} */ (await api.get(vhostFilter ? path`/vhosts/${vhostFilter}/permissions` : '/permissions', undefined, ctx.signal));
    table.setRows(all);
  });

  // Setting permissions.
  const formStatus = new Status();
  const user = select([], { required: true });
  const vhost = select([], { required: true });
  vhost.dataset.wanted = vhostFilter || '/';
  fillVhostSelect(vhost, formStatus, ctx.signal);
  api
    .get('/users', { columns: 'name' }, ctx.signal)
    .then((/** @type {Array<{name: string}>} */ users) => setOptions(user, users.map((u) => u.name)))
    .catch((error) => formStatus.error(error));
  const configure = input({ value: '.*' });
  const write = input({ value: '.*' });
  const read = input({ value: '.*' });
  const form = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'set-perm-title' },
    h('h2', { id: 'set-perm-title', text: 'Set permissions' }),
    field('User', user),
    field('Virtual host', vhost),
    field('Configure regexp', configure, { hint: 'Names of queues and exchanges the user may declare and delete.' }),
    field('Write regexp', write, { hint: 'Exchanges it may publish to, queues it may bind.' }),
    field('Read regexp', read, { hint: 'Queues it may consume from, exchanges it may bind from.' }),
    h('div', { class: 'actions' }, submit('Set permissions')),
    formStatus.element,
  );
  /** @param {Permission} p */
  function fill(p) {
    user.value = p.user;
    vhost.value = p.vhost;
    configure.value = p.configure;
    write.value = p.write;
    read.value = p.read;
    configure.focus();
  }
  onSubmit(form, formStatus, async () => {
    for (const [label, el] of /** @type {const} */ ([['Configure', configure], ['Write', write], ['Read', read]])) {
      try {
        new RegExp(el.value);
      } catch {
        throw new Error(`${label}: "${el.value}" is not a valid regular expression.`);
      }
    }
    await api.put(path`/permissions/${vhost.value}/${user.value}`, { configure: configure.value, write: write.value, read: read.value });
    poller.now();
    return `Permissions of ${user.value} in ${vhost.value} set.`;
  });

  replaceChildren(root, ...adminHead('permissions', 'Permissions'), h('div', { class: 'list-controls' }, field('Virtual host', filter)), status.element, table.element, form);
  return {
    update(next) {
      vhostFilter = next.query.get('vhost') ?? '';
      filter.dataset.wanted = vhostFilter;
      if ([...filter.options].some((o) => o.value === vhostFilter)) filter.value = vhostFilter;
      poller.now();
    },
  };
}
