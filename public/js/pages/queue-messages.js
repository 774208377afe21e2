// @ts-check
/**
 * The queue page's message tools: browsing ready messages in order without consuming them (Warren's
 * `peek`, one page at a time, so a queue of a million messages is as quick as one of ten), and RabbitMQ's
 * get with its four ack modes.
 */
import { api, path } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { num } from '../format.js';
import { Status, field, input, onSubmit, select, submit } from '../forms.js';
import { renderGot, renderPeeked } from '../messages.js';

const ENCODINGS = [
  { value: 'auto', label: 'Auto (text when valid UTF-8)' },
  { value: 'base64', label: 'Base64' },
];

/**
 * @param {import('../app.js').PageContext} ctx
 * @param {string} vhost @param {string} queue
 */
export function browseSection(ctx, vhost, queue) {
  const status = new Status();
  let offset = 0;
  const count = select(['10', '50', '100', '500'], {});
  count.value = '50';
  const encoding = select(ENCODINGS);
  const truncate = input({ type: 'number', min: '0', value: '2000', inputMode: 'numeric' });
  const position = input({ type: 'number', min: '1', value: '1', inputMode: 'numeric' });
  const summary = h('p', { class: 'browse-summary', 'aria-live': 'polite' });
  const results = h('div', { class: 'browse-results' });
  const first = h('button', { type: 'button', text: '« First' });
  const prev = h('button', { type: 'button', text: '‹ Previous' });
  const next = h('button', { type: 'button', text: 'Next ›' });
  const refresh = h('button', { type: 'button', text: 'Refresh' });
  // The same moves again under a long page of messages.
  const prevBelow = h('button', { type: 'button', text: '‹ Previous page', onclick: () => prev.click() });
  const nextBelow = h('button', { type: 'button', text: 'Next page ›', onclick: () => next.click() });
  const below = h('div', { class: 'pager-controls', hidden: true }, prevBelow, nextBelow);

  async function load() {
    status.clear();
    const n = Number(count.value);
    const body = { offset, count: n, encoding: encoding.value, truncate: truncate.value === '' ? undefined : Number(truncate.value) };
    for (const b of [first, prev, next, refresh]) b.disabled = true;
    results.setAttribute('aria-busy', 'true');
    try {
      const [answer, info] = await Promise.all([
        api.post(path`/queues/${vhost}/${queue}/peek`, body),
        api.get(path`/queues/${vhost}/${queue}`, { columns: 'messages_ready' }, ctx.signal),
      ]);
      const messages = Array.isArray(answer) ? answer : (answer?.items ?? answer?.messages ?? []);
      const total = typeof info?.messages_ready === 'number' ? info.messages_ready : 0;
      if (messages.length === 0) {
        setText(summary, offset === 0 ? 'No ready messages in this queue.' : `No ready messages at position ${num(offset + 1)} (the queue has ${num(total)}).`);
        replaceChildren(results);
      } else {
        setText(summary, `Messages ${num(offset + 1)}–${num(offset + messages.length)} of ${num(Math.max(total, offset + messages.length))} ready, in queue order. Browsing does not consume them.`);
        replaceChildren(results, renderPeeked(messages));
      }
      position.value = String(offset + 1);
      first.disabled = prev.disabled = prevBelow.disabled = offset === 0;
      next.disabled = nextBelow.disabled = messages.length < n;
      below.hidden = messages.length < 20;
      refresh.disabled = false;
    } catch (error) {
      status.error(error);
      first.disabled = prev.disabled = next.disabled = refresh.disabled = false;
    } finally {
      results.removeAttribute('aria-busy');
    }
  }

  first.addEventListener('click', () => {
    offset = 0;
    void load();
  });
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - Number(count.value));
    void load();
  });
  next.addEventListener('click', () => {
    offset += Number(count.value);
    void load();
  });
  refresh.addEventListener('click', () => void load());
  const goForm = h('form', { class: 'inline-form', 'aria-label': 'Go to position' }, field('Start at position', position), submit('Show', { class: '' }));
  const goStatus = new Status();
  onSubmit(goForm, goStatus, async () => {
    const wanted = Math.trunc(Number(position.value));
    if (!Number.isFinite(wanted) || wanted < 1) throw new Error('The position must be 1 or more.');
    offset = wanted - 1;
    await load();
  });
  for (const control of [count, encoding, truncate]) control.addEventListener('change', () => void load());

  if (!ctx.signal.aborted) void load();

  return h(
    'section',
    { class: 'browse', 'aria-labelledby': 'browse-title' },
    h('h2', { id: 'browse-title', text: 'Browse messages' }),
    h('p', { class: 'hint', text: 'Ready messages in the order consumers will get them. Nothing is taken from the queue or marked redelivered.' }),
    h(
      'div',
      { class: 'list-controls' },
      goForm,
      field('Per page', count),
      field('Encoding', encoding),
      field('Truncate payloads to (bytes)', truncate),
    ),
    goStatus.element,
    h('div', { class: 'pager-controls' }, first, prev, next, refresh),
    summary,
    status.element,
    results,
    below,
  );
}

const ACK_MODES = [
  { value: 'ack_requeue_true', label: 'Look and put back (requeue; marked redelivered)' },
  { value: 'ack_requeue_false', label: 'Take them (ack: removed from the queue)' },
  { value: 'reject_requeue_true', label: 'Reject and requeue' },
  { value: 'reject_requeue_false', label: 'Reject without requeue (dead-lettered or dropped)' },
];

/**
 * @param {string} vhost @param {string} queue
 * @param {() => void} onTaken refresh the counts after messages were fetched
 */
export function getSection(vhost, queue, onTaken) {
  const status = new Status();
  const count = input({ type: 'number', min: '1', value: '1', inputMode: 'numeric', required: true });
  const ackmode = select(ACK_MODES);
  const encoding = select(ENCODINGS);
  const truncate = input({ type: 'number', min: '0', value: '50000', inputMode: 'numeric' });
  const warning = h('p', { class: 'status warn', hidden: true, text: 'These messages will be removed from the queue.' });
  ackmode.addEventListener('change', () => (warning.hidden = ackmode.value === 'ack_requeue_true' || ackmode.value === 'reject_requeue_true'));
  const results = h('div', { class: 'get-results' });
  const form = h(
    'form',
    { class: 'grid-form', 'aria-label': 'Get messages' },
    field('Messages', count),
    field('Ack mode', ackmode),
    field('Encoding', encoding),
    field('Truncate payloads to (bytes)', truncate),
    warning,
    h('div', { class: 'actions' }, submit('Get messages')),
    status.element,
  );
  onSubmit(form, status, async () => {
    const n = Math.trunc(Number(count.value));
    if (!Number.isFinite(n) || n < 1) throw new Error('Ask for at least one message.');
    const messages = await api.post(path`/queues/${vhost}/${queue}/get`, {
      count: n,
      ackmode: ackmode.value,
      encoding: encoding.value,
      truncate: truncate.value === '' ? undefined : Number(truncate.value),
    });
    replaceChildren(results, renderGot(messages));
    onTaken();
  });
  return h('div', null, h('p', { class: 'hint', text: 'Get takes messages like a consumer would. To look without any effect on the queue, use Browse above.' }), form, results);
}
