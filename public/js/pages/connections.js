// @ts-check
/** Connections of every protocol: who is connected (user, vhost, client address, protocol, channels, rates), and closing one. */
import { api, path } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { dateTime, num, pick, pickNumber, rate } from '../format.js';
import { Status, confirmAction } from '../forms.js';
import { PagedList } from '../list.js';
import { rowKey } from '../table.js';
import { channelsHref } from './channels.js';

/**
 * @typedef {Object} Connection
 * @property {string} name
 * @property {string} [user]
 * @property {string} [vhost]
 * @property {string} [peer_host]
 * @property {number} [peer_port]
 * @property {string} [state]
 * @property {number} [channels]
 * @property {string} [protocol]
 * @property {number} [connected_at]
 * @property {string} [user_provided_name]
 * @property {Record<string, unknown>} [client_properties]
 * @property {Record<string, unknown>} [message_stats] its channels' summed counters and rates
 */

/** Message rates shown per connection: Warren sums its channels' into the connection's `message_stats`. */
const RATES = [
  { id: 'publish', label: 'Publish', path: 'message_stats.publish_details.rate' },
  { id: 'deliver', label: 'Deliver / get', path: 'message_stats.deliver_get_details.rate' },
  { id: 'ack', label: 'Ack', path: 'message_stats.ack_details.rate' },
];

const COLUMNS = [
  'name',
  'user',
  'vhost',
  'peer_host',
  'peer_port',
  'state',
  'channels',
  'protocol',
  'connected_at',
  'user_provided_name',
  'client_properties',
  ...RATES.map((r) => r.path),
].join(',');

/** @type {import('../app.js').PageFn} */
export function mountConnections(root, _params, location, ctx) {
  ctx.title('Connections');
  const status = new Status();
  const canCloseAny = ctx.has('administrator');

  /** @param {Connection} c */
  const canClose = (c) => canCloseAny || c.user === ctx.user.name;

  /** @param {Connection} c */
  async function close(c) {
    const ok = await confirmAction({
      title: 'Close connection?',
      message: `Close the connection ${c.name} of ${c.user ?? 'unknown user'}? The client is disconnected at once.`,
      confirm: 'Close connection',
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/connections/${c.name}`, undefined, { 'x-reason': `Closed from the console by ${ctx.user.name}` });
      status.ok(`Closed connection ${c.name}.`);
      list.poller?.now();
    } catch (error) {
      status.error(error);
    }
  }

  /** @type {PagedList<Connection>} */
  const list = new PagedList(ctx, location, {
    route: ['connections'],
    noun: 'connections',
    resource: 'connections',
    columns: COLUMNS,
    defaultSort: 'name',
    perVhost: true,
    vhostNested: true,
    intervalMs: 2000,
    table: {
      caption: 'Connections',
      key: (c) => rowKey(c.name),
      empty: 'No connections.',
      columns: [
        { id: 'name', label: 'Name', sort: 'name', text: (c) => c.user_provided_name ? `${c.user_provided_name} (${c.name})` : c.name },
        { id: 'user', label: 'User', sort: 'user', text: (c) => c.user ?? '' },
        { id: 'vhost', label: 'Virtual host', sort: 'vhost', text: (c) => c.vhost ?? '' },
        { id: 'client', label: 'Client address', sort: 'peer_host', text: (c) => (c.peer_host ? `${c.peer_host}:${c.peer_port ?? ''}` : '–') },
        { id: 'product', label: 'Client', text: (c) => clientName(c) },
        { id: 'protocol', label: 'Protocol', sort: 'protocol', text: (c) => protocolLabel(c.protocol) },
        { id: 'state', label: 'State', sort: 'state', create: () => h('span', { class: 'badge' }), update: (el, c) => stateBadge(el, c.state) },
        { id: 'since', label: 'Connected', sort: 'connected_at', text: (c) => dateTime(c.connected_at) },
        ...RATES.map((r) => ({ id: r.id, label: r.label, numeric: true, text: (/** @type {Connection} */ c) => rate(pickNumber(c, r.path) ?? 0) })),
        { id: 'channels', label: 'Channels', numeric: true, sort: 'channels', text: (c) => num(c.channels), href: (c) => channelsHref(c.name) },
        {
          id: 'actions',
          label: 'Actions',
          create: () => h('button', { type: 'button', class: 'small danger', text: 'Close' }),
          update: (el, c) => {
            const button = /** @type {HTMLButtonElement} */ (el);
            button.hidden = !canClose(c);
            button.onclick = () => void close(c);
            button.setAttribute('aria-label', `Close connection ${c.name}`);
          },
        },
      ],
    },
  });

  const intro = h('p', { class: 'hint' });
  setText(intro, ctx.has('monitoring') || ctx.has('administrator') ? 'All clients connected to this broker.' : 'Your own connections (seeing everyone’s needs the monitoring tag).');
  replaceChildren(root, h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Connections' })), intro, status.element, list.element);
  return { update: (next) => list.update(next) };
}

/** The JSON protocol's full name would widen the table: it is the one protocol that needs a short form. @param {string | undefined} protocol */
function protocolLabel(protocol) {
  return protocol === 'Warren JSON over WebSocket' ? 'JSON (WebSocket)' : (protocol ?? '');
}

/** @param {{client_properties?: Record<string, unknown>}} c */
function clientName(c) {
  const product = pick(c, 'client_properties.product');
  const version = pick(c, 'client_properties.version');
  return typeof product === 'string' ? `${product}${typeof version === 'string' ? ` ${version}` : ''}` : '–';
}

/** @param {HTMLElement} el @param {string | undefined} state */
export function stateBadge(el, state) {
  const value = state ?? 'unknown';
  setText(el, value);
  el.className = `badge state-${value.replace(/[^a-z]/gi, '')}`;
}
