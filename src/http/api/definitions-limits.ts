/**
 * Limits in RabbitMQ's definitions JSON: a vhost's as a `parameters` entry of component `vhost-limits`
 * named `limits`, a user's as `users[].limits` (`{}` when none), as RabbitMQ 3.13 exports them.
 */
import { USER_LIMITS, type User, type UserLimits, type UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import { BrokerError } from '../../broker/errors.js';
import type { VHost } from '../../broker/vhost.js';
import { hasLimits, limitReached, parseLimits, VHOST_LIMITS, type VHostLimits } from '../../broker/vhost-limits.js';
import type { Actor } from '../../operations/caller.js';
import type { Operations } from '../../operations/operations.js';

export const VHOST_LIMITS_COMPONENT = 'vhost-limits';

/** One `parameters` entry per vhost with limits; the per-vhost shape leaves out `vhost`, as RabbitMQ's does. */
export function exportVhostLimits(vhosts: readonly VHost[], perVhost: boolean): Record<string, unknown>[] {
  return vhosts
    .filter((vhost) => hasLimits(vhost.limits))
    .map((vhost) => ({ value: { ...vhost.limits }, ...(perVhost ? {} : { vhost: vhost.name }), component: VHOST_LIMITS_COMPONENT, name: 'limits' }));
}

export function exportUserLimits(user: User): Record<string, number> {
  return { ...user.limits };
}

/** Whether a `parameters` entry is a vhost's limits, which the import carries out (other components it cannot). */
export function isVhostLimitsParameter(entry: unknown): boolean {
  return isObject(entry) && entry['component'] === VHOST_LIMITS_COMPONENT;
}

/** The limits a document sets, checked before the import changes anything. */
export interface LimitsPlan {
  readonly vhosts: ReadonlyMap<string, VHostLimits>;
  readonly users: ReadonlyMap<string, UserLimits>;
}

interface LimitsDocument {
  readonly users?: ReadonlyArray<{ readonly name: string; readonly limits?: unknown }> | undefined;
  readonly vhosts?: ReadonlyArray<{ readonly name: string; readonly limits?: unknown }> | undefined;
  readonly parameters?: readonly unknown[] | undefined;
  readonly queues?: ReadonlyArray<{ readonly name: string; readonly vhost?: string | undefined }> | undefined;
}

const invalid = (message: string): BrokerError => new BrokerError('PRECONDITION_FAILED', `definitions: ${message}`);

/**
 * Checks every limit in the document. `vhostOf` resolves an item's vhost as the import does (the URL's
 * vhost for a per-vhost import). `vhosts[].limits` (newer RabbitMQ exports carry them) count where no
 * `vhost-limits` parameter names the vhost. `users` is null for a per-vhost import, which has none.
 * Also refuses, as RabbitMQ's `validate_limits` does, a file whose new queues the vhost's current
 * `max-queues` would refuse: better than an import that stops half-way.
 */
export function planLimits(doc: LimitsDocument, broker: Broker, full: boolean, vhostOf: (item: { vhost?: string | undefined }, what: string) => string): LimitsPlan {
  const vhosts = new Map<string, VHostLimits>();
  const users = new Map<string, UserLimits>();
  if (full) {
    for (const v of doc.vhosts ?? []) {
      // RabbitMQ itself ignores these on import; an empty one says nothing worth clearing a vhost's limits for.
      if (v.limits === undefined || (isObject(v.limits) && Object.keys(v.limits).length === 0)) continue;
      vhosts.set(v.name, parsed(VHOST_LIMITS, v.limits, `limits of vhost '${v.name}'`));
    }
    for (const u of doc.users ?? []) {
      if (u.limits === undefined) continue;
      users.set(u.name, parsed(USER_LIMITS, u.limits, `limits of user '${u.name}'`));
    }
  }
  for (const entry of doc.parameters ?? []) {
    if (!isObject(entry) || entry['component'] !== VHOST_LIMITS_COMPONENT) continue;
    const where = typeof entry['vhost'] === 'string' ? { vhost: entry['vhost'] } : {};
    const vhost = vhostOf(where, 'vhost-limits parameter');
    if (entry['name'] !== 'limits') throw invalid(`vhost-limits parameter of vhost '${vhost}' must be named 'limits', not ${JSON.stringify(entry['name'])}`);
    vhosts.set(vhost, parsed(VHOST_LIMITS, entry['value'], `vhost-limits of vhost '${vhost}'`));
  }
  const added = new Map<string, number>();
  for (const q of doc.queues ?? []) {
    const vhost = broker.vhosts.get(vhostOf(q, `queue '${q.name}'`));
    if (vhost && !vhost.queues.has(q.name)) added.set(vhost.name, (added.get(vhost.name) ?? 0) + 1);
  }
  for (const [name, count] of added) {
    const vhost = broker.vhost(name);
    const limit = vhost.limits['max-queues'];
    if (limit !== undefined && limitReached(limit, vhost.queues.size + count - 1)) {
      throw invalid(
        `Adding ${count} queue(s) to virtual host "${name}" would exceed the limit of ${limit} queue(s).\n\n` +
          `This virtual host currently has ${vhost.queues.size} queue(s) defined.\n\nImport aborted!`,
      );
    }
  }
  return { vhosts, users };
}

/**
 * Sets the planned limits, after the queues and users they apply to exist: limits never make an import
 * of an export fail, even when an operator lowered one below what the vhost already held. A user's
 * limits from the file are merged into those it has, as RabbitMQ's `put_user` does; a vhost's replace them.
 */
export async function importLimits(ops: Operations, users: UserStore, actor: Actor, plan: LimitsPlan): Promise<void> {
  for (const [user, limits] of plan.users) {
    if (!hasLimits(limits)) continue;
    await ops.limits.replaceUserLimits(actor, user, { ...users.getUser(user)?.limits, ...limits });
  }
  for (const [vhost, limits] of plan.vhosts) await ops.limits.replaceVhostLimits(actor, vhost, limits);
}

function parsed<Name extends string>(kind: Parameters<typeof parseLimits<Name>>[0], value: unknown, what: string): Readonly<Partial<Record<Name, number>>> {
  const limits = parseLimits(kind, value);
  if (typeof limits === 'string') throw invalid(`${what}: ${limits}`);
  return limits;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
