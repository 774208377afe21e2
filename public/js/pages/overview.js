// @ts-check
/**
 * Overview: message and object totals, live charts of queued messages and message rates over a chosen
 * range, and the node's facts (monitoring and administrator users).
 */
import { api, ApiError } from '../api.js';
import { LiveCharts, RANGES, rangePicker } from '../chart.js';
import { h, replaceChildren, setText } from '../dom.js';
import { bytes, duration, num, pick, pickNumber } from '../format.js';
import * as router from '../router.js';

/** Counters charted as rates: API key and legend label. */
const RATE_KEYS = [
  { key: 'publish', label: 'Publish' },
  { key: 'deliver_get', label: 'Deliver' },
  { key: 'ack', label: 'Ack' },
  { key: 'redeliver', label: 'Redeliver' },
];
// Total first, so the lines drawn after it (ready, unacked) stay visible where they equal it.
const LENGTH_KEYS = [
  { key: 'messages', label: 'Total' },
  { key: 'messages_ready', label: 'Ready' },
  { key: 'messages_unacknowledged', label: 'Unacked' },
];

/** @type {import('../app.js').PageFn} */
export function mountOverview(root, _params, location, ctx) {
  ctx.title('Overview');
  const wanted = location.query.get('range') ?? '600';
  const charts = new LiveCharts({
    rangeId: RANGES.some((r) => r.id === wanted) ? wanted : '600',
    lengths: { title: 'Queued messages', id: 'lengths', series: LENGTH_KEYS, from: (o) => o.queue_totals },
    rates: { title: 'Message rates', id: 'rates', series: RATE_KEYS, from: (o) => o.message_stats },
  });
  const picker = rangePicker(charts.rangeId, (id) => router.go(router.href(['overview'], { range: id })));
  /** @type {Record<string, HTMLElement>} */
  const totals = {};
  const stat = (/** @type {string} */ id, /** @type {string} */ label) => {
    const value = h('dd', { 'data-stat': id, text: '–' });
    totals[id] = value;
    return h('div', { class: 'stat' }, h('dt', { text: label }), value);
  };
  const error = h('p', { class: 'status error', role: 'alert', hidden: true });
  const nodeFacts = h('dl', { class: 'facts' });
  const nodeError = h('p', { class: 'status error', role: 'alert', hidden: true });

  replaceChildren(
    root,
    h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Overview' }), picker.element),
    error,
    h(
      'section',
      { 'aria-labelledby': 'totals-title' },
      h('h2', { id: 'totals-title', class: 'sr-only', text: 'Totals' }),
      h('dl', { class: 'stats' }, stat('ready', 'Ready'), stat('unacked', 'Unacked'), stat('total', 'Total messages')),
      h(
        'dl',
        { class: 'stats secondary' },
        stat('connections', 'Connections'),
        stat('channels', 'Channels'),
        stat('exchanges', 'Exchanges'),
        stat('queues', 'Queues'),
        stat('consumers', 'Consumers'),
      ),
    ),
    h('section', { class: 'charts', 'aria-label': 'Charts' }, ...charts.elements),
    h('section', { 'aria-labelledby': 'node-title' }, h('h2', { id: 'node-title', text: 'Node' }), nodeError, nodeFacts),
  );

  const poller = ctx.every(1000, async () => {
    try {
      const overview = await charts.poll((query) => api.get('/overview', query, ctx.signal));
      showTotals(overview);
      showVersion(overview);
      error.hidden = true;
    } catch (e) {
      if (ctx.signal.aborted) return;
      error.hidden = false;
      setText(error, `Could not load the overview: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  });

  /** @param {any} overview */
  function showTotals(overview) {
    const show = (/** @type {string} */ id, /** @type {string} */ dotted, /** @type {number | undefined} */ fallback) => {
      const el = totals[id];
      if (el) setText(el, num(pickNumber(overview, dotted) ?? fallback));
    };
    show('ready', 'queue_totals.messages_ready', 0);
    show('unacked', 'queue_totals.messages_unacknowledged', 0);
    show('total', 'queue_totals.messages', 0);
    for (const key of ['connections', 'channels', 'exchanges', 'queues', 'consumers']) show(key, `object_totals.${key}`, undefined);
  }

  /** Facts appear in this order, each once it is known. */
  const FACT_ORDER = ['Version', 'Node name', 'Node.js', 'Uptime', 'Memory used', 'JavaScript heap', 'Memory limit', 'CPU cores', 'Data on disk', 'Data directory', 'Disk free', 'File descriptors', 'Cluster'];
  /** @type {Map<string, {row: HTMLElement, dd: HTMLElement}>} */
  const facts = new Map();
  for (const label of FACT_ORDER) {
    const dd = h('dd', { 'data-fact': label });
    const row = h('div', { class: 'fact', hidden: true }, h('dt', { text: label }), dd);
    facts.set(label, { row, dd });
    nodeFacts.append(row);
  }
  /** @param {string} label @param {string} value */
  function fact(label, value) {
    const entry = facts.get(label);
    if (!entry) return;
    entry.row.hidden = false;
    setText(entry.dd, value);
  }

  /** @param {any} overview */
  function showVersion(overview) {
    fact('Version', `${overview.product_name ?? 'Warren'} ${overview.product_version ?? overview.rabbitmq_version ?? ''}`.trim());
    if (overview.node) fact('Node name', String(overview.node));
    const runtime = overview.node_version ?? overview.erlang_version;
    if (runtime) fact('Node.js', String(runtime));
    if (typeof overview.uptime === 'number') fact('Uptime', duration(overview.uptime));
    const rss = pickNumber(overview, 'memory.rss');
    if (rss !== undefined) fact('Memory used', bytes(rss));
    const heap = pickNumber(overview, 'memory.heap_used');
    if (heap !== undefined) fact('JavaScript heap', bytes(heap));
    if (overview.cluster_name) fact('Cluster', String(overview.cluster_name));
  }

  // Node facts need the monitoring tag (or administrator); others see the version only.
  if (ctx.has('monitoring') || ctx.has('administrator')) {
    ctx.every(5000, async () => {
      try {
        const nodes = /** @type {any[]} */ (await api.get('/nodes', undefined, ctx.signal));
        const node = nodes[0];
        nodeError.hidden = true;
        if (!node) return;
        if (typeof node.mem_limit === 'number') fact('Memory limit', bytes(node.mem_limit));
        const dataSize = node.data_dir_size ?? node.data_dir_bytes ?? pick(node, 'data_dir.size');
        if (typeof dataSize === 'number') fact('Data on disk', bytes(dataSize));
        if (typeof node.data_dir === 'string') fact('Data directory', node.data_dir);
        if (typeof node.disk_free === 'number') fact('Disk free', bytes(node.disk_free));
        if (typeof node.fd_used === 'number') fact('File descriptors', num(node.fd_used));
        if (typeof node.processors === 'number') fact('CPU cores', num(node.processors));
      } catch (e) {
        if (ctx.signal.aborted) return;
        nodeError.hidden = false;
        setText(nodeError, `Node facts are unavailable: ${e instanceof ApiError ? e.message : String(e)}`);
        throw e;
      }
    });
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

