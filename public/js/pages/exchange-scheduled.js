// @ts-check
/**
 * A delayed exchange's (`x-delayed-message`) scheduled messages: listed in due order a page at a time,
 * refreshed while shown (messages fire and leave the list), each cancellable after a confirmation.
 */
import { api, exchangeSegment, path } from '../api.js';
import { h, setText } from '../dom.js';
import { bytes, dateTime, duration, num } from '../format.js';
import { Status, confirmAction, field, select } from '../forms.js';
import { DataTable, rowKey } from '../table.js';

/**
 * @typedef {Object} ScheduledMessage
 * @property {number} id
 * @property {number} due ms since the epoch
 * @property {string} due_at
 * @property {number} published
 * @property {string} routing_key
 * @property {Record<string, unknown> | unknown[]} properties
 * @property {string} payload
 * @property {'string' | 'base64'} payload_encoding
 * @property {number} payload_bytes
 * @property {boolean} payload_truncated
 * @property {boolean} mandatory
 */

/** @typedef {{total: number, offset: number, items: ScheduledMessage[]}} ScheduledPage */

/** Bytes of payload each row previews. */
const PREVIEW_BYTES = 200;

/** When it is due, from now: `in 4m 10s`, or `due now` once the time has come. @param {number} due */
export function dueIn(due) {
  const ms = due - Date.now();
  return ms <= 0 ? 'due now' : `in ${duration(ms)}`;
}

/** The properties worth a glance: headers (without `x-delay`, which the due time already says) and the rest. @param {ScheduledMessage} m */
function propertiesText(m) {
  const props = m.properties && !Array.isArray(m.properties) ? { ...m.properties } : {};
  const headers = props.headers && typeof props.headers === 'object' ? { .../** @type {Record<string, unknown>} */ (props.headers) } : {};
  delete props.headers;
  delete headers['x-delay'];
  const parts = Object.entries(props).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(headers)) parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.join(', ');
}

/** @param {ScheduledMessage} m */
function previewText(m) {
  if (m.payload_encoding === 'base64') return `(binary, ${bytes(m.payload_bytes)})`;
  return m.payload_truncated ? `${m.payload}… (${bytes(m.payload_bytes)})` : m.payload;
}

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {string} vhost @param {string} exchange
 */
export function scheduledSection(ctx, vhost, exchange) {
  const seg = exchangeSegment(exchange);
  const status = new Status();
  const listStatus = new Status();
  let offset = 0;
  let total = 0;
  const perPage = select(['20', '50', '100', '500']);
  perPage.value = '20';
  const summary = h('p', { class: 'browse-summary', 'aria-live': 'polite' });
  const first = h('button', { type: 'button', text: '« First' });
  const prev = h('button', { type: 'button', text: '‹ Previous' });
  const next = h('button', { type: 'button', text: 'Next ›' });

  /** @type {DataTable<ScheduledMessage>} */
  const table = new DataTable({
    caption: 'Scheduled messages',
    key: (m) => rowKey(String(m.id)),
    empty: 'Nothing scheduled.',
    columns: [
      { id: 'id', label: 'Id', numeric: true, text: (m) => String(m.id) },
      {
        id: 'due',
        label: 'Due',
        create: () => h('span', null, h('span', { class: 'due-at' }), h('span', { class: 'due-in' })),
        update: (el, m) => {
          setText(/** @type {Element} */ (el.firstChild), dateTime(m.due));
          setText(/** @type {Element} */ (el.lastChild), dueIn(m.due));
          el.title = m.due_at;
        },
      },
      { id: 'rk', label: 'Routing key', text: (m) => m.routing_key },
      { id: 'props', label: 'Properties', text: (m) => propertiesText(m) },
      { id: 'preview', label: 'Payload', text: (m) => previewText(m) },
      { id: 'mandatory', label: 'Mandatory', text: (m) => (m.mandatory ? 'yes' : '') },
      {
        id: 'actions',
        label: 'Actions',
        create: () => h('button', { type: 'button', class: 'small danger', text: 'Cancel' }),
        update: (el, m) => {
          el.setAttribute('aria-label', `Cancel scheduled message ${m.id}`);
          /** @type {HTMLButtonElement} */ (el).onclick = () => void cancel(m, /** @type {HTMLButtonElement} */ (el));
        },
      },
    ],
  });

  /** @param {ScheduledMessage} m @param {HTMLButtonElement} button */
  async function cancel(m, button) {
    const ok = await confirmAction({
      title: `Cancel scheduled message ${m.id}?`,
      message: `The message${m.routing_key ? ` with routing key "${m.routing_key}"` : ''}, due ${dateTime(m.due)}, will never be routed. This cannot be undone.`,
      confirm: 'Cancel message',
    });
    if (!ok) return;
    button.disabled = true;
    status.clear();
    try {
      await api.del(path`/exchanges/${vhost}/${seg}/scheduled/${String(m.id)}`);
      status.ok(`Scheduled message ${m.id} cancelled.`);
      poller.now();
    } catch (error) {
      status.error(error);
    } finally {
      button.disabled = false;
    }
  }

  const poller = ctx.every(2000, async () => {
    const n = Number(perPage.value);
    try {
      /** @type {ScheduledPage} */
      const page = await api.get(path`/exchanges/${vhost}/${seg}/scheduled`, { offset, count: n, truncate: PREVIEW_BYTES }, ctx.signal);
      total = page.total;
      table.setRows(page.items);
      if (page.items.length === 0) {
        setText(summary, offset === 0 ? 'Nothing scheduled.' : `Nothing scheduled from position ${num(offset + 1)} (${num(total)} in all).`);
      } else {
        setText(summary, `Scheduled ${num(offset + 1)}–${num(offset + page.items.length)} of ${num(total)}, earliest due first.`);
      }
      first.disabled = prev.disabled = offset === 0;
      next.disabled = offset + n >= total;
      listStatus.clear();
    } catch (error) {
      if (ctx.signal.aborted) return;
      listStatus.error(error);
      throw error;
    }
  });

  first.addEventListener('click', () => {
    offset = 0;
    poller.now();
  });
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - Number(perPage.value));
    poller.now();
  });
  next.addEventListener('click', () => {
    offset += Number(perPage.value);
    poller.now();
  });
  perPage.addEventListener('change', () => poller.now());

  return h(
    'section',
    { class: 'scheduled', 'aria-labelledby': 'scheduled-title' },
    h('h2', { id: 'scheduled-title', text: 'Scheduled messages' }),
    h('p', { class: 'hint', text: 'Messages this delayed exchange holds until their x-delay has passed, earliest due first. At its due time each is routed through the bindings as they are then.' }),
    h('div', { class: 'list-controls' }, field('Per page', perPage)),
    h('div', { class: 'pager-controls' }, first, prev, next),
    summary,
    listStatus.element,
    status.element,
    table.element,
  );
}
