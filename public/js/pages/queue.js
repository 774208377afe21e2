// @ts-check
/**
 * One queue: live counts and charts, consumers, bindings, browsing ready messages without consuming them
 * (peek), getting messages, moving them and retrying dead letters, publishing to it, purging and deleting it.
 */
import { api, ApiError, path } from '../api.js';
import { queueBindings } from '../bindings.js';
import { LiveCharts, rangePicker } from '../chart.js';
import { h, replaceChildren, setText } from '../dom.js';
import { bytes, features, num, pickNumber, rate } from '../format.js';
import { Status, checkField, confirmAction, onClick, panel } from '../forms.js';
import { policyFacts } from '../policy-facts.js';
import { publishForm } from '../publish.js';
import * as router from '../router.js';
import { DataTable, rowKey } from '../table.js';
import { stateBadge } from './connections.js';
import { browseSection, getSection } from './queue-messages.js';
import { moveSection, retrySection } from './queue-relocate.js';
import { traceLink } from './trace.js';

const RATE_KEYS = [
  { key: 'publish', label: 'Publish' },
  { key: 'deliver_get', label: 'Deliver' },
  { key: 'ack', label: 'Ack' },
  { key: 'redeliver', label: 'Redeliver' },
];
const LENGTH_KEYS = [
  { key: 'messages_ready', label: 'Ready' },
  { key: 'messages_unacknowledged', label: 'Unacked' },
];

/**
 * @typedef {Object} ConsumerDetails
 * @property {string} consumer_tag
 * @property {boolean} ack_required
 * @property {number} prefetch_count
 * @property {boolean} exclusive
 * @property {boolean} [active]
 * @property {Record<string, unknown>} [arguments]
 * @property {{connection_name?: string, user?: string, peer_host?: string, peer_port?: number}} [channel_details]
 */

/** @type {import('../app.js').PageFn} */
export function mountQueue(root, params, location, ctx) {
  const [vhost = '/', name = ''] = params;
  ctx.title(`Queue ${name}`);
  const status = new Status();
  const stateEl = h('span', { class: 'badge' });
  const stats = h('dl', { class: 'stats' });
  const info = h('dl', { class: 'facts' });
  const policies = policyFacts(ctx, vhost, { effective: true });
  const charts = new LiveCharts({
    rangeId: location.query.get('range') ?? '600',
    lengths: { title: 'Queued messages', id: 'queue-lengths', series: LENGTH_KEYS, from: (q) => q },
    rates: { title: 'Message rates', id: 'queue-rates', series: RATE_KEYS, from: (q) => q.message_stats },
  });
  const picker = rangePicker(charts.rangeId, (id) => router.go(router.href(['queues', vhost, name], { range: id })));
  /** The latest counts, once known. @type {{ready: number | null}} */
  const latest = { ready: null };
  const readyText = () => (latest.ready === null ? 'its' : `${num(latest.ready)}`);

  /** @type {DataTable<ConsumerDetails>} */
  const consumers = new DataTable({
    caption: 'Consumers',
    key: (c) => rowKey(c.consumer_tag),
    empty: 'No consumers.',
    columns: [
      { id: 'tag', label: 'Consumer tag', text: (c) => c.consumer_tag },
      { id: 'connection', label: 'Connection', text: (c) => c.channel_details?.connection_name ?? '–' },
      { id: 'user', label: 'User', text: (c) => c.channel_details?.user ?? '–' },
      { id: 'prefetch', label: 'Prefetch', numeric: true, text: (c) => (c.prefetch_count ? num(c.prefetch_count) : 'unlimited') },
      { id: 'ack', label: 'Ack mode', text: (c) => (c.ack_required ? 'manual ack' : 'automatic ack') },
      { id: 'exclusive', label: 'Exclusive', text: (c) => (c.exclusive ? 'yes' : 'no') },
      { id: 'active', label: 'Active', text: (c) => (c.active === false ? 'waiting' : 'yes') },
      { id: 'args', label: 'Arguments', text: (c) => (c.arguments && Object.keys(c.arguments).length ? JSON.stringify(c.arguments) : '') },
    ],
  });

  // Purge and delete.
  const dangerStatus = new Status();
  const purgeButton = h('button', { type: 'button', text: 'Purge messages' });
  const deleteButton = h('button', { type: 'button', class: 'danger', text: 'Delete queue' });
  const ifEmpty = h('input', { type: 'checkbox' });
  const ifUnused = h('input', { type: 'checkbox' });
  onClick(purgeButton, dangerStatus, async () => {
    const ok = await confirmAction({
      title: `Purge queue ${name}?`,
      message: `Remove all ${readyText()} ready messages from "${name}". Unacknowledged messages stay. This cannot be undone.`,
      confirm: 'Purge',
    });
    if (!ok) return;
    await api.del(path`/queues/${vhost}/${name}/contents`);
    poller.now();
    return 'Queue purged.';
  });
  onClick(deleteButton, dangerStatus, async () => {
    const conditions = [ifEmpty.checked ? 'only if it is empty' : '', ifUnused.checked ? 'only if it has no consumers' : ''].filter(Boolean);
    const ok = await confirmAction({
      title: `Delete queue ${name}?`,
      message: `Delete the queue "${name}" in virtual host "${vhost}" with ${latest.ready === null ? 'its' : `its ${num(latest.ready)}`} ready messages and its bindings${conditions.length ? ` (${conditions.join(', ')})` : ''}. This cannot be undone.`,
      confirm: 'Delete queue',
    });
    if (!ok) return;
    await api.del(path`/queues/${vhost}/${name}`, { 'if-empty': ifEmpty.checked ? 'true' : undefined, 'if-unused': ifUnused.checked ? 'true' : undefined });
    router.go(router.href(['queues'], { vhost }));
  });

  replaceChildren(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: router.href(['queues'], { vhost }), text: 'Queues' }), ` › ${vhost} ›`),
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1 }, `Queue ${name} `, stateEl), traceLink(ctx, { vhost, queue: name }), picker.element),
    status.element,
    stats,
    info,
    policies.element,
    h('section', { class: 'charts', 'aria-label': 'Charts' }, ...charts.elements),
    h('section', { 'aria-labelledby': 'consumers-title' }, h('h2', { id: 'consumers-title', text: 'Consumers' }), consumers.element),
    queueBindings(ctx, vhost, name),
    browseSection(ctx, vhost, name),
    panel('Get messages', getSection(vhost, name, () => poller.now())),
    panel('Move messages', moveSection(ctx, vhost, name, () => poller.now())),
    panel('Retry dead letters', retrySection(vhost, name, () => poller.now())),
    panel('Publish message', publishForm({ vhost, exchange: '', routingKey: name, title: `Publish to queue ${name}` })),
    h(
      'section',
      { class: 'danger-zone', 'aria-labelledby': 'danger-title' },
      h('h2', { id: 'danger-title', text: 'Purge or delete' }),
      h('div', { class: 'actions' }, purgeButton),
      h('div', { class: 'field-group' }, checkField('Only if empty', ifEmpty), checkField('Only if unused', ifUnused)),
      h('div', { class: 'actions' }, deleteButton),
      dangerStatus.element,
    ),
  );

  /** @type {Map<string, HTMLElement>} */
  const statEls = new Map();
  /** @param {HTMLElement} parent @param {string} label @param {string} value */
  function put(parent, label, value) {
    let dd = statEls.get(label);
    if (!dd) {
      dd = h('dd', { 'data-stat': label });
      statEls.set(label, dd);
      parent.append(h('div', { class: parent === stats ? 'stat' : 'fact' }, h('dt', { text: label }), dd));
    }
    setText(dd, value);
  }

  const poller = ctx.every(1000, async () => {
    try {
      const q = await charts.poll((query) => api.get(path`/queues/${vhost}/${name}`, query, ctx.signal));
      latest.ready = q.messages_ready ?? 0;
      stateBadge(stateEl, q.state);
      put(stats, 'Ready', num(q.messages_ready ?? 0));
      put(stats, 'Unacked', num(q.messages_unacknowledged ?? 0));
      put(stats, 'Total', num(q.messages ?? 0));
      put(stats, 'Consumers', num(q.consumers ?? 0));
      put(info, 'Virtual host', vhost);
      put(info, 'Type', q.type ?? 'classic');
      put(info, 'Features', features({ ...q, policy: null, operator_policy: null }).map((f) => f.title).join(', ') || 'none');
      policies.update(q);
      put(info, 'Message bytes', bytes(q.message_bytes ?? 0));
      put(info, 'Incoming', rate(pickNumber(q, 'message_stats.publish_details.rate') ?? 0));
      put(info, 'Deliver / get', rate(pickNumber(q, 'message_stats.deliver_get_details.rate') ?? 0));
      put(info, 'Ack', rate(pickNumber(q, 'message_stats.ack_details.rate') ?? 0));
      if (typeof q.consumer_utilisation === 'number') put(info, 'Consumer capacity', `${Math.round(q.consumer_utilisation * 100)}%`);
      consumers.setRows(q.consumer_details ?? []);
      status.clear();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error instanceof ApiError && error.status === 404) status.error(`The queue "${name}" does not exist in virtual host "${vhost}" (any more).`);
      else status.error(error);
      throw error;
    }
  });

  return {
    update(next) {
      if (charts.setRange(next.query.get('range') ?? '600')) {
        picker.select.value = charts.rangeId;
        poller.now();
      }
    },
    unmount: () => charts.destroy(),
  };
}
