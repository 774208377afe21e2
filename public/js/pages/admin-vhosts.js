// @ts-check
/** Admin › Virtual hosts: list with message counts and limits, add, set or clear limits, delete (typing the name to confirm). */
import { api, path } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { num } from '../format.js';
import { Status, confirmAction, field, input, onSubmit, submit } from '../forms.js';
import { PagedList } from '../list.js';
import { rowKey } from '../table.js';
import * as router from '../router.js';
import { adminHead } from './admin-nav.js';
import { limitText, limitsForm, loadLimits } from './vhost-limits.js';

/** @typedef {{name: string, description?: string, tags?: string[], messages?: number, messages_ready?: number, messages_unacknowledged?: number, limits?: import('./vhost-limits.js').Limits}} Vhost */

/** @type {import('../app.js').PageFn} */
export function mountVhosts(root, _params, location, ctx) {
  ctx.title('Virtual hosts');
  const status = new Status();

  /** @param {Vhost} v */
  async function remove(v) {
    const ok = await confirmAction({
      title: `Delete virtual host ${v.name}?`,
      message: `Delete "${v.name}" with all its queues (${num(v.messages ?? 0)} messages), exchanges, bindings and permissions, and close its connections. This cannot be undone.`,
      confirm: 'Delete virtual host',
      typeToConfirm: v.name,
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/vhosts/${v.name}`);
      status.ok(`Virtual host ${v.name} deleted.`);
      list.poller?.now();
    } catch (error) {
      status.error(error);
    }
  }

  const limits = limitsForm(ctx, () => list.poller?.now());
  /** @type {PagedList<Vhost>} */
  const list = new PagedList(ctx, location, {
    route: ['admin', 'vhosts'],
    noun: 'virtual hosts',
    resource: 'vhosts',
    columns: 'name,description,tags,messages,messages_ready,messages_unacknowledged',
    defaultSort: 'name',
    intervalMs: 5000,
    // Limits come from their own endpoint; a failure there is shown, the list still is.
    enrich: async (items) => {
      try {
        const limits = await loadLimits(ctx.signal);
        return items.map((v) => ({ ...v, limits: limits.get(v.name) }));
      } catch (error) {
        if (!ctx.signal.aborted) status.error(error);
        return items;
      }
    },
    table: {
      caption: 'Virtual hosts',
      key: (v) => rowKey(v.name),
      empty: 'No virtual hosts.',
      columns: [
        { id: 'name', label: 'Name', sort: 'name', text: (v) => v.name, href: (v) => router.href(['queues'], { vhost: v.name }) },
        { id: 'description', label: 'Description', text: (v) => v.description ?? '' },
        { id: 'tags', label: 'Tags', text: (v) => (v.tags ?? []).join(', ') },
        { id: 'ready', label: 'Ready', numeric: true, sort: 'messages_ready', text: (v) => num(v.messages_ready ?? 0) },
        { id: 'unacked', label: 'Unacked', numeric: true, sort: 'messages_unacknowledged', text: (v) => num(v.messages_unacknowledged ?? 0) },
        { id: 'total', label: 'Total', numeric: true, sort: 'messages', text: (v) => num(v.messages ?? 0) },
        { id: 'max-connections', label: 'Max connections', text: (v) => limitText(v.limits, 'max-connections') },
        { id: 'max-queues', label: 'Max queues', text: (v) => limitText(v.limits, 'max-queues') },
        {
          id: 'actions',
          label: 'Actions',
          create: () => h('span', { class: 'row-actions' }, h('button', { type: 'button', class: 'small', text: 'Limits' }), h('button', { type: 'button', class: 'small danger', text: 'Delete' })),
          update: (el, v) => {
            const [limitsButton, deleteButton] = /** @type {HTMLButtonElement[]} */ ([...el.children]);
            if (limitsButton) {
              limitsButton.onclick = () => limits.edit(v.name, v.limits);
              limitsButton.setAttribute('aria-label', `Edit limits of virtual host ${v.name}`);
            }
            if (deleteButton) {
              deleteButton.onclick = () => void remove(v);
              deleteButton.setAttribute('aria-label', `Delete virtual host ${v.name}`);
            }
          },
        },
      ],
    },
  });

  const formStatus = new Status();
  const name = input({ required: true });
  const description = input();
  const tags = input({ placeholder: 'comma-separated' });
  const form = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'add-vhost-title' },
    h('h2', { id: 'add-vhost-title', text: 'Add a virtual host' }),
    field('Name', name),
    field('Description', description),
    field('Tags', tags),
    h('div', { class: 'actions' }, submit('Add virtual host')),
    formStatus.element,
  );
  onSubmit(form, formStatus, async () => {
    if (!name.value) throw new Error('Give the virtual host a name.');
    await api.put(path`/vhosts/${name.value}`, { description: description.value, tags: tags.value });
    const added = name.value;
    name.value = description.value = tags.value = '';
    list.poller?.now();
    return `Virtual host ${added} saved; you were given full permissions on it.`;
  });

  replaceChildren(root, ...adminHead('vhosts', 'Virtual hosts'), status.element, list.element, form, limits.element);
  return { update: (next) => list.update(next) };
}
