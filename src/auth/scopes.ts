/**
 * RabbitMQ's OAuth 2 scopes (`rabbit_oauth2_scope`), so tokens an identity provider issues for RabbitMQ
 * mean the same here:
 *
 *   <resource-server-id>.<read|write|configure>:<vhost pattern>/<name pattern>[/<routing key pattern>]
 *   <resource-server-id>.tag:<tag>
 *
 * Scopes of another resource server are ignored. Patterns match the whole name; `*` matches any run of
 * characters (none included); the rest of a pattern is percent-decoded first, so the vhost `/` is written
 * `%2F` (and a literal `*` as `%2A`). A routing-key part governs topic exchanges: a publish to a topic
 * exchange, or a binding from one, needs a scope whose third part matches its routing key, as in RabbitMQ.
 */
import { Glob } from '../broker/message-filter.js';
import type { Access } from './authenticator.js';

export type TopicAccess = 'read' | 'write';

export interface ScopePermission {
  readonly access: Access;
  readonly vhost: Glob;
  readonly name: Glob;
  /** Absent when the scope has no routing-key part (it then grants no topic access). */
  readonly routingKey?: Glob;
}

export interface ParsedScopes {
  readonly permissions: readonly ScopePermission[];
  readonly tags: readonly string[];
}

/** RabbitMQ refuses a token with more scopes than this (`?MAX_SCOPE_COUNT`). */
export const MAX_SCOPES = 2048;

/** The permission and tag scopes meant for `resourceServerId`; any other scope is ignored. */
export function parseScopes(scopes: readonly string[], resourceServerId: string): ParsedScopes {
  const prefix = `${resourceServerId}.`;
  const permissions: ScopePermission[] = [];
  const tags = new Set<string>();
  for (const scope of scopes) {
    if (!scope.startsWith(prefix)) continue;
    const rest = scope.slice(prefix.length);
    if (rest.startsWith('tag:')) {
      if (rest.length > 4) tags.add(rest.slice(4));
      continue;
    }
    const colon = rest.indexOf(':');
    if (colon < 0) continue;
    const access = rest.slice(0, colon);
    if (access !== 'read' && access !== 'write' && access !== 'configure') continue;
    const parts = rest.slice(colon + 1).split('/');
    if (parts.length !== 2 && parts.length !== 3) continue;
    const [vhost, name, routingKey] = parts.map(wildcard);
    // A part that does not percent-decode makes the whole scope void, as RabbitMQ's `invalid` pattern.
    if (vhost === undefined || name === undefined || (parts.length === 3 && routingKey === undefined)) continue;
    permissions.push({ access, vhost, name, ...(routingKey ? { routingKey } : {}) });
  }
  return { permissions, tags: [...tags] };
}

/**
 * `*` → any run of characters; everything else literal after percent-decoding; the whole name must match.
 * A glob rather than a regular expression: no scope can make matching backtrack badly.
 */
export function wildcard(pattern: string): Glob | undefined {
  try {
    const literal = pattern.split('*').map((part) => decodeURIComponent(part).replace(/[*?\\]/g, '\\$&'));
    return new Glob(literal.join('*'));
  } catch {
    return undefined;
  }
}

/** Any scope names the vhost: the token may open connections there (`vhost_access`). */
export function scopesAllowVhost(scopes: ParsedScopes, vhost: string): boolean {
  return scopes.permissions.some((p) => p.vhost.matches(vhost));
}

/** `resource_access`: a scope of exactly this access whose vhost and name patterns match. */
export function scopesAllow(scopes: ParsedScopes, vhost: string, access: Access, name: string): boolean {
  return scopes.permissions.some((p) => p.access === access && p.vhost.matches(vhost) && p.name.matches(name));
}

/** `topic_access`: as resource access, plus a routing-key pattern that matches. */
export function scopesAllowTopic(scopes: ParsedScopes, vhost: string, access: TopicAccess, exchange: string, routingKey: string): boolean {
  return scopes.permissions.some(
    (p) => p.access === access && p.routingKey !== undefined && p.vhost.matches(vhost) && p.name.matches(exchange) && p.routingKey.matches(routingKey),
  );
}
