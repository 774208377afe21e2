// @ts-check
/**
 * Showing messages taken with "get" or looked at with "peek": body, properties and headers.
 */
import { h } from './dom.js';
import { bytes, duration, exchangeLabel, num } from './format.js';

/**
 * @typedef {Object} ApiMessage
 * @property {string} payload
 * @property {'string' | 'base64'} payload_encoding
 * @property {number} [payload_bytes]
 * @property {boolean} [redelivered]
 * @property {string} [exchange]
 * @property {string} [routing_key]
 * @property {number} [message_count] get: messages left after this one
 * @property {number} [position] peek: 0-based position among ready messages
 * @property {number} [age] peek: ms since it was published
 * @property {Record<string, unknown> | unknown[]} [properties]
 */

/** @param {unknown} value */
function show(value) {
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A two-column table of key/value pairs. @param {string} caption @param {Record<string, unknown>} entries */
function kvTable(caption, entries) {
  return h(
    'table',
    { class: 'kv' },
    h('caption', { text: caption }),
    h(
      'tbody',
      null,
      ...Object.entries(entries).map(([key, value]) => h('tr', null, h('th', { scope: 'row', text: key }), h('td', null, h('code', { text: show(value) })))),
    ),
  );
}

/**
 * RabbitMQ's `x-death` header as a table: one row per queue and reason the message died in, newest
 * first, as the broker keeps it.
 * @param {unknown} deaths
 */
function deathsTable(deaths) {
  if (!Array.isArray(deaths) || deaths.length === 0) return null;
  /** @param {unknown} value */
  const text = (value) => (typeof value === 'string' || typeof value === 'number' ? String(value) : show(value));
  /** @param {unknown} seconds */
  const when = (seconds) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : text(seconds));
  return h(
    'table',
    { class: 'deaths' },
    h('caption', { text: 'Dead-lettered (x-death, newest first)' }),
    h('thead', null, h('tr', null, ...['Queue', 'Reason', 'Count', 'Time', 'Exchange', 'Routing keys'].map((label) => h('th', { scope: 'col', text: label })))),
    h(
      'tbody',
      null,
      ...deaths.map((death) => {
        const d = death && typeof death === 'object' ? /** @type {Record<string, unknown>} */ (death) : {};
        const keys = Array.isArray(d['routing-keys']) ? d['routing-keys'].map(text).join(', ') : text(d['routing-keys']);
        return h(
          'tr',
          null,
          h('td', { text: text(d.queue) }),
          h('td', { text: text(d.reason) }),
          h('td', { text: text(d.count) }),
          h('td', { text: when(d.time) }),
          h('td', { text: exchangeLabel(typeof d.exchange === 'string' ? d.exchange : '') }),
          h('td', { text: keys }),
        );
      }),
    ),
  );
}

/** @param {ApiMessage} m */
function propertiesOf(m) {
  // RabbitMQ sends `[]` when a message has no properties.
  return m.properties && !Array.isArray(m.properties) ? m.properties : {};
}

/** The payload, with a note on encoding and truncation. @param {ApiMessage} m */
function payloadBlock(m) {
  const shown = m.payload_encoding === 'base64' ? Math.floor((m.payload.length * 3) / 4) : new TextEncoder().encode(m.payload).length;
  const total = m.payload_bytes;
  const notes = [];
  if (m.payload_encoding === 'base64') notes.push('shown as base64 (not valid UTF-8 text, or base64 was asked for)');
  if (typeof total === 'number' && total > shown) notes.push(`truncated: ${bytes(shown)} of ${bytes(total)} shown`);
  return h(
    'div',
    { class: 'payload' },
    h('div', { class: 'payload-head' }, h('strong', { text: 'Payload' }), h('span', { class: 'hint', text: `${bytes(total ?? shown)}${notes.length ? ` · ${notes.join(' · ')}` : ''}` })),
    h('pre', { tabIndex: 0, 'aria-label': 'Payload' }, h('code', { text: m.payload })),
  );
}

/** The details of one message: routing, properties, headers, payload. @param {ApiMessage} m */
export function messageBody(m) {
  const properties = { ...propertiesOf(m) };
  const headers = properties.headers && typeof properties.headers === 'object' ? /** @type {Record<string, unknown>} */ (properties.headers) : null;
  delete properties.headers;
  return h(
    'div',
    { class: 'message-body' },
    h(
      'dl',
      { class: 'facts compact' },
      fact('Exchange', exchangeLabel(m.exchange ?? '')),
      fact('Routing key', m.routing_key ?? ''),
      fact('Redelivered', m.redelivered ? 'yes' : 'no'),
      m.age !== undefined ? fact('Age', duration(m.age)) : null,
      m.message_count !== undefined ? fact('Left in queue', num(m.message_count)) : null,
    ),
    Object.keys(properties).length ? kvTable('Properties', properties) : h('p', { class: 'hint', text: 'No properties.' }),
    headers && Object.keys(headers).length ? kvTable('Headers', headers) : h('p', { class: 'hint', text: 'No headers.' }),
    headers ? deathsTable(headers['x-death']) : null,
    payloadBlock(m),
  );
}

/** @param {string} label @param {string} value */
function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', { text: value }));
}

/** Messages taken with get: one card each. @param {ApiMessage[]} messages */
export function renderGot(messages) {
  if (messages.length === 0) return h('p', { class: 'status warn', text: 'The queue is empty: no message was returned.' });
  return h(
    'ol',
    { class: 'messages' },
    ...messages.map((m, i) => h('li', { class: 'message', 'data-message': String(i + 1) }, h('h4', { text: `Message ${i + 1}` }), messageBody(m))),
  );
}

/**
 * Messages looked at with peek: a compact row each, expanding to the details.
 * @param {ApiMessage[]} messages
 */
export function renderPeeked(messages) {
  return h(
    'ol',
    { class: 'messages peeked' },
    ...messages.map((m) => {
      const position = (m.position ?? 0) + 1;
      const preview = m.payload_encoding === 'base64' ? `(binary, ${bytes(m.payload_bytes)})` : m.payload.slice(0, 120);
      return h(
        'li',
        { class: 'message', 'data-position': String(position) },
        h(
          'details',
          null,
          h(
            'summary',
            null,
            h('span', { class: 'pos', text: `#${num(position)}` }),
            h('span', { class: 'rk', text: m.routing_key || '(empty key)' }),
            m.redelivered ? h('span', { class: 'badge', text: 'redelivered' }) : null,
            h('span', { class: 'preview', text: preview }),
            h('span', { class: 'hint', text: m.age !== undefined ? `${duration(m.age)} old` : '' }),
          ),
          messageBody(m),
        ),
      );
    }),
  );
}

