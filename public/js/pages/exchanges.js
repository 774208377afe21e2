// @ts-check
/** Exchanges: filtered, sorted, server-paged list, and a form to add one. */
import { api, exchangeSegment, path } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { exchangeLabel, features, pickNumber, rate } from '../format.js';
import { ArgumentsEditor, Status, checkField, field, input, onSubmit, panel, select, setOptions, submit } from '../forms.js';
import { PagedList, fillVhostSelect } from '../list.js';
import { rowKey } from '../table.js';
import * as router from '../router.js';

/**
 * @typedef {Object} Exchange
 * @property {string} name
 * @property {string} vhost
 * @property {string} type
 * @property {boolean} durable
 * @property {boolean} auto_delete
 * @property {boolean} internal
 * @property {Record<string, unknown>} arguments
 */

const COLUMNS = 'name,vhost,type,durable,auto_delete,internal,arguments,policy,message_stats.publish_in_details.rate,message_stats.publish_out_details.rate';
const FALLBACK_TYPES = ['direct', 'fanout', 'headers', 'topic'];

/** @param {{vhost: string, name: string}} x */
export function exchangeHref(x) {
  return router.href(['exchanges', x.vhost, exchangeSegment(x.name)]);
}

/** A cell listing short feature badges with their meaning as tooltip. */
export const featuresCell = {
  create: () => h('span', { class: 'features' }),
  /** @param {HTMLElement} el @param {Parameters<typeof features>[0]} item */
  update(el, item) {
    const list = features(item);
    const key = list.map((f) => `${f.short}=${f.title}`).join('|');
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    el.replaceChildren(...list.map((f) => h('abbr', { class: f.kind === 'policy' ? 'tag policy' : 'tag', title: f.title, text: f.short })));
  },
};

/** @type {import('../app.js').PageFn} */
export function mountExchanges(root, _params, location, ctx) {
  ctx.title('Exchanges');
  /** @type {PagedList<Exchange>} */
  const list = new PagedList(ctx, location, {
    route: ['exchanges'],
    noun: 'exchanges',
    resource: 'exchanges',
    columns: COLUMNS,
    defaultSort: 'name',
    perVhost: true,
    table: {
      caption: 'Exchanges',
      key: (x) => rowKey(x.vhost, x.name),
      empty: 'No exchanges.',
      columns: [
        { id: 'name', label: 'Name', sort: 'name', text: (x) => exchangeLabel(x.name), href: (x) => exchangeHref(x) },
        { id: 'vhost', label: 'Virtual host', sort: 'vhost', text: (x) => x.vhost },
        { id: 'type', label: 'Type', sort: 'type', text: (x) => x.type },
        { id: 'features', label: 'Features', create: featuresCell.create, update: (el, x) => featuresCell.update(el, x) },
        { id: 'in', label: 'Rate in', numeric: true, sort: 'message_stats.publish_in_details.rate', text: (x) => rate(pickNumber(x, 'message_stats.publish_in_details.rate') ?? 0) },
        { id: 'out', label: 'Rate out', numeric: true, sort: 'message_stats.publish_out_details.rate', text: (x) => rate(pickNumber(x, 'message_stats.publish_out_details.rate') ?? 0) },
      ],
    },
  });

  replaceChildren(root, h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Exchanges' })), list.element, addExchangeForm(ctx, list.state.vhost, () => list.poller?.now()));
  return { update: (next) => list.update(next) };
}

/**
 * @param {import('../app.js').PageContext} ctx @param {string} vhost preselected
 * @param {() => void} onAdded
 */
function addExchangeForm(ctx, vhost, onAdded) {
  const status = new Status();
  const vhostSel = select([], { required: true });
  vhostSel.dataset.wanted = vhost || '/';
  fillVhostSelect(vhostSel, status, ctx.signal);
  const name = input({ required: true, name: 'name' });
  const type = select(FALLBACK_TYPES);
  const durable = h('input', { type: 'checkbox', checked: true });
  const autoDelete = h('input', { type: 'checkbox' });
  const internal = h('input', { type: 'checkbox' });
  const args = new ArgumentsEditor('Arguments', {
    known: [
      { key: 'alternate-exchange', type: 'string', hint: 'where unroutable messages go' },
      { key: 'x-delayed-type', type: 'string', hint: 'x-delayed-message: how it routes at the due time (direct, fanout, topic, headers)' },
    ],
  });
  api
    .get('/overview', { columns: 'exchange_types' }, ctx.signal)
    .then((/** @type {{exchange_types?: Array<{name: string}>}} */ o) => {
      const names = (o.exchange_types ?? []).map((t) => t.name);
      if (names.length) setOptions(type, names);
    })
    .catch(() => undefined); // the four standard types are offered anyway
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': 'Add exchange' },
    field('Virtual host', vhostSel),
    field('Name', name),
    field('Type', type),
    h('div', { class: 'field-group' }, checkField('Durable', durable), checkField('Auto-delete', autoDelete), checkField('Internal', internal)),
    args.element,
    h('div', { class: 'actions' }, submit('Add exchange')),
    status.element,
  );
  onSubmit(form, status, async () => {
    const body = { type: type.value, durable: durable.checked, auto_delete: autoDelete.checked, internal: internal.checked, arguments: args.value() };
    if (!name.value) throw new Error('Give the exchange a name.');
    await api.put(path`/exchanges/${vhostSel.value}/${name.value}`, body);
    const added = name.value;
    name.value = '';
    args.reset();
    onAdded();
    return `Exchange "${added}" declared.`;
  });
  return panel('Add a new exchange', form);
}
