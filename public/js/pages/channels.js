// @ts-check
/** Channels: every channel of every connection (an AMQP connection has several), by name and number. */
import { h, replaceChildren, setText } from '../dom.js';
import { num, pickNumber, rate } from '../format.js';
import { PagedList } from '../list.js';
import * as router from '../router.js';
import { rowKey } from '../table.js';

/**
 * @typedef {Object} Channel
 * @property {string} name `<connection> (<number>)`
 * @property {number} [number]
 * @property {{name?: string}} [connection_details]
 * @property {string} [user]
 * @property {string} [vhost]
 * @property {boolean} [confirm]
 * @property {boolean} [transactional]
 * @property {number} [prefetch_count]
 * @property {number} [global_prefetch_count]
 * @property {number} [messages_unacknowledged]
 * @property {number} [messages_unconfirmed]
 * @property {number} [consumer_count]
 */

const RATES = [
  { id: 'publish', label: 'Publish', path: 'message_stats.publish_details.rate' },
  { id: 'deliver', label: 'Deliver / get', path: 'message_stats.deliver_get_details.rate' },
  { id: 'ack', label: 'Ack', path: 'message_stats.ack_details.rate' },
];

const COLUMNS = [
  'name',
  'number',
  'connection_details.name',
  'user',
  'vhost',
  'confirm',
  'transactional',
  'prefetch_count',
  'global_prefetch_count',
  'messages_unacknowledged',
  'messages_unconfirmed',
  'consumer_count',
  ...RATES.map((r) => r.path),
].join(',');

/** The channels page filtered to one connection's channels. @param {string} connection */
export function channelsHref(connection) {
  return router.href(['channels'], { name: connection });
}

/** RabbitMQ's mode letters: C confirm, T transactional. @param {Channel} c */
function mode(c) {
  return `${c.confirm ? 'C' : ''}${c.transactional ? 'T' : ''}` || '–';
}

/** `5` per consumer, `7 shared` (global qos) per channel, as RabbitMQ's channel list. @param {Channel} c */
function prefetch(c) {
  const parts = [];
  if (c.prefetch_count) parts.push(num(c.prefetch_count));
  if (c.global_prefetch_count) parts.push(`${num(c.global_prefetch_count)} shared`);
  return parts.join(', ') || '–';
}

/** @type {import('../app.js').PageFn} */
export function mountChannels(root, _params, location, ctx) {
  ctx.title('Channels');
  /** @type {PagedList<Channel>} */
  const list = new PagedList(ctx, location, {
    route: ['channels'],
    noun: 'channels',
    resource: 'channels',
    columns: COLUMNS,
    defaultSort: 'name',
    perVhost: true,
    vhostNested: true,
    intervalMs: 2000,
    table: {
      caption: 'Channels',
      key: (c) => rowKey(c.name),
      empty: 'No channels.',
      columns: [
        { id: 'name', label: 'Channel', sort: 'name', text: (c) => c.name },
        { id: 'number', label: 'Number', numeric: true, text: (c) => num(c.number) },
        { id: 'user', label: 'User', text: (c) => c.user ?? '' },
        { id: 'vhost', label: 'Virtual host', sort: 'vhost', text: (c) => c.vhost ?? '' },
        { id: 'mode', label: 'Mode', text: (c) => mode(c) },
        { id: 'prefetch', label: 'Prefetch', text: (c) => prefetch(c) },
        { id: 'unacked', label: 'Unacked', numeric: true, text: (c) => num(c.messages_unacknowledged) },
        { id: 'unconfirmed', label: 'Unconfirmed', numeric: true, text: (c) => num(c.messages_unconfirmed) },
        { id: 'consumers', label: 'Consumers', numeric: true, text: (c) => num(c.consumer_count) },
        ...RATES.map((r) => ({ id: r.id, label: r.label, numeric: true, text: (/** @type {Channel} */ c) => rate(pickNumber(c, r.path) ?? 0) })),
      ],
    },
  });

  const intro = h('p', { class: 'hint' });
  setText(intro, 'Each connection’s channels, named “connection (number)”. Mode: C confirm, T transactional.');
  replaceChildren(root, h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Channels' })), intro, list.element);
  return { update: (next) => list.update(next) };
}
