/**
 * The `topic_permissions` section of RabbitMQ's definitions JSON: `{user, vhost, exchange, write, read}`
 * items. Only the full (cluster) document has it, as in RabbitMQ; a per-vhost import leaves it alone, as
 * it does users and permissions.
 */
import type { TopicPermission } from '../../auth/topic-permissions.js';
import { TopicPermissions } from '../../auth/topic-permissions.js';
import type { UserStore } from '../../auth/user-store.js';
import { BrokerError } from '../../broker/errors.js';
import type { Actor } from '../../operations/caller.js';
import type { Operations } from '../../operations/operations.js';

export function exportTopicPermissions(users: UserStore): Record<string, unknown>[] {
  return users.topicPermissions.list().map((p) => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read }));
}

/** Whether a user or vhost exists already or is made earlier by the same document. */
export interface KnownNames {
  user(name: string): boolean;
  vhost(name: string): boolean;
}

const FIELDS = ['user', 'vhost', 'exchange', 'write', 'read'] as const;

/**
 * Checks the section before anything is imported — shape, user, vhost, regexes — so a bad item refuses
 * the whole file instead of leaving half of it imported. Returns the permissions to set.
 */
export function planTopicPermissions(section: readonly unknown[] | undefined, known: KnownNames): TopicPermission[] {
  // A scratch store compiles each regex exactly as the real one will, and tells no one.
  const scratch = new TopicPermissions(() => undefined);
  return (section ?? []).map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`topic permission ${index} is not an object`);
    const fields: Record<string, unknown> = { ...item };
    for (const field of FIELDS) {
      if (typeof fields[field] !== 'string') throw invalid(`topic permission ${index} has no string '${field}'`);
    }
    const permission: TopicPermission = {
      user: String(fields['user']),
      vhost: String(fields['vhost']),
      exchange: String(fields['exchange']),
      write: String(fields['write']),
      read: String(fields['read']),
    };
    const what = `topic permission of '${permission.user}' on exchange '${permission.exchange}'`;
    if (!known.user(permission.user)) throw invalid(`${what}: unknown user '${permission.user}'`);
    if (!known.vhost(permission.vhost)) throw invalid(`${what}: vhost '${permission.vhost}' does not exist`);
    try {
      scratch.set(permission);
    } catch (error) {
      throw invalid(`${what}: ${(error as Error).message}`);
    }
    return permission;
  });
}

/** Sets each planned permission as a trusted actor; called after users, vhosts and permissions. */
export async function importTopicPermissions(ops: Operations, actor: Actor, plans: readonly TopicPermission[]): Promise<void> {
  for (const permission of plans) await ops.admin.setTopicPermission(actor, permission);
}

function invalid(message: string): BrokerError {
  return new BrokerError('PRECONDITION_FAILED', `definitions: ${message}`);
}
