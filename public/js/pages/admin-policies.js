// @ts-check
/**
 * Admin › Policies and Admin › Operator policies: one page built twice. A list with each definition as
 * chips (keys Warren accepts but does not act on greyed), a form that adds or updates one, delete after
 * confirming. Operator policies differ only in the keys and apply-to values they take.
 */
import { api, isPaged, path } from '../api.js';
import { DefinitionEditor } from '../definition-editor.js';
import { h, replaceChildren } from '../dom.js';
import { Status, confirmAction, field, input, onSubmit, select, submit } from '../forms.js';
import { fillVhostSelect } from '../list.js';
import { APPLY_TO, OPERATOR_APPLY_TO, OPERATOR_POLICY_KEYS, POLICY_KEYS, definitionChips } from '../policy-keys.js';
import * as router from '../router.js';
import { DataTable, rowKey } from '../table.js';
import { adminHead } from './admin-nav.js';

/**
 * @typedef {Object} Policy
 * @property {string} vhost
 * @property {string} name
 * @property {string} pattern
 * @property {string} apply-to
 * @property {Record<string, unknown>} definition
 * @property {number} priority
 * @property {string[]} [inert_keys] keys Warren accepts but does not act on
 */

/**
 * @typedef {Object} PolicyKind
 * @property {'policies' | 'operator-policies'} resource the API collection, also the admin tab id
 * @property {string} title
 * @property {string} noun `policy` / `operator policy`
 * @property {import('../policy-keys.js').KnownKey[]} keys
 * @property {boolean} freeForm whether keys beyond `keys` may be set
 * @property {string[]} applyTo
 */

/** @type {PolicyKind} */
const POLICIES = { resource: 'policies', title: 'Policies', noun: 'policy', keys: POLICY_KEYS, freeForm: true, applyTo: APPLY_TO };
/** @type {PolicyKind} */
const OPERATOR_POLICIES = {
  resource: 'operator-policies',
  title: 'Operator policies',
  noun: 'operator policy',
  keys: OPERATOR_POLICY_KEYS,
  freeForm: false,
  applyTo: OPERATOR_APPLY_TO,
};

/** @type {import('../app.js').PageFn} */
export function mountPolicies(root, params, location, ctx) {
  return mountKind(POLICIES, root, params, location, ctx);
}

/** @type {import('../app.js').PageFn} */
export function mountOperatorPolicies(root, params, location, ctx) {
  return mountKind(OPERATOR_POLICIES, root, params, location, ctx);
}

/** @param {string} text */
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * @param {PolicyKind} kind
 * @param {Parameters<import('../app.js').PageFn>} args
 */
function mountKind(kind, ...args) {
  const [root, , location, ctx] = args;
  const Noun = capital(kind.noun);
  ctx.title(kind.title);
  const status = new Status();
  let vhostFilter = location.query.get('vhost') ?? '';
  const filter = select([{ value: '', label: 'All virtual hosts' }]);
  filter.dataset.wanted = vhostFilter;
  fillVhostSelect(filter, status, ctx.signal, { all: true });
  filter.addEventListener('change', () => router.go(router.href(['admin', kind.resource], { vhost: filter.value })));
  /** Names currently listed, so the form can say "added" or "updated". @type {Set<string>} */
  let known = new Set();

  /** @param {Policy} p */
  async function remove(p) {
    const ok = await confirmAction({
      title: `Delete ${kind.noun} ${p.name}?`,
      message: `Delete the ${kind.noun} "${p.name}" in virtual host "${p.vhost}"? Queues and exchanges it applies to fall back to the next matching ${kind.noun}, or to none.`,
      confirm: `Delete ${kind.noun}`,
    });
    if (!ok) return;
    status.clear();
    try {
      await api.del(path`/${kind.resource}/${p.vhost}/${p.name}`);
      status.ok(`${Noun} ${p.name} in ${p.vhost} deleted.`);
      poller.now();
    } catch (error) {
      status.error(error);
    }
  }

  /** @type {DataTable<Policy>} */
  const table = new DataTable({
    caption: kind.title,
    key: (p) => rowKey(p.vhost, p.name),
    empty: `No ${kind.title.toLowerCase()}.`,
    columns: [
      { id: 'vhost', label: 'Virtual host', text: (p) => p.vhost },
      { id: 'name', label: 'Name', text: (p) => p.name },
      { id: 'pattern', label: 'Pattern', text: (p) => p.pattern },
      { id: 'apply-to', label: 'Apply to', text: (p) => p['apply-to'] },
      { id: 'priority', label: 'Priority', numeric: true, text: (p) => String(p.priority) },
      {
        id: 'definition',
        label: 'Definition',
        create: () => h('span'),
        update: (el, p) => {
          const key = JSON.stringify([p.definition, p.inert_keys ?? []]);
          if (el.dataset.key === key) return;
          el.dataset.key = key;
          el.replaceChildren(definitionChips(p.definition, p.inert_keys));
        },
      },
      {
        id: 'actions',
        label: 'Actions',
        create: () => h('span', { class: 'row-actions' }, h('button', { type: 'button', class: 'small', text: 'Edit' }), h('button', { type: 'button', class: 'small danger', text: 'Delete' })),
        update: (el, p) => {
          const [editButton, deleteButton] = /** @type {HTMLButtonElement[]} */ ([...el.children]);
          if (editButton) {
            editButton.onclick = () => fill(p);
            editButton.setAttribute('aria-label', `Edit ${kind.noun} ${p.name} in ${p.vhost}`);
          }
          if (deleteButton) {
            deleteButton.onclick = () => void remove(p);
            deleteButton.setAttribute('aria-label', `Delete ${kind.noun} ${p.name} in ${p.vhost}`);
          }
        },
      },
    ],
  });

  const poller = ctx.every(5000, async () => {
    const result = await api.get(vhostFilter ? path`/${kind.resource}/${vhostFilter}` : `/${kind.resource}`, undefined, ctx.signal);
    const all = /** @type {Policy[]} */ (isPaged(result) ? result.items : result);
    all.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name));
    known = new Set(all.map((p) => rowKey(p.vhost, p.name)));
    table.setRows(all);
  });

  // Adding or updating.
  const formStatus = new Status();
  const formTitleId = `${kind.resource}-form-title`;
  const vhost = select([], { required: true });
  vhost.dataset.wanted = vhostFilter || '/';
  fillVhostSelect(vhost, formStatus, ctx.signal);
  const name = input({ required: true });
  const pattern = input({ required: true, placeholder: '^orders\\.' });
  const applyTo = select(kind.applyTo);
  applyTo.value = kind.applyTo.includes('all') ? 'all' : 'queues';
  const priority = input({ type: 'number', value: '0', step: '1', inputMode: 'numeric' });
  const definition = new DefinitionEditor('Definition', { known: kind.keys, freeForm: kind.freeForm });
  const form = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': formTitleId },
    h('h2', { id: formTitleId, text: `Add or update ${kind.noun === 'policy' ? 'a policy' : 'an operator policy'}` }),
    field('Virtual host', vhost),
    field('Name', name),
    field('Pattern', pattern, { hint: 'Regular expression matched against queue and exchange names.' }),
    field('Apply to', applyTo),
    field('Priority', priority, { hint: `The highest priority ${kind.noun} that matches wins.` }),
    definition.element,
    h('div', { class: 'actions' }, submit(`Save ${kind.noun}`)),
    formStatus.element,
  );

  /** @param {Policy} p */
  function fill(p) {
    vhost.value = p.vhost;
    name.value = p.name;
    pattern.value = p.pattern;
    applyTo.value = p['apply-to'];
    priority.value = String(p.priority);
    definition.set(p.definition, p.inert_keys);
    formStatus.clear();
    name.focus();
  }

  onSubmit(form, formStatus, async () => {
    const policyName = name.value.trim();
    if (!policyName) throw new Error(`Give the ${kind.noun} a name.`);
    if (!pattern.value) throw new Error('Give a pattern (a regular expression; ".*" matches every name).');
    try {
      new RegExp(pattern.value);
    } catch {
      throw new Error(`Pattern: "${pattern.value}" is not a valid regular expression.`);
    }
    const prio = Number(priority.value.trim() || '0');
    if (!Number.isSafeInteger(prio)) throw new Error(`Priority must be a whole number, not "${priority.value}".`);
    const body = { pattern: pattern.value, definition: definition.value(), priority: prio, 'apply-to': applyTo.value };
    const existed = known.has(rowKey(vhost.value, policyName));
    await api.put(path`/${kind.resource}/${vhost.value}/${policyName}`, body);
    poller.now();
    return `${Noun} ${policyName} in ${vhost.value} ${existed ? 'updated' : 'added'}.`;
  });

  replaceChildren(
    root,
    ...adminHead(kind.resource, kind.title, ctx.has('administrator')),
    h('div', { class: 'list-controls' }, field('Virtual host', filter)),
    status.element,
    table.element,
    form,
  );
  return {
    /** @param {import('../router.js').Location} next */
    update(next) {
      vhostFilter = next.query.get('vhost') ?? '';
      filter.dataset.wanted = vhostFilter;
      if ([...filter.options].some((o) => o.value === vhostFilter)) filter.value = vhostFilter;
      poller.now();
    },
  };
}
