// @ts-check
/**
 * Cluster: the nodes, which one leads, the epoch, the in-sync replica set and each follower's lag
 * (`GET /api/cluster`, monitoring and administrator users). A broker started without `--cluster`
 * says it is a single node. Asked through any node, the answer is the leader's.
 */
import { api, ApiError } from '../api.js';
import { h, replaceChildren, setText } from '../dom.js';
import { num } from '../format.js';
import { DataTable, rowKey } from '../table.js';

/**
 * @typedef {Object} Member
 * @property {string} nodeId
 * @property {string} advertise
 * @property {'leader' | 'follower'} role
 * @property {string} state
 * @property {number} [ackedSeq]
 * @property {number} [lagEntries]
 */

/**
 * @typedef {{cluster: false, node: string}
 *   | {cluster: true, node: string, role: string, epoch: string, leader: string | null, minInsync: number, isr: string[], members: Member[]}} ClusterStatus
 */

/** @param {HTMLElement} el @param {string} state */
function memberBadge(el, state) {
  setText(el, state);
  // Colours as the connection states: in sync is running, catching up is flow, out of sync is blocked.
  const tone = { leader: 'running', 'in-sync': 'running', 'catching-up': 'flow', 'out-of-sync': 'blocked' }[state] ?? 'idle';
  el.className = `badge state-${tone}`;
}

/** @type {import('../app.js').PageFn} */
export function mountCluster(root, _params, _location, ctx) {
  ctx.title('Cluster');
  const error = h('p', { class: 'status error', role: 'alert', hidden: true });
  const single = h('p', { class: 'status ok', 'data-cluster': 'single', hidden: true });
  /** @type {Record<string, HTMLElement>} */
  const values = {};
  const stat = (/** @type {string} */ id, /** @type {string} */ label) => {
    const value = h('dd', { 'data-stat': id, text: '–' });
    values[id] = value;
    return h('div', { class: 'stat' }, h('dt', { text: label }), value);
  };
  /** @type {Set<string>} */
  let isr = new Set();
  /** @type {DataTable<Member>} */
  const members = new DataTable({
    caption: 'Cluster nodes',
    key: (m) => rowKey(m.nodeId),
    empty: 'No nodes known.',
    columns: [
      { id: 'node', label: 'Node', text: (m) => m.nodeId },
      { id: 'role', label: 'Role', text: (m) => m.role },
      { id: 'state', label: 'State', create: () => h('span', { class: 'badge' }), update: (el, m) => memberBadge(el, m.state) },
      { id: 'isr', label: 'In sync (ISR)', text: (m) => (isr.has(m.nodeId) ? 'yes' : 'no') },
      { id: 'acked', label: 'Acked entry', numeric: true, text: (m) => (m.ackedSeq === undefined ? '–' : num(m.ackedSeq)) },
      { id: 'lag', label: 'Lag (entries)', numeric: true, text: (m) => (m.lagEntries === undefined ? '–' : num(m.lagEntries)) },
      { id: 'advertise', label: 'Address', text: (m) => m.advertise },
    ],
  });
  const clustered = h(
    'div',
    { 'data-cluster': 'nodes', hidden: true },
    h('dl', { class: 'stats' }, stat('leader', 'Leader'), stat('epoch', 'Epoch'), stat('isr', 'In-sync replicas'), stat('min-insync', 'Min in-sync')),
    h('section', { 'aria-labelledby': 'cluster-nodes-title' }, h('h2', { id: 'cluster-nodes-title', text: 'Nodes' }), members.element),
  );

  replaceChildren(root, h('div', { class: 'page-head' }, h('h1', { tabIndex: -1, text: 'Cluster' })), error, single, clustered);

  ctx.every(2000, async () => {
    try {
      show(/** @type {ClusterStatus} */ (await api.get('/cluster', undefined, ctx.signal)));
      error.hidden = true;
    } catch (e) {
      if (ctx.signal.aborted) return;
      error.hidden = false;
      setText(error, `Could not load the cluster status: ${e instanceof ApiError ? e.message : String(e)}`);
      throw e;
    }
  });

  /** @param {ClusterStatus} status */
  function show(status) {
    if (!status.cluster) {
      clustered.hidden = true;
      single.hidden = false;
      setText(single, `Single node: ${status.node} runs without --cluster, so there is no leader, replica set or lag to show.`);
      return;
    }
    single.hidden = true;
    clustered.hidden = false;
    isr = new Set(status.isr);
    const set = (/** @type {string} */ id, /** @type {string} */ text) => {
      const el = values[id];
      if (el) setText(el, text);
    };
    set('leader', status.leader ?? 'none');
    set('epoch', status.epoch || '–');
    set('isr', `${num(status.isr.length)} of ${num(status.members.length)}`);
    set('min-insync', num(status.minInsync));
    // Leader first, then followers by node id: a stable order while states change.
    const ordered = [...status.members].sort((a, b) => (a.role === b.role ? a.nodeId.localeCompare(b.nodeId) : a.role === 'leader' ? -1 : 1));
    members.setRows(ordered);
  }
}
