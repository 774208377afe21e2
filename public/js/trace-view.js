// @ts-check
/**
 * The trace view's live list and detail panel. Every value from a message goes in through textContent
 * (`h(…, {text})`), never as markup: payloads and headers are whatever publishers sent.
 */
import { h, replaceChildren } from './dom.js';
import { messageBody } from './messages.js';
import { describeStep, exchangeName, payloadPreview } from './trace-model.js';

/** @typedef {import('./trace-model.js').TracedMessage} TracedMessage */
/** @typedef {import('./trace-model.js').Applied} Applied */
/** @typedef {import('./trace-stream.js').TraceEvent} TraceEvent */

/** `12:03:04.512` from an ISO time; the raw text when it is not one. @param {string} at */
function clock(at) {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  return `${date.toLocaleTimeString(undefined, { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** @param {TraceEvent} e */
function stepItem(e) {
  const step = describeStep(e);
  return h(
    'li',
    { class: `step tone-${step.tone}`, 'data-event': e.event },
    h('time', { dateTime: e.at, text: clock(e.at) }),
    ' ',
    h('span', { class: 'step-label', text: step.label }),
    ' ',
    h('span', { class: 'step-text', text: step.text }),
  );
}

export class TraceList {
  constructor() {
    this.list = h('ol', { class: 'trace-messages', 'aria-label': 'Traced messages, newest first' });
    this.empty = h('p', { class: 'hint trace-empty', text: 'No messages traced yet.' });
    this.detail = h('aside', { class: 'trace-detail', 'aria-label': 'Message details', 'aria-live': 'polite' });
    /** @type {Map<TracedMessage, HTMLLIElement>} */
    this.rows = new Map();
    /** @type {TracedMessage | null} */
    this.selected = null;
    this.element = h('div', { class: 'trace-board' }, h('div', { class: 'trace-list' }, this.empty, this.list), this.detail);
    this.showDetail();
  }

  /** Puts one batch of model changes on screen: new messages on top, changed ones redrawn in place. @param {Applied} applied */
  render(applied) {
    for (const gone of applied.dropped) {
      this.rows.get(gone)?.remove();
      this.rows.delete(gone);
      if (this.selected === gone) this.select(null, 'This message was dropped from the view (only the newest are kept).');
    }
    const fresh = document.createDocumentFragment();
    for (let i = applied.added.length - 1; i >= 0; i--) {
      const message = /** @type {TracedMessage} */ (applied.added[i]);
      const row = h('li', { class: 'traced', 'data-trace-id': message.id });
      this.rows.set(message, row);
      fresh.append(row);
    }
    this.list.prepend(fresh);
    for (const message of applied.changed) {
      const row = this.rows.get(message);
      if (row) this.draw(row, message);
    }
    if (this.selected && applied.changed.has(this.selected)) this.showDetail();
    this.empty.hidden = this.rows.size > 0;
  }

  /** @param {HTMLLIElement} row @param {TracedMessage} message */
  draw(row, message) {
    const first = message.first;
    const outcome = describeStep(message.last);
    row.dataset.outcome = message.last.event;
    const summary = h(
      'button',
      {
        type: 'button',
        class: 'traced-head',
        'aria-pressed': this.selected === message ? 'true' : 'false',
        onclick: () => this.select(message),
      },
      h('time', { dateTime: first.at, text: clock(first.at) }),
      h('span', { class: 'traced-route' }, h('span', { text: exchangeName(first.exchange) }), ' → ', h('code', { text: first.routing_keys.join(', ') || '(empty key)' })),
      h('span', { class: `badge tone-${outcome.tone}`, text: outcome.label }),
      h('span', { class: 'preview', text: payloadPreview(first) }),
    );
    replaceChildren(
      row,
      summary,
      h('ol', { class: 'steps' }, ...message.steps.map(stepItem)),
      message.more ? h('p', { class: 'hint', text: `${message.more} more steps not kept (only the first ${message.steps.length} are).` }) : null,
    );
  }

  /** @param {TracedMessage | null} message @param {string} [note] */
  select(message, note) {
    const previous = this.selected;
    this.selected = message;
    for (const m of [previous, message]) {
      const row = m ? this.rows.get(m) : undefined;
      row?.querySelector('.traced-head')?.setAttribute('aria-pressed', m === message ? 'true' : 'false');
    }
    this.showDetail(note);
  }

  /** @param {string} [note] */
  showDetail(note) {
    const message = this.selected;
    if (!message) {
      replaceChildren(this.detail, h('h2', { text: 'Details' }), h('p', { class: 'hint', text: note ?? 'Choose a message to see its properties, payload and every step.' }));
      return;
    }
    const first = message.first;
    const delivered = message.steps.find((s) => s.event === 'delivered');
    replaceChildren(
      this.detail,
      h('h2', { text: 'Details' }),
      h('p', { class: 'hint' }, 'Trace id ', h('code', { text: [...message.ids].join(', ') })),
      messageBody({
        exchange: exchangeName(first.exchange),
        routing_key: first.routing_keys.join(', '),
        redelivered: delivered?.redelivered ?? false,
        properties: first.properties,
        payload: first.payload,
        payload_encoding: first.payload_encoding,
        payload_bytes: first.payload_bytes,
      }),
      h(
        'table',
        { class: 'kv trace-steps' },
        h('caption', { text: 'Steps' }),
        h('thead', null, h('tr', null, ...['#', 'Time', 'Step', 'Where'].map((label) => h('th', { scope: 'col', text: label })))),
        h(
          'tbody',
          null,
          ...message.steps.map((e) => {
            const step = describeStep(e);
            return h('tr', null, h('td', { text: String(e.seq) }), h('td', { class: 'when' }, h('time', { dateTime: e.at, title: e.at, text: clock(e.at) })), h('th', { scope: 'row', text: step.label }), h('td', { text: step.text }));
          }),
        ),
      ),
    );
  }

  clear() {
    this.rows.clear();
    this.list.replaceChildren();
    this.selected = null;
    this.empty.hidden = false;
    this.showDetail();
  }
}
