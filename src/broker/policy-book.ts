import { effectiveQueueLimits } from './effective-policy.js';
import type { Exchange } from './exchange.js';
import type { Policy, PolicyKind, PolicyTarget } from './policy.js';
import type { QueueLimits } from './queue-arguments.js';

/** What the policies decide for one queue: which apply, and the limits its arguments come to under them. */
export interface QueuePolicies {
  readonly policy: Policy | undefined;
  readonly operator: Policy | undefined;
  readonly limits: QueueLimits;
}

/**
 * A vhost's policies and operator policies, by name. Which one applies to an object is decided here:
 * the matching policy of highest priority; between equal priorities, the one whose name sorts first.
 * RabbitMQ leaves that tie to its table's storage order, which no one can rely on; a fixed rule means
 * the same definitions give the same result on every start and every node.
 */
export class PolicyBook {
  private readonly byKind: Record<PolicyKind, Map<string, Policy>> = { policy: new Map(), 'operator-policy': new Map() };

  get(kind: PolicyKind, name: string): Policy | undefined {
    return this.byKind[kind].get(name);
  }

  list(kind: PolicyKind): Policy[] {
    return [...this.byKind[kind].values()].sort(byPrecedence);
  }

  get size(): number {
    return this.byKind.policy.size + this.byKind['operator-policy'].size;
  }

  /** Returns the policy it replaced, if any. */
  put(policy: Policy): Policy | undefined {
    const previous = this.byKind[policy.kind].get(policy.name);
    this.byKind[policy.kind].set(policy.name, policy);
    return previous;
  }

  delete(kind: PolicyKind, name: string): Policy | undefined {
    const policy = this.byKind[kind].get(name);
    if (policy) this.byKind[kind].delete(name);
    return policy;
  }

  /** For a queue of that name and those arguments. */
  forQueue(name: string, args: Readonly<Record<string, unknown>>): QueuePolicies {
    const policy = this.match('policy', 'queue', name);
    const operator = this.match('operator-policy', 'queue', name);
    return { policy, operator, limits: effectiveQueueLimits(args, policy, operator) };
  }

  /** Gives the exchange the policies that now apply to it. */
  applyTo(exchange: Exchange): void {
    exchange.policy = this.match('policy', 'exchange', exchange.name);
    exchange.operatorPolicy = this.match('operator-policy', 'exchange', exchange.name);
  }

  /** The policy of that kind that applies to the queue or exchange named `name`, if any. */
  match(kind: PolicyKind, target: PolicyTarget, name: string): Policy | undefined {
    let best: Policy | undefined;
    for (const policy of this.byKind[kind].values()) {
      if (policy.matches(target, name) && (!best || byPrecedence(policy, best) < 0)) best = policy;
    }
    return best;
  }
}

/** Highest priority first; then by name, so a tie has one answer. */
export function byPrecedence(a: Policy, b: Policy): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
