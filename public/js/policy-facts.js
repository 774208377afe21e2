// @ts-check
/**
 * The policy facts of one queue or exchange: which policy and operator policy apply, and (queues) the
 * definition that results, as chips. Names link to the policy lists for those who may open them.
 */
import { h } from './dom.js';
import { definitionChips } from './policy-keys.js';
import * as router from './router.js';

/**
 * @typedef {Object} PolicyFacts
 * @property {HTMLElement} element
 * @property {(item: {policy?: string | null, operator_policy?: string | null, effective_policy_definition?: Record<string, unknown>}) => void} update
 */

/**
 * @param {import('./app.js').PageContext} ctx
 * @param {string} vhost
 * @param {{effective: boolean}} options `effective`: also the operator policy and the effective definition (queues)
 * @returns {PolicyFacts}
 */
export function policyFacts(ctx, vhost, options) {
  const admin = ctx.has('administrator');
  const policymaker = admin || ctx.has('policymaker');
  const policy = h('dd', { 'data-fact': 'Policy' });
  const operator = h('dd', { 'data-fact': 'Operator policy' });
  const effective = h('dd', { 'data-fact': 'Effective policy definition' });
  /** @param {string} label @param {HTMLElement} dd */
  const fact = (label, dd) => h('div', { class: 'fact' }, h('dt', { text: label }), dd);
  const element = h(
    'dl',
    { class: 'facts policy-facts' },
    fact('Policy', policy),
    options.effective ? fact('Operator policy', operator) : null,
    options.effective ? h('div', { class: 'fact wide' }, h('dt', { text: 'Effective policy definition' }), effective) : null,
  );

  /** @param {HTMLElement} dd @param {string | null | undefined} name @param {'policies' | 'operator-policies'} tab */
  function showName(dd, name, tab) {
    const key = name ?? '';
    if (dd.dataset.key === key && dd.childNodes.length > 0) return;
    dd.dataset.key = key;
    if (!name) {
      dd.replaceChildren(h('span', { class: 'hint', text: 'none' }));
      return;
    }
    const linked = tab === 'policies' ? policymaker : admin;
    dd.replaceChildren(linked ? h('a', { href: router.href(['admin', tab], { vhost }), text: name }) : name);
  }

  return {
    element,
    update(item) {
      showName(policy, item.policy, 'policies');
      if (!options.effective) return;
      showName(operator, item.operator_policy, 'operator-policies');
      const definition = item.effective_policy_definition ?? {};
      const key = JSON.stringify(definition);
      if (effective.dataset.key === key && effective.childNodes.length > 0) return;
      effective.dataset.key = key;
      effective.replaceChildren(definitionChips(definition));
    },
  };
}
