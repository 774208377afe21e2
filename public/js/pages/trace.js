// @ts-check
/**
 * Trace: watch a vhost's messages live (published → routed → delivered → acked…) through the server's
 * trace stream, without declaring a queue. Lines are queued as they arrive and drawn in batches on
 * animation frames. Pause freezes the list while reading goes on; once more than the limit of events
 * wait to be drawn (paused, or a browser that cannot keep up), reading stops so the server feels the
 * backpressure, drops events and later reports them as missed.
 */
import { messageOf } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { num } from '../format.js';
import { Status, field, input, select } from '../forms.js';
import { fillVhostSelect } from '../list.js';
import * as router from '../router.js';
import { TraceModel } from '../trace-model.js';
import { TraceStream } from '../trace-stream.js';
import { TraceList } from '../trace-view.js';

/** @typedef {import('../trace-stream.js').TraceLine} TraceLine */
/** @typedef {import('../trace-stream.js').TraceEvent} TraceEvent */

/** Events drawn per animation frame. */
const BATCH = 250;
const DEFAULTS = { max: '1000', keep: '200', limit: '2000' };
/** Stream notices kept (gap lines can come often on a busy vhost). */
const MAX_NOTICES = 50;

/**
 * A whole number within bounds, or an error naming the field.
 * @param {HTMLInputElement} control @param {string} label @param {number} min @param {number} max
 */
function wholeNumber(control, label, min, max) {
  const value = Number(control.value);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${label} must be a whole number from ${num(min)} to ${num(max)}.`);
  return value;
}

/**
 * "Trace its messages" on a queue or exchange page: the Trace view with that filter filled in
 * (administrators only, as the stream is).
 * @param {import('../app.js').PageContext} ctx @param {{vhost: string, exchange?: string, queue?: string}} filter
 */
export function traceLink(ctx, filter) {
  if (!ctx.has('administrator')) return null;
  return h('a', { class: 'trace-link', href: router.href(['trace'], filter), text: 'Trace its messages' });
}

/** @type {import('../app.js').PageFn} */
export function mountTrace(root, _params, location, ctx) {
  ctx.title('Trace');
  const q = location.query;
  const status = new Status();
  const vhost = select([], { required: true });
  vhost.dataset.wanted = q.get('vhost') ?? '/';
  const exchange = input({ value: q.get('exchange') ?? '', placeholder: 'any' });
  const queue = input({ value: q.get('queue') ?? '', placeholder: 'any' });
  const routingKey = input({ value: q.get('routing_key') ?? '', placeholder: 'any, or a glob: order.*' });
  const headerName = input({ value: q.get('header_name') ?? '' });
  const headerValue = input({ value: q.get('header_value') ?? '' });
  const max = input({ type: 'number', min: '1', max: '10000', value: q.get('max') ?? DEFAULTS.max, inputMode: 'numeric' });
  const keep = input({ type: 'number', min: '1', max: '5000', value: q.get('keep') ?? DEFAULTS.keep, inputMode: 'numeric' });
  const limit = input({ type: 'number', min: '1', max: '100000', value: q.get('limit') ?? DEFAULTS.limit, inputMode: 'numeric' });
  fillVhostSelect(vhost, status, ctx.signal);

  const startButton = h('button', { type: 'submit', class: 'primary', text: 'Start' });
  const pauseButton = h('button', { type: 'button', text: 'Pause', disabled: true });
  const stopButton = h('button', { type: 'button', class: 'danger', text: 'Stop', disabled: true });
  const clearButton = h('button', { type: 'button', text: 'Clear' });
  const stateLine = h('p', { class: 'trace-state', role: 'status', 'aria-live': 'polite', 'data-state': 'idle', text: 'Not tracing.' });
  const counters = {
    received: h('dd', { 'data-stat': 'Received', text: '0' }),
    waiting: h('dd', { 'data-stat': 'Waiting', text: '0' }),
    shown: h('dd', { 'data-stat': 'Messages shown', text: '0' }),
    dropped: h('dd', { 'data-stat': 'Dropped from view', text: '0' }),
    missed: h('dd', { 'data-stat': 'Missed', text: '0' }),
  };
  const stat = (/** @type {string} */ label, /** @type {HTMLElement} */ dd, /** @type {string} */ title) => h('div', { class: 'stat', title }, h('dt', { text: label }), dd);
  const notices = h('ol', { class: 'trace-notices', 'aria-label': 'Stream notices' });
  const view = new TraceList();

  const form = h(
    'form',
    { class: 'trace-form', 'aria-label': 'Trace filter' },
    h(
      'div',
      { class: 'filter-grid' },
      field('Virtual host', vhost),
      field('Exchange', exchange, { hint: 'Messages published to it (empty: any).' }),
      field('Queue', queue, { hint: 'Messages routed to, or delivered from, it.' }),
      field('Routing key (glob)', routingKey, { hint: '* is any run of characters, ? one character.' }),
      field('Header name', headerName),
      field('Header value', headerValue),
      field('Stop after (events)', max, { hint: 'The server ends the trace after this many (up to 10,000).' }),
      field('Keep on screen (messages)', keep, { hint: 'Older messages are dropped from the list.' }),
      field('Stop reading when waiting (events)', limit, { hint: 'Undrawn events at which the page stops reading the stream.' }),
    ),
    h('div', { class: 'actions' }, startButton, pauseButton, stopButton, clearButton),
  );

  /** @type {TraceStream | null} */
  let stream = null;
  let model = new TraceModel(Number(DEFAULTS.keep));
  /** Lines received and not yet drawn. @type {TraceLine[]} */
  let pending = [];
  let running = false;
  let userPaused = false;
  /** The page could not keep up: reading stays stopped until Resume. */
  let behind = false;
  let waitLimit = Number(DEFAULTS.limit);
  let received = 0;
  let missed = 0;
  /** Why the stream ended, once it has. @type {string | null} */
  let ended = null;
  let frame = 0;
  let tracedVhost = '';

  /** @param {string} text @param {string} kind */
  function notice(text, kind) {
    notices.prepend(h('li', { class: `trace-notice ${kind}`, 'data-kind': kind, text: `${new Date().toLocaleTimeString(undefined, { hour12: false })} ${text}` }));
    while (notices.childElementCount > MAX_NOTICES) notices.lastElementChild?.remove();
  }

  function refreshState() {
    const waiting = pending.length;
    const readingStopped = stream?.held === true && running;
    setText(counters.received, num(received));
    setText(counters.waiting, num(waiting));
    setText(counters.shown, num(model.messages.size));
    setText(counters.dropped, num(model.droppedCount));
    setText(counters.missed, num(missed));
    let state = 'idle';
    let text = 'Not tracing.';
    if (userPaused || behind) {
      state = 'paused';
      const why = behind && !userPaused ? 'the browser fell behind' : 'you paused the list';
      text = `Paused (${why}): ${num(waiting)} events waiting.`;
      if (readingStopped) text += stream?.serverPaused ? ' Reading stopped: the server holds back new events and counts them as missed.' : ' Reading stopped.';
      if (ended) text += ` ${ended}`;
    } else if (ended) {
      state = 'ended';
      text = ended;
    } else if (running) {
      state = 'live';
      text = `Live: tracing virtual host "${tracedVhost}".`;
    }
    stateLine.dataset.state = state;
    setText(stateLine, text);
    setText(pauseButton, userPaused || behind ? 'Resume' : 'Pause');
    pauseButton.disabled = !(running || waiting > 0 || userPaused || behind);
    stopButton.disabled = !running;
  }

  /** Stops reading once too many events wait; the list keeps drawing unless paused. */
  function checkBacklog() {
    if (!stream || pending.length < waitLimit) return;
    if (!userPaused) behind = true;
    stream.hold();
  }

  function schedule() {
    // Reading starts again once the backlog is drawn below the limit; after falling behind, only on Resume.
    if (stream?.held && !behind && pending.length < waitLimit) stream.resume();
    if (!frame && !userPaused && pending.length > 0) frame = requestAnimationFrame(drawBatch);
    refreshState();
  }

  function drawBatch() {
    frame = 0;
    if (userPaused) return refreshState();
    const batch = pending.slice(0, BATCH);
    pending = pending.slice(batch.length);
    /** @type {TraceEvent[]} */
    const events = [];
    const flush = () => {
      if (events.length) view.render(model.apply(events.splice(0)));
    };
    for (const line of batch) {
      if (line.type === 'event') {
        events.push(line);
        continue;
      }
      flush();
      if (line.type === 'hello') notice(`Tracing virtual host "${line.vhost}"${filterWords(line.filter)}.`, 'hello');
      else if (line.type === 'gap') notice(`Missed ${num(line.missed)} events: the server dropped them because they came faster than the page read them.`, 'gap');
      else if (line.type === 'capped') notice(`Capped: the server stopped after ${num(line.events)} events.`, 'capped');
      else if (line.type === 'closed') notice(`The server closed the trace: ${line.reason}`, 'closed');
      else notice(`An unreadable line from the server was skipped: ${line.text}`, 'unreadable');
    }
    flush();
    schedule();
  }

  /** @param {TraceLine[]} lines */
  function onLines(lines) {
    for (const line of lines) {
      if (line.type === 'event') received += 1;
      else if (line.type === 'gap') missed += line.missed;
      else if (line.type === 'capped') ended = `Capped after ${num(line.events)} events: the trace has ended. Start again to see more.`;
      else if (line.type === 'closed') ended = `Closed by the server: ${line.reason}`;
      pending.push(line);
    }
    checkBacklog();
    schedule();
  }

  /** @param {{stopped: boolean, error?: unknown}} outcome */
  function onEnd(outcome) {
    running = false;
    // Nothing more to read: only a pause by the user still holds the list.
    behind = false;
    if (outcome.error) {
      ended = `The trace failed: ${messageOf(outcome.error)}`;
      notice(ended, 'closed');
    } else if (!ended) ended = outcome.stopped ? 'Stopped.' : 'The server ended the trace.';
    schedule();
  }

  function stop() {
    stream?.stop();
    stream = null;
  }

  function filterFromForm() {
    const name = headerName.value.trim();
    if (!name && headerValue.value !== '') throw new Error('Give a header name for the header value.');
    if (name.includes('=')) throw new Error('A header name cannot contain "=".');
    return {
      exchange: exchange.value,
      queue: queue.value,
      routing_key: routingKey.value,
      header: name ? `${name}=${headerValue.value}` : undefined,
      max: wholeNumber(max, 'Stop after', 1, 10_000),
    };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.clear();
    let filter;
    let keepCount;
    try {
      filter = filterFromForm();
      keepCount = wholeNumber(keep, 'Keep on screen', 1, 5000);
      waitLimit = wholeNumber(limit, 'Stop reading when waiting', 1, 100_000);
    } catch (error) {
      status.error(error);
      return;
    }
    stop();
    cancelAnimationFrame(frame);
    frame = 0;
    pending = [];
    received = missed = 0;
    userPaused = behind = false;
    ended = null;
    tracedVhost = vhost.value;
    model = new TraceModel(keepCount);
    view.clear();
    notices.replaceChildren();
    router.replace(
      router.href(['trace'], {
        vhost: vhost.value,
        exchange: exchange.value,
        queue: queue.value,
        routing_key: routingKey.value,
        header_name: headerName.value,
        header_value: headerValue.value,
        max: max.value === DEFAULTS.max ? undefined : max.value,
        keep: keep.value === DEFAULTS.keep ? undefined : keep.value,
        limit: limit.value === DEFAULTS.limit ? undefined : limit.value,
      }),
    );
    /** @type {TraceStream} */
    const next = new TraceStream({
      onLines: (lines) => stream === next && onLines(lines),
      onEnd: (outcome) => stream === next && onEnd(outcome),
      onServerPaused: () => stream === next && refreshState(),
    });
    stream = next;
    startButton.disabled = true;
    // Running from here: lines (or the end) may come before start's promise settles.
    running = true;
    setText(stateLine, 'Connecting…');
    try {
      await next.start(vhost.value, filter, ctx.signal);
    } catch (error) {
      if (stream === next) {
        stream = null;
        running = false;
        if (!ctx.signal.aborted) status.error(error);
      }
    } finally {
      startButton.disabled = false;
      refreshState();
    }
  });

  pauseButton.addEventListener('click', () => {
    if (userPaused || behind) {
      userPaused = behind = false;
    } else {
      userPaused = true;
      cancelAnimationFrame(frame);
      frame = 0;
      checkBacklog();
    }
    schedule();
  });
  stopButton.addEventListener('click', () => {
    stop();
    // The stream's own end arrives after the abort; the page is already stopped for the user.
    running = false;
    behind = false;
    ended = 'Stopped.';
    schedule();
  });
  clearButton.addEventListener('click', () => {
    model.clear();
    view.clear();
    notices.replaceChildren();
    refreshState();
  });

  replaceChildren(
    root,
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Trace' })),
    h('p', {
      class: 'hint',
      text: 'Watch messages move through a virtual host as it happens: who published them, which queues they were routed to, which consumer got them and how they ended. Nothing is declared and nothing is consumed. Administrators only.',
    }),
    form,
    status.element,
    stateLine,
    h(
      'dl',
      { class: 'stats secondary trace-counters' },
      stat('Received', counters.received, 'Events read from the server'),
      stat('Waiting', counters.waiting, 'Events read but not drawn yet'),
      stat('Messages shown', counters.shown, 'Messages in the list'),
      stat('Dropped from view', counters.dropped, 'Older messages removed to keep the list short'),
      stat('Missed', counters.missed, 'Events the server dropped while the page was not reading'),
    ),
    notices,
    view.element,
  );
  ctx.signal.addEventListener('abort', () => {
    stop();
    cancelAnimationFrame(frame);
  });
  return { update: () => undefined };
}

/** ` where exchange "x", queue "q", up to 1,000 events` for the hello line's filter. @param {Record<string, unknown>} filter */
function filterWords(filter) {
  const { max, ...fields } = filter;
  const parts = Object.entries(fields)
    // An empty exchange is the default exchange (the server says `amq.default` that way); other empty fields are no filter.
    .filter(([key, value]) => value !== undefined && value !== null && (value !== '' || key === 'exchange'))
    .map(([key, value]) => `${key.replace('_', ' ')} ${key === 'exchange' && value === '' ? '(AMQP default)' : typeof value === 'string' ? `"${value}"` : JSON.stringify(value)}`);
  const limit = typeof max === 'number' ? `, up to ${num(max)} events` : '';
  return `${parts.length ? ` where ${parts.join(', ')}` : ', every message'}${limit}`;
}
