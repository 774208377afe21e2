// @ts-check
/**
 * The queue page's dead-letter tooling: moving ready messages to another queue or through an exchange,
 * and retrying dead letters to where they first died. Both take a count and a filter, preview what they
 * would take through `peek` with the same filter, ask before acting, and say what happened to every
 * message they tried (moved, or left in the queue and why).
 */
import { api, path } from '../api.js';
import { namesList } from '../bindings.js';
import { h, replaceChildren, setText } from '../dom.js';
import { exchangeLabel, num } from '../format.js';
import { Status, confirmAction, field, input, onSubmit, select, submit } from '../forms.js';
import { FilterForm } from '../message-filter.js';
import { renderPeeked } from '../messages.js';

/** Messages a preview shows at most: one page of peek. */
const PREVIEW_MAX = 50;

/** @typedef {{moved: number, unroutable: number, rejected: number, skipped?: number, refused?: number}} Report */
/** @typedef {import('../messages.js').ApiMessage} ApiMessage */

/** `1 message`, `3 messages`. @param {number} n @param {string} [noun] */
function plural(n, noun = 'message') {
  return `${num(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * The result line: how many moved, then every reason a message stayed, only when it happened.
 * @param {Report} r @param {string} queue @param {string} verb `Moved` or `Retried`
 * @returns {{text: string, kind: 'ok' | 'warn'}}
 */
export function reportText(r, queue, verb) {
  const left = [];
  if (r.unroutable) left.push(`${num(r.unroutable)} unroutable (no queue would receive them)`);
  if (r.rejected) left.push(`${num(r.rejected)} rejected (every target queue is full)`);
  if (r.skipped) left.push(`${num(r.skipped)} skipped (not dead letters)`);
  if (r.refused) left.push(`${num(r.refused)} refused (you may not write to their origin exchange)`);
  const text = `${verb} ${plural(r.moved)}.${left.length ? ` Left in ${queue}: ${left.join(', ')}.` : ''}`;
  return { text, kind: left.length || r.moved === 0 ? 'warn' : 'ok' };
}

/** @param {ApiMessage} m @returns {Record<string, unknown>} */
function headersOf(m) {
  const props = m.properties && !Array.isArray(m.properties) ? m.properties : {};
  const headers = props.headers;
  return headers && typeof headers === 'object' && !Array.isArray(headers) ? /** @type {Record<string, unknown>} */ (headers) : {};
}

/**
 * Where a retry would send a message: its first death's exchange, or null when it is not a dead letter
 * (the server's rule: `x-first-death-exchange` and an `x-death` entry with routing keys).
 * @param {ApiMessage} m
 */
export function retryOrigin(m) {
  const headers = headersOf(m);
  const exchange = headers['x-first-death-exchange'];
  const deaths = headers['x-death'];
  if (typeof exchange !== 'string' || !Array.isArray(deaths) || deaths.length === 0) return null;
  return exchange;
}

/**
 * The parts both forms share: count, filter, preview, confirmation and result.
 * @param {{
 *   vhost: string, queue: string, label: string, action: string, extra?: Node[], hint: string,
 *   previewNote?: (messages: ApiMessage[], count: number | undefined) => string,
 *   countCapsPreview: boolean,
 *   confirm: (what: {count: number | undefined, filterText: string}) => {title: string, message: string, confirm: string},
 *   run: (body: {count?: number, filter?: import('../message-filter.js').Filter}) => Promise<Report>,
 *   verb: string, onChanged: () => void,
 * }} spec
 */
function relocateForm(spec) {
  const status = new Status();
  const count = input({ type: 'number', min: '1', inputMode: 'numeric', placeholder: 'all' });
  const filter = new FilterForm();
  const previewButton = h('button', { type: 'button', text: 'Preview' });
  const previewSummary = h('p', { class: 'preview-summary', 'aria-live': 'polite' });
  const previewList = h('div', { class: 'preview-results' });
  const form = h(
    'form',
    { class: 'grid-form relocate', 'aria-label': spec.label },
    h('p', { class: 'hint wide', text: spec.hint }),
    ...(spec.extra ?? []),
    field('How many (at most)', count, { hint: 'Empty: every message that matches.' }),
    h('div', { class: 'wide' }, filter.element),
    h('div', { class: 'actions' }, previewButton, submit(`${spec.action}…`)),
    status.element,
    h('div', { class: 'preview wide' }, previewSummary, previewList),
  );

  /** @returns {number | undefined} */
  function countValue() {
    const raw = count.value.trim();
    if (raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error('How many must be a whole number, 1 or more (or empty for all).');
    return n;
  }

  previewButton.addEventListener('click', async () => {
    status.clear();
    previewButton.disabled = true;
    previewList.setAttribute('aria-busy', 'true');
    try {
      const n = countValue();
      // A move's count caps the messages it tries, so the preview shows that many; a retry's count caps
      // dead letters only, and messages that are not dead letters among them are skipped, not counted.
      const wanted = spec.countCapsPreview ? Math.min(n ?? PREVIEW_MAX, PREVIEW_MAX) : PREVIEW_MAX;
      const f = filter.value();
      /** @type {ApiMessage[]} */
      const messages = await api.post(path`/queues/${spec.vhost}/${spec.queue}/peek`, { offset: 0, count: wanted, encoding: 'auto', truncate: 1000, ...(f ? { filter: f } : {}) });
      const more = messages.length === wanted && (n === undefined || n > wanted || !spec.countCapsPreview) ? ' More may match: the preview shows one page.' : '';
      const which = f ? 'matching ready messages' : 'ready messages';
      const shown = messages.length === 0 ? `No ${which}: nothing would be taken.` : `${plural(messages.length)} shown, the first ${which} in queue order.${more}`;
      setText(previewSummary, `${shown}${messages.length && spec.previewNote ? ` ${spec.previewNote(messages, n)}` : ''}`);
      replaceChildren(previewList, messages.length ? renderPeeked(messages) : null);
    } catch (error) {
      status.error(error);
    } finally {
      previewButton.disabled = false;
      previewList.removeAttribute('aria-busy');
    }
  });

  onSubmit(form, status, async () => {
    const n = countValue();
    const f = filter.value();
    const ok = await confirmAction(spec.confirm({ count: n, filterText: f ? filter.describe() : '' }));
    if (!ok) return;
    const report = await spec.run({ ...(n !== undefined ? { count: n } : {}), ...(f ? { filter: f } : {}) });
    spec.onChanged();
    replaceChildren(previewList);
    setText(previewSummary, '');
    return reportText(report, spec.queue, spec.verb);
  });
  return form;
}

/** `up to 5 ready messages that match (…)` / `all ready messages`. @param {number | undefined} count @param {string} filterText */
function which(count, filterText) {
  const how = count === undefined ? 'all ready messages' : `up to ${plural(count, 'ready message')}`;
  return filterText ? `${how} that match (${filterText})` : how;
}

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {string} vhost @param {string} queue
 * @param {() => void} onChanged refresh the counts after messages moved
 */
export function moveSection(ctx, vhost, queue, onChanged) {
  const queues = namesList(vhost, 'queues', ctx.signal);
  const exchanges = namesList(vhost, 'exchanges', ctx.signal);
  const kind = select([
    { value: 'queue', label: 'A queue' },
    { value: 'exchange', label: 'An exchange' },
  ]);
  const targetQueue = input({ list: queues.id });
  const targetExchange = input({ list: exchanges.id, placeholder: 'amq.default for the default exchange' });
  const routingKey = input({ placeholder: "each message's own" });
  const queueField = field('Destination queue', targetQueue);
  const exchangeFields = h(
    'div',
    { class: 'field-group', hidden: true },
    field('Destination exchange', targetExchange),
    field('Routing key', routingKey, { hint: "Empty: each message keeps its own routing key." }),
  );
  kind.addEventListener('change', () => {
    queueField.hidden = kind.value !== 'queue';
    exchangeFields.hidden = kind.value !== 'exchange';
  });

  function destination() {
    if (kind.value === 'queue') {
      const name = targetQueue.value.trim();
      if (name === '') throw new Error('Name the destination queue.');
      return { body: { queue: name }, text: `queue "${name}"` };
    }
    const name = targetExchange.value.trim();
    if (name === '') throw new Error('Name the destination exchange (amq.default for the default exchange).');
    const key = routingKey.value;
    return {
      body: key === '' ? { exchange: name } : { exchange: name, routing_key: key },
      text: `exchange "${exchangeLabel(name === 'amq.default' ? '' : name)}"${key === '' ? " with each message's own routing key" : ` with routing key "${key}"`}`,
    };
  }

  return h(
    'div',
    null,
    queues,
    exchanges,
    relocateForm({
      vhost,
      queue,
      label: 'Move messages',
      action: 'Move messages',
      verb: 'Moved',
      hint: 'Moves ready messages, in queue order, keeping their properties and headers. Each copy is written before its original is removed: a crash can duplicate a message, never lose one. Messages no queue would take are left here.',
      extra: [field('Move to', kind), queueField, exchangeFields],
      countCapsPreview: true,
      confirm: ({ count, filterText }) => ({
        title: `Move messages from ${queue}?`,
        message: `Move ${which(count, filterText)} from "${queue}" to ${destination().text}.`,
        confirm: 'Move messages',
      }),
      run: (body) => api.post(path`/queues/${vhost}/${queue}/move`, { destination: destination().body, ...body }),
      onChanged,
    }),
  );
}

/**
 * Offered on every queue: any queue can hold dead letters (a DLQ need not be named as one), so the
 * preview says which of the matching messages are dead letters and where each would go.
 * @param {string} vhost @param {string} queue
 * @param {() => void} onChanged
 */
export function retrySection(vhost, queue, onChanged) {
  return relocateForm({
    vhost,
    queue,
    label: 'Retry dead letters',
    action: 'Retry dead letters',
    verb: 'Retried',
    hint: 'Republishes each dead letter (a message with x-death headers) to the exchange it first died from, with its original routing keys, so it reaches the queue it died in again. Headers, x-death included, are kept. Messages that are not dead letters stay here and are counted as skipped.',
    countCapsPreview: false,
    previewNote: (messages, count) => {
      /** @type {Map<string, number>} */
      const byOrigin = new Map();
      let skipped = 0;
      for (const m of messages) {
        const origin = retryOrigin(m);
        if (origin === null) skipped += 1;
        else byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + 1);
      }
      if (byOrigin.size === 0) return 'None of them is a dead letter: nothing here would be retried.';
      const origins = [...byOrigin];
      const to =
        origins.length === 1
          ? `exchange "${exchangeLabel(origins[0]?.[0] ?? '')}"`
          : `exchanges ${origins.map(([x, n]) => `"${exchangeLabel(x)}" (${num(n)})`).join(', ')}`;
      const dead = messages.length - skipped;
      const cap = count !== undefined && count < dead ? ` Only the first ${plural(count, 'dead letter')} will be retried.` : '';
      return `Dead letters: ${num(dead)}, going back to ${to}.${skipped ? ` Not dead letters, to be skipped: ${num(skipped)}.` : ''}${cap}`;
    },
    confirm: ({ count, filterText }) => ({
      title: `Retry dead letters in ${queue}?`,
      message: `Republish ${count === undefined ? 'every dead letter' : `up to ${plural(count, 'dead letter')}`}${filterText ? ` that match (${filterText})` : ''} in "${queue}" to the exchange each first died from.`,
      confirm: 'Retry dead letters',
    }),
    run: (body) => api.post(path`/queues/${vhost}/${queue}/retry-dead-letters`, body),
    onChanged,
  });
}
