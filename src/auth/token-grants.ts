import type { Access, PermissionGrants } from './authenticator.js';
import { scopesAllow, scopesAllowTopic, scopesAllowVhost, type ParsedScopes, type TopicAccess } from './scopes.js';

/**
 * A token user's permissions: its scopes until the token expires. A refreshed token on the same
 * connection (`update-token`, AMQP's `connection.update-secret`) replaces them in place, so every
 * channel and caller that holds the user sees the new scopes at once.
 */
export class TokenGrants implements PermissionGrants {
  constructor(
    private scopes: ParsedScopes,
    private expiry: number,
  ) {}

  get expiresAt(): number {
    return this.expiry;
  }

  /** The tags of the current token (`<rsid>.tag:<tag>` scopes). */
  get tags(): readonly string[] {
    return this.scopes.tags;
  }

  /** Takes over a refreshed token's scopes and expiry. */
  replace(next: TokenGrants): void {
    this.scopes = next.scopes;
    this.expiry = next.expiry;
  }

  private get expired(): boolean {
    return Date.now() >= this.expiry;
  }

  canAccessVhost(vhost: string): boolean {
    return !this.expired && scopesAllowVhost(this.scopes, vhost);
  }

  /** The default exchange is named `amq.default` in scopes, as in RabbitMQ's permission regexes. */
  isAllowed(vhost: string, access: Access, name: string): boolean {
    return !this.expired && scopesAllow(this.scopes, vhost, access, name === '' ? 'amq.default' : name);
  }

  topicAllowed(vhost: string, access: TopicAccess, exchange: string, routingKey: string): boolean {
    return !this.expired && scopesAllowTopic(this.scopes, vhost, access, exchange, routingKey);
  }
}
