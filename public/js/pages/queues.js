// @ts-check
/**
 * Queues: server-paged list (stays fast with 10,000 queues), filter by substring or regex, sort, bulk
 * purge/delete of the selected queues, and a form to add one.
 */
import { api, path } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { num, pickNumber, rate } from '../format.js';
import { ArgumentsEditor, Status, checkField, confirmAction, field, input, onSubmit, panel, select, submit } from '../forms.js';
import { PagedList, fillVhostSelect } from '../list.js';
import * as router from '../router.js';
import { rowKey } from '../table.js';
import { stateBadge } from './connections.js';
import { featuresCell } from './exchanges.js';

/**
 * @typedef {Object} Queue
 * @property {string} name
 * @property {string} vhost
 * @property {string} [type]
 * @property {string} [state]
 * @property {boolean} durable
 * @property {boolean} auto_delete
 * @property {boolean} exclusive
 * @property {Record<string, unknown>} arguments
 * @property {number} [consumers]
 * @property {number} [messages]
 * @property {number} [messages_ready]
 * @property {number} [messages_unacknowledged]
 * @property {string | null} [policy]
 * @property {string | null} [operator_policy]
 * @property {Record<string, unknown>} [effective_policy_definition]
 */

const COLUMNS = [
  'name',
  'vhost',
  'type',
  'state',
  'durable',
  'auto_delete',
  'exclusive',
  'arguments',
  'policy',
  'operator_policy',
  'effective_policy_definition',
  'consumers',
  'messages',
  'messages_ready',
  'messages_unacknowledged',
  'message_stats.publish_details.rate',
  'message_stats.deliver_get_details.rate',
  'message_stats.ack_details.rate',
].join(',');

/** Queue arguments with their types, offered as shortcuts. */
export const QUEUE_ARGUMENTS = /** @type {const} */ ([
  { key: 'x-message-ttl', type: 'number', hint: 'ms a message may stay' },
  { key: 'x-expires', type: 'number', hint: 'ms unused before the queue is deleted' },
  { key: 'x-max-length', type: 'number', hint: 'most ready messages' },
  { key: 'x-max-length-bytes', type: 'number', hint: 'most ready bytes' },
  { key: 'x-overflow', type: 'string', hint: 'drop-head or reject-publish' },
  { key: 'x-dead-letter-exchange', type: 'string', hint: 'where dropped messages go' },
  { key: 'x-dead-letter-routing-key', type: 'string' },
  { key: 'x-single-active-consumer', type: 'boolean' },
  { key: 'x-max-priority', type: 'number' },
  { key: 'x-queue-mode', type: 'string', hint: 'default or lazy' },
]);

/** @param {{vhost: string, name: string}} q */
export function queueHref(q) {
  return router.href(['queues', q.vhost, q.name]);
}

/** @param {Queue} q */
const queueKey = (q) => rowKey(q.vhost, q.name);

/** @type {import('../app.js').PageFn} */
export function mountQueues(root, _params, location, ctx) {
  ctx.title('Queues');
  const bulkStatus = new Status();
  const selectedCount = h('span', { class: 'selected-count', 'aria-live': 'polite' });
  const purgeSelected = h('button', { type: 'button', text: 'Purge selected', disabled: true });
  const deleteSelected = h('button', { type: 'button', class: 'danger', text: 'Delete selected', disabled: true });
  const clearSelection = h('button', { type: 'button', class: 'link', text: 'Clear selection', hidden: true });

  const toolbar = h(
    'div',
    null,
    h('div', { class: 'bulk-bar', role: 'group', 'aria-label': 'Selected queues' }, selectedCount, purgeSelected, deleteSelected, clearSelection),
    bulkStatus.element,
  );
  /** @type {PagedList<Queue>} */
  const list = new PagedList(ctx, location, {
    toolbar,
    route: ['queues'],
    noun: 'queues',
    resource: 'queues',
    columns: COLUMNS,
    defaultSort: 'name',
    perVhost: true,
    intervalMs: 2000,
    table: {
      caption: 'Queues',
      key: queueKey,
      empty: 'No queues.',
      selectable: true,
      rowLabel: (q) => `queue ${q.name} in ${q.vhost}`,
      onSelect: (selected) => {
        const n = selected.size;
        setText(selectedCount, n ? `${num(n)} selected` : '');
        purgeSelected.disabled = deleteSelected.disabled = n === 0;
        clearSelection.hidden = n === 0;
      },
      columns: [
        { id: 'name', label: 'Name', sort: 'name', text: (q) => q.name, href: (q) => queueHref(q) },
        { id: 'vhost', label: 'Virtual host', sort: 'vhost', text: (q) => q.vhost },
        { id: 'type', label: 'Type', sort: 'type', text: (q) => q.type ?? 'classic' },
        { id: 'features', label: 'Features', create: featuresCell.create, update: (el, q) => featuresCell.update(el, q) },
        { id: 'state', label: 'State', sort: 'state', create: () => h('span', { class: 'badge' }), update: (el, q) => stateBadge(el, q.state) },
        { id: 'consumers', label: 'Consumers', numeric: true, sort: 'consumers', text: (q) => num(q.consumers ?? 0) },
        { id: 'ready', label: 'Ready', numeric: true, sort: 'messages_ready', text: (q) => num(q.messages_ready ?? 0) },
        { id: 'unacked', label: 'Unacked', numeric: true, sort: 'messages_unacknowledged', text: (q) => num(q.messages_unacknowledged ?? 0) },
        { id: 'total', label: 'Total', numeric: true, sort: 'messages', text: (q) => num(q.messages ?? 0) },
        { id: 'in', label: 'Incoming', numeric: true, sort: 'message_stats.publish_details.rate', text: (q) => rate(pickNumber(q, 'message_stats.publish_details.rate') ?? 0) },
        {
          id: 'out',
          label: 'Deliver / get',
          numeric: true,
          sort: 'message_stats.deliver_get_details.rate',
          text: (q) => rate(pickNumber(q, 'message_stats.deliver_get_details.rate') ?? 0),
        },
        { id: 'ack', label: 'Ack', numeric: true, sort: 'message_stats.ack_details.rate', text: (q) => rate(pickNumber(q, 'message_stats.ack_details.rate') ?? 0) },
      ],
    },
  });

  /** Selected queues as {vhost, name}, from their keys (they may be on other pages). */
  const selection = () =>
    [...list.table.selected].map((key) => {
      const [vhost = '', name = ''] = /** @type {string[]} */ (JSON.parse(key));
      return { vhost, name };
    });

  /**
   * Runs an action on every selected queue, reporting each failure by name.
   * @param {'purge' | 'delete'} action
   */
  async function bulk(action) {
    const queues = selection();
    const ok = await confirmAction({
      title: action === 'purge' ? `Purge ${queues.length} queues?` : `Delete ${queues.length} queues?`,
      message:
        action === 'purge'
          ? `Remove every ready message from ${describeSelection(queues)}. This cannot be undone.`
          : `Delete ${describeSelection(queues)} with their messages and bindings. This cannot be undone.`,
      confirm: action === 'purge' ? 'Purge queues' : 'Delete queues',
    });
    if (!ok) return;
    bulkStatus.clear();
    purgeSelected.disabled = deleteSelected.disabled = true;
    /** @type {string[]} */
    const failures = [];
    let done = 0;
    // A few at a time: fast, without flooding the server.
    const queue = [...queues];
    const worker = async () => {
      for (let q = queue.shift(); q; q = queue.shift()) {
        try {
          if (action === 'purge') await api.del(path`/queues/${q.vhost}/${q.name}/contents`);
          else await api.del(path`/queues/${q.vhost}/${q.name}`);
          done += 1;
          if (action === 'delete') list.table.selected.delete(rowKey(q.vhost, q.name));
        } catch (error) {
          failures.push(`${q.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (action === 'delete') list.table.options.onSelect?.(list.table.selected);
    else purgeSelected.disabled = deleteSelected.disabled = list.table.selected.size === 0;
    const verb = action === 'purge' ? 'Purged' : 'Deleted';
    if (failures.length) bulkStatus.error(`${verb} ${done} of ${queues.length} queues. Failed: ${failures.join('; ')}`);
    else bulkStatus.ok(`${verb} ${done} queue${done === 1 ? '' : 's'}.`);
    list.poller?.now();
  }

  purgeSelected.addEventListener('click', () => void bulk('purge'));
  deleteSelected.addEventListener('click', () => void bulk('delete'));
  clearSelection.addEventListener('click', () => list.table.clearSelection());

  replaceChildren(
    root,
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Queues' })),
    list.element,
    addQueueForm(ctx, list.state.vhost, () => list.poller?.now()),
  );
  return { update: (next) => list.update(next) };
}

/** @param {Array<{vhost: string, name: string}>} queues */
function describeSelection(queues) {
  const names = queues.slice(0, 5).map((q) => `"${q.name}"`);
  return queues.length > 5 ? `${names.join(', ')} and ${queues.length - 5} more` : names.join(', ');
}

/**
 * @param {import('../app.js').PageContext} ctx @param {string} vhost preselected
 * @param {() => void} onAdded
 */
function addQueueForm(ctx, vhost, onAdded) {
  const status = new Status();
  const vhostSel = select([], { required: true });
  vhostSel.dataset.wanted = vhost || '/';
  fillVhostSelect(vhostSel, status, ctx.signal);
  const name = input({ required: true, name: 'name' });
  const durability = select([
    { value: 'true', label: 'Durable' },
    { value: 'false', label: 'Transient' },
  ]);
  const autoDelete = h('input', { type: 'checkbox' });
  const args = new ArgumentsEditor('Arguments', { known: [...QUEUE_ARGUMENTS] });
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': 'Add queue' },
    field('Virtual host', vhostSel),
    field('Name', name),
    field('Durability', durability),
    h('div', { class: 'field-group' }, checkField('Auto-delete', autoDelete)),
    args.element,
    h('div', { class: 'actions' }, submit('Add queue')),
    status.element,
  );
  onSubmit(form, status, async () => {
    if (!name.value) throw new Error('Give the queue a name.');
    await api.put(path`/queues/${vhostSel.value}/${name.value}`, {
      durable: durability.value === 'true',
      auto_delete: autoDelete.checked,
      arguments: args.value(),
    });
    const added = name.value;
    name.value = '';
    args.reset();
    onAdded();
    return `Queue "${added}" declared.`;
  });
  return panel('Add a new queue', form);
}
