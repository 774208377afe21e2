/**
 * The broker's authenticator when token login is on: RabbitMQ's `auth_backends` list of `internal`
 * (stored users and passwords) and `oauth2` (JWT access tokens). A token user exists only for its
 * connection or request: its name comes from the token, its permissions and tags from the token's scopes.
 */
import { BrokerError } from '../broker/errors.js';
import type { Access, AuthenticatedUser, Authenticator, AuthResult } from './authenticator.js';
import type { TokenValidator } from './token-validator.js';
import type { UserStore } from './user-store.js';

export type AuthBackend = 'internal' | 'oauth2';
export const AUTH_BACKENDS: readonly AuthBackend[] = ['internal', 'oauth2'];

/** Three base64url parts starting with a JSON object: what no one picks as a password. */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function looksLikeJwt(text: string): boolean {
  return JWT_SHAPE.test(text);
}

export class AuthBackends implements Authenticator {
  constructor(
    private readonly users: UserStore,
    private readonly tokens: TokenValidator | undefined,
    private readonly backends: readonly AuthBackend[],
  ) {}

  /**
   * A password shaped like a JWT is a token (RabbitMQ's AMQP clients send the token as the password, the
   * user name is ignored); anything else is a stored user's password.
   */
  async authenticate(username: string, password: string, peerAddress: string, foreignOrigin?: string): Promise<AuthResult> {
    if (this.tokens && this.backends.includes('oauth2') && looksLikeJwt(password)) return this.authenticateToken(password);
    if (!this.backends.includes('internal')) {
      return refused(`login refused for user '${username}': password logins are off (auth backends: ${this.backends.join(', ')}); log in with a token`);
    }
    return this.users.authenticate(username, password, peerAddress, foreignOrigin);
  }

  async authenticateToken(token: string): Promise<AuthResult> {
    if (!this.tokens || !this.backends.includes('oauth2')) return refused('token login is not enabled on this broker (see --auth-backends)');
    const verdict = await this.tokens.validate(token);
    if (!verdict.ok) return refused(verdict.message);
    const user: AuthenticatedUser = { name: verdict.username, tags: verdict.tags, grants: verdict.grants };
    return { ok: true, user };
  }

  canAccessVhost(user: AuthenticatedUser, vhost: string): boolean {
    return this.users.canAccessVhost(user, vhost);
  }

  isAllowed(user: string, vhost: string, access: Access, name: string): boolean {
    return this.users.isAllowed(user, vhost, access, name);
  }
}

function refused(message: string): AuthResult {
  return { ok: false, failure: 'credentials', error: new BrokerError('ACCESS_REFUSED', message) };
}
