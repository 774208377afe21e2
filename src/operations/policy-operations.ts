import safeRegex from 'safe-regex2';
import type { Broker } from '../broker/broker.js';
import { BrokerError, preconditionFailed } from '../broker/errors.js';
import { parsePolicySpec, type PolicyInput, type PolicyKind } from '../broker/policy.js';
import type { Actor } from './caller.js';
import type { DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

/**
 * Policies and operator policies. As in RabbitMQ, a policymaker (or administrator) sets policies in the
 * vhosts it can reach, and only an administrator sets operator policies: they exist to cap what
 * policymakers ask for. Each resolves once the change is on disk.
 */
export class PolicyOperations {
  constructor(
    private readonly broker: Broker,
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  async putPolicy(actor: Actor, kind: PolicyKind, vhostName: string, name: string, input: PolicyInput): Promise<{ created: boolean }> {
    this.checkAllowed(actor, kind);
    const vhost = this.broker.vhost(vhostName);
    const spec = parsePolicySpec(kind, input);
    if (spec instanceof BrokerError) throw spec;
    const unsafe = unsafePattern(spec.pattern);
    if (unsafe) throw unsafe;
    const result = vhost.putPolicy(kind, name, spec);
    await this.watch.flushed();
    return result;
  }

  /** False when there was no such policy. */
  async deletePolicy(actor: Actor, kind: PolicyKind, vhostName: string, name: string): Promise<boolean> {
    this.checkAllowed(actor, kind);
    const deleted = this.broker.vhost(vhostName).deletePolicy(kind, name);
    await this.watch.flushed();
    return deleted;
  }

  private checkAllowed(actor: Actor, kind: PolicyKind): void {
    if (kind === 'operator-policy') this.permissions.checkAdministrator(actor);
    else this.permissions.checkTag(actor, 'policymaker');
  }
}

/**
 * Every queue and exchange name is matched against a policy's pattern on the event loop: a pattern that
 * can backtrack exponentially (nested quantifiers such as `(a+)+`) would let one policymaker stall the
 * whole broker. RabbitMQ's regex engine caps its work per match; JavaScript's does not, so such patterns
 * are refused.
 */
export function unsafePattern(pattern: string): BrokerError | undefined {
  if (safeRegex(pattern)) return undefined;
  return preconditionFailed(
    `Validation failed\n\n${JSON.stringify(pattern)} may take exponential time to match (nested quantifiers); Warren refuses such patterns\n`,
  );
}
