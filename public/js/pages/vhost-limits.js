// @ts-check
/**
 * Virtual host limits (max-connections, max-queues): read for the vhost list, and a form that sets or
 * clears one. No limit is RabbitMQ's "unlimited"; clearing deletes the limit rather than writing -1.
 */
import { api, path } from '../api.js';
import { h } from '../dom.js';
import { Status, field, input, onClick, onSubmit, select, submit } from '../forms.js';
import { fillVhostSelect } from '../list.js';

export const LIMITS = /** @type {const} */ (['max-connections', 'max-queues']);
/** @typedef {typeof LIMITS[number]} LimitName */
/** @typedef {Partial<Record<LimitName, number>>} Limits */

/** Limits by vhost name; vhosts without limits are absent. @param {AbortSignal} signal @returns {Promise<Map<string, Limits>>} */
export async function loadLimits(signal) {
  const all = /** @type {Array<{vhost: string, value: Limits}>} */ (await api.get('/vhost-limits', undefined, signal));
  return new Map(all.map((l) => [l.vhost, l.value ?? {}]));
}

/** @param {Limits | undefined} limits @param {LimitName} name */
export function limitText(limits, name) {
  const value = limits?.[name];
  return typeof value === 'number' && value >= 0 ? String(value) : 'no limit';
}

/**
 * The set / clear form.
 * @param {import('../app.js').PageContext} ctx
 * @param {() => void} onChanged
 */
export function limitsForm(ctx, onChanged) {
  const status = new Status();
  const vhost = select([], { required: true });
  vhost.dataset.wanted = '/';
  fillVhostSelect(vhost, status, ctx.signal);
  const limit = select(LIMITS.map((l) => ({ value: l, label: l })));
  const value = input({ inputMode: 'numeric', placeholder: 'e.g. 100' });
  const clear = h('button', { type: 'button', text: 'Clear limit' });
  /** The limits of the vhost last picked with its row's Limits button, to prefill the value. @type {{name: string, limits: Limits | undefined} | null} */
  let editing = null;
  const prefill = () => {
    const current = editing && editing.name === vhost.value ? editing.limits?.[/** @type {LimitName} */ (limit.value)] : undefined;
    value.value = typeof current === 'number' && current >= 0 ? String(current) : '';
  };
  limit.addEventListener('change', () => editing && prefill());
  const form = h(
    'form',
    { class: 'grid-form limits-form', 'aria-labelledby': 'vhost-limits-title' },
    h('h2', { id: 'vhost-limits-title', text: 'Virtual host limits' }),
    field('Virtual host', vhost),
    field('Limit', limit),
    field('Value', value, { hint: 'A whole number ≥ 0 (0 allows none). Clear the limit to allow any number.' }),
    h('div', { class: 'actions' }, submit('Set limit'), clear),
    status.element,
  );
  onSubmit(form, status, async () => {
    const text = value.value.trim();
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      value.setAttribute('aria-invalid', 'true');
      throw new Error(`${limit.value} must be a whole number ≥ 0, not "${value.value}".`);
    }
    value.removeAttribute('aria-invalid');
    await api.put(path`/vhost-limits/${vhost.value}/${limit.value}`, { value: Number(text) });
    onChanged();
    return `${limit.value} of ${vhost.value} set to ${text}.`;
  });
  onClick(clear, status, async () => {
    value.removeAttribute('aria-invalid');
    await api.del(path`/vhost-limits/${vhost.value}/${limit.value}`);
    onChanged();
    return `${limit.value} of ${vhost.value} cleared.`;
  });
  return {
    element: form,
    /** Prefills the form for one vhost (its row's Limits button). @param {string} name @param {Limits | undefined} limits */
    edit(name, limits) {
      vhost.value = name;
      editing = { name, limits };
      prefill();
      status.clear();
      value.focus();
    },
  };
}
