import type { Broker } from '../broker/broker.js';
import { BrokerError } from '../broker/errors.js';
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
