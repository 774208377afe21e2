import { BrokerError } from '../broker/errors.js';

/**
 * RabbitMQ's topic permission: for one user in one vhost, which routing keys it may publish with to the
 * topic exchange `exchange` (`write`) and bind with from it (`read`).
 */
export interface TopicPermission {
  readonly user: string;
  readonly vhost: string;
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

export type TopicAccess = 'write' | 'read';

/** One topic permission, its regexes compiled with `{username}` and `{vhost}` already filled in. */
export interface CompiledTopicPermission extends TopicPermission {
  readonly patterns: Readonly<Record<TopicAccess, RegExp>>;
}

export interface TopicPermissionChange {
  readonly kind: 'topic-permission';
  readonly permission: TopicPermission;
  readonly deleted: boolean;
}

/**
 * The topic permissions of every user, owned by the `UserStore`, which tells each change to its
 * subscribers. Keyed user first: a publish by a user without any topic permission costs one map lookup.
 * A permission names its own user and vhost, and those are the only variables a WebSocket connection
 * has, so the regexes are expanded and compiled once, when set.
 */
export class TopicPermissions {
  /** user → vhost → exchange → permission */
  private readonly byUser = new Map<string, Map<string, Map<string, CompiledTopicPermission>>>();

  constructor(private readonly changed: (change: TopicPermissionChange) => void) {}

  /** Sorted as RabbitMQ lists them: by vhost, then user (then exchange, for a stable order). */
  list(filter: { vhost?: string; user?: string } = {}): TopicPermission[] {
    const out: TopicPermission[] = [];
    for (const [user, perUser] of this.byUser) {
      if (filter.user !== undefined && user !== filter.user) continue;
      for (const [vhost, perVhost] of perUser) {
        if (filter.vhost !== undefined && vhost !== filter.vhost) continue;
        for (const p of perVhost.values()) out.push(plain(p));
      }
    }
    return out.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.user.localeCompare(b.user) || a.exchange.localeCompare(b.exchange));
  }

  /** Throws a PRECONDITION_FAILED BrokerError naming the field when a regex does not compile. */
  set(permission: TopicPermission): { created: boolean } {
    const compiled = compile(permission);
    let perUser = this.byUser.get(permission.user);
    if (!perUser) this.byUser.set(permission.user, (perUser = new Map()));
    let perVhost = perUser.get(permission.vhost);
    if (!perVhost) perUser.set(permission.vhost, (perVhost = new Map()));
    const created = !perVhost.has(permission.exchange);
    perVhost.set(permission.exchange, compiled);
    this.changed({ kind: 'topic-permission', permission: plain(compiled), deleted: false });
    return { created };
  }

  /** Deletes the user's topic permission on `exchange` in `vhost`, or all of them there; returns how many. */
  delete(vhost: string, user: string, exchange?: string): number {
    const perVhost = this.byUser.get(user)?.get(vhost);
    if (!perVhost) return 0;
    const doomed = exchange === undefined ? [...perVhost.values()] : [perVhost.get(exchange)].filter((p) => p !== undefined);
    for (const p of doomed) {
      perVhost.delete(p.exchange);
      this.changed({ kind: 'topic-permission', permission: plain(p), deleted: true });
    }
    if (perVhost.size === 0) this.forget(user, vhost);
    return doomed.length;
  }

  /** A user is gone: so are its topic permissions. */
  deleteUser(user: string): void {
    for (const vhost of [...(this.byUser.get(user)?.keys() ?? [])]) this.delete(vhost, user);
  }

  /** A vhost is gone: so are the topic permissions in it. */
  deleteVhost(vhost: string): void {
    for (const [user, perUser] of [...this.byUser]) if (perUser.has(vhost)) this.delete(vhost, user);
  }

  /** The hot path: the permission that governs `user` on `exchange` in `vhost`, if there is one. */
  find(user: string, vhost: string, exchange: string): CompiledTopicPermission | undefined {
    const perUser = this.byUser.get(user);
    return perUser === undefined ? undefined : perUser.get(vhost)?.get(exchange);
  }

  private forget(user: string, vhost: string): void {
    const perUser = this.byUser.get(user);
    perUser?.delete(vhost);
    if (perUser?.size === 0) this.byUser.delete(user);
  }
}

/**
 * RabbitMQ's rules (`rabbit_auth_backend_internal:check_topic_access`): an empty pattern matches only the
 * empty routing key, others are unanchored; `{username}` and `{vhost}` are replaced by the names, escaped
 * so they match literally. Any other `{name}` (RabbitMQ's MQTT `{client_id}`) has no value here and stays
 * as written, as an unknown variable does in RabbitMQ: a regex that then matches the text `{client_id}`.
 */
function compile(permission: TopicPermission): CompiledTopicPermission {
  const variables: Readonly<Record<string, string>> = { username: permission.user, vhost: permission.vhost };
  const pattern = (field: TopicAccess): RegExp => {
    const source = permission[field];
    if (source === '') return /^$/;
    try {
      // Checked as written first, so the error is about what the administrator typed.
      new RegExp(source);
      return new RegExp(source.replace(/\{(username|vhost)\}/g, (_, name: string) => escapeRegExp(variables[name] ?? '')));
    } catch (error) {
      throw new BrokerError('PRECONDITION_FAILED', `invalid regular expression in '${field}': ${(error as Error).message}`);
    }
  };
  return { ...plain(permission), patterns: { write: pattern('write'), read: pattern('read') } };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function plain(p: TopicPermission): TopicPermission {
  return { user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read };
}
