// @ts-check
/**
 * One exchange: its settings, live rates, bindings, what a delayed exchange has scheduled, publishing a
 * message, deleting it.
 */
import { api, ApiError, path } from '../api.js';
import { exchangeBindings } from '../bindings.js';
import { LiveCharts, rangePicker } from '../chart.js';
import { h, replaceChildren, setText } from '../dom.js';
import { dateTime, exchangeLabel, features, num, rate } from '../format.js';
import { Status, confirmAction, panel } from '../forms.js';
import { policyFacts } from '../policy-facts.js';
import { publishForm } from '../publish.js';
import { scheduledSection } from './exchange-scheduled.js';
import * as router from '../router.js';
import { traceLink } from './trace.js';

const RATE_KEYS = [
  { key: 'publish_in', label: 'In' },
  { key: 'publish_out', label: 'Out' },
];

/** @type {import('../app.js').PageFn} */
export function mountExchange(root, params, location, ctx) {
  const [vhost = '/', urlName = ''] = params;
  const name = urlName === 'amq.default' ? '' : urlName;
  const label = exchangeLabel(name);
  ctx.title(`Exchange ${label}`);
  const seg = name === '' ? 'amq.default' : name;

  const status = new Status();
  const info = h('dl', { class: 'facts' });
  const policies = policyFacts(ctx, vhost, { effective: false });
  const typeEl = h('span', { class: 'badge' });
  const charts = new LiveCharts({
    rangeId: location.query.get('range') ?? '600',
    rates: { title: 'Message rates', id: 'exchange-rates', series: RATE_KEYS, from: (x) => x.message_stats },
  });
  const picker = rangePicker(charts.rangeId, (id) => router.go(router.href(['exchanges', vhost, seg], { range: id })));
  const predeclared = name === '' || name.startsWith('amq.');
  const deleteButton = h('button', { type: 'button', class: 'danger', text: 'Delete exchange', hidden: predeclared });
  const ifUnused = h('input', { type: 'checkbox', id: 'delete-if-unused' });

  deleteButton.addEventListener('click', async () => {
    const ok = await confirmAction({
      title: `Delete exchange ${label}?`,
      message: `Delete the exchange "${name}" in virtual host "${vhost}" and all its bindings${ifUnused.checked ? ' (only if it is not the source of any binding)' : ''}. This cannot be undone.`,
      confirm: 'Delete exchange',
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/exchanges/${vhost}/${seg}`, ifUnused.checked ? { 'if-unused': 'true' } : undefined);
      router.go(router.href(['exchanges'], { vhost }));
    } catch (error) {
      status.error(error);
    }
  });

  // Filled once the exchange turns out to be a delayed one (its type comes with the first poll).
  const scheduledSlot = h('div', { class: 'scheduled-slot' });

  replaceChildren(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: router.href(['exchanges'], { vhost }), text: 'Exchanges' }), ` › ${vhost} ›`),
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1 }, `Exchange ${label} `, typeEl), traceLink(ctx, { vhost, exchange: seg }), picker.element),
    status.element,
    info,
    policies.element,
    h('section', { class: 'charts single', 'aria-label': 'Charts' }, ...charts.elements),
    scheduledSlot,
    exchangeBindings(ctx, vhost, name),
    panel('Publish message', publishForm({ vhost, exchange: name, title: `Publish to ${label}` })),
    predeclared
      ? h('p', { class: 'hint', text: 'Predeclared exchanges (the default exchange and amq.*) cannot be deleted.' })
      : h(
          'section',
          { class: 'danger-zone', 'aria-labelledby': 'delete-title' },
          h('h2', { id: 'delete-title', text: 'Delete' }),
          h('div', { class: 'field check' }, ifUnused, h('label', { for: 'delete-if-unused', text: 'Only if unused (no bindings from it)' })),
          deleteButton,
        ),
  );

  const poller = ctx.every(1000, async () => {
    try {
      const x = await charts.poll((query) => api.get(path`/exchanges/${vhost}/${seg}`, query, ctx.signal));
      setText(typeEl, x.type);
      showInfo(x);
      if (x.type === 'x-delayed-message' && !scheduledSlot.firstChild) scheduledSlot.append(scheduledSection(ctx, vhost, name));
      policies.update(x);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error instanceof ApiError && error.status === 404) status.error(`The exchange "${name}" does not exist in virtual host "${vhost}" (any more).`);
      else status.error(error);
      throw error;
    }
  });

  /** @param {any} x */
  function showInfo(x) {
    const rows = [
      ['Virtual host', vhost],
      ['Type', x.type],
      ['Features', features({ ...x, policy: null }).map((f) => f.title).join(', ') || 'none'],
      ['Rate in', rate(x.message_stats?.publish_in_details?.rate ?? 0)],
      ['Rate out', rate(x.message_stats?.publish_out_details?.rate ?? 0)],
    ];
    if (x.user_who_performed_action) rows.push(['Declared by', x.user_who_performed_action]);
    if (typeof x.scheduled_messages === 'number') {
      rows.push(['Scheduled messages', num(x.scheduled_messages)]);
      rows.push(['Next due', typeof x.next_scheduled_at === 'string' ? dateTime(Date.parse(x.next_scheduled_at)) : 'nothing scheduled']);
    }
    for (const [k, v] of rows) {
      let dd = /** @type {HTMLElement | null} */ (info.querySelector(`[data-fact="${k}"]`));
      if (!dd) {
        dd = h('dd', { 'data-fact': k });
        info.append(h('div', { class: 'fact' }, h('dt', { text: k }), dd));
      }
      setText(dd, String(v));
    }
  }

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
