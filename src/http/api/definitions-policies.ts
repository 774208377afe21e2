/**
 * Policies in RabbitMQ's definitions format: user policies in `policies`, operator policies as `parameters`
 * entries of component `operator_policy` (where RabbitMQ 3.8–4.x puts them).
 */
import { BrokerError } from '../../broker/errors.js';
import { parsePolicySpec, policyKeys, type PolicyKind, type PolicySpec } from '../../broker/policy.js';
import type { VHost } from '../../broker/vhost.js';
import { unsafePattern } from '../../operations/policy-operations.js';
import type { ImportReport } from './definitions-report.js';

export const OPERATOR_POLICY_COMPONENT = 'operator_policy';

/** `policies` and the operator policies' `parameters` entries of these vhosts; `perVhost` leaves out `vhost` keys. */
export function exportPolicies(vhosts: readonly VHost[], perVhost: boolean): { policies: unknown[]; parameters: unknown[] } {
  const policies: unknown[] = [];
  const parameters: unknown[] = [];
  for (const vhost of vhosts) {
    const where = perVhost ? {} : { vhost: vhost.name };
    for (const p of vhost.policies.list('policy')) {
      policies.push({ ...where, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: p.definition, priority: p.priority });
    }
    for (const p of vhost.policies.list('operator-policy')) {
      parameters.push({
        value: { pattern: p.pattern, definition: p.definition, priority: p.priority, 'apply-to': p.applyTo },
        ...where,
        component: OPERATOR_POLICY_COMPONENT,
        name: p.name,
      });
    }
  }
  return { policies, parameters };
}

/** One policy of a document, checked and ready to set. */
export interface PolicyPlan {
  readonly kind: PolicyKind;
  readonly vhost: string;
  readonly name: string;
  readonly spec: PolicySpec;
}

interface PolicyItem {
  readonly name?: unknown;
  readonly pattern?: unknown;
  readonly definition?: unknown;
  readonly priority?: unknown;
  readonly 'apply-to'?: unknown;
}

/**
 * Checks one policy of a document. Definition keys this Warren does not know (a plugin's, or a newer
 * RabbitMQ's) are left out and reported rather than failing the import; a known key with a bad value,
 * a bad pattern or a bad apply-to fails it, before anything changes.
 */
export function planPolicy(kind: PolicyKind, vhost: string, item: PolicyItem, report: ImportReport): PolicyPlan {
  const what = `${kind === 'policy' ? 'policy' : 'operator policy'} '${String(item.name)}' in vhost '${vhost}'`;
  if (typeof item.name !== 'string') throw new BrokerError('PRECONDITION_FAILED', `definitions: a ${kind} has no name`);
  let definition = item.definition;
  if (typeof definition === 'object' && definition !== null && !Array.isArray(definition)) {
    const known = new Set(policyKeys(kind).map((k) => k.key));
    const kept = Object.entries(definition).filter(([key]) => known.has(key));
    for (const [key] of Object.entries(definition)) if (!known.has(key)) report.notImported(`${what}: definition key '${key}' (Warren does not know it)`);
    definition = Object.fromEntries(kept);
  }
  const spec = parsePolicySpec(kind, { pattern: item.pattern, definition, priority: item.priority, applyTo: item['apply-to'] });
  const refused = (problem: BrokerError): BrokerError =>
    new BrokerError('PRECONDITION_FAILED', `definitions: ${what}: ${problem.message.replace(/\s+/g, ' ').trim()}`);
  if (spec instanceof BrokerError) throw refused(spec);
  const unsafe = unsafePattern(spec.pattern);
  if (unsafe) throw refused(unsafe);
  return { kind, vhost, name: item.name, spec };
}
