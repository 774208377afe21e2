/**
 * Token login on the JSON protocol: `connect {token}` instead of username and password, `update-token`
 * before the token expires, and the close when it does (RabbitMQ closes a connection whose credential
 * expired, and takes a new one with `update-secret`).
 */
import type { AuthenticatedUser, Authenticator, AuthResult } from '../auth/authenticator.js';
import { TokenGrants } from '../auth/token-grants.js';
import { BrokerError } from '../broker/errors.js';
import type { ConnectFrame } from './frames.js';
import type { Peer } from './client-connection.js';

/** Either credentials or a token; the frame's schema lets both be absent, so the rule is here. */
export function login(authenticator: Authenticator, frame: ConnectFrame, peer: Peer): Promise<AuthResult> {
  if (frame.token !== undefined) {
    if (frame.username !== undefined || frame.password !== undefined) {
      return refused('SYNTAX_ERROR', "connect takes either 'token' or 'username' and 'password', not both");
    }
    if (!authenticator.authenticateToken) return refused('ACCESS_REFUSED', 'token login is not enabled on this broker (see --auth-backends)');
    return authenticator.authenticateToken(frame.token);
  }
  if (frame.username === undefined || frame.password === undefined) {
    return refused('SYNTAX_ERROR', "connect needs 'username' and 'password', or 'token'");
  }
  return authenticator.authenticate(frame.username, frame.password, peer.address, peer.foreignOrigin);
}

function refused(name: 'SYNTAX_ERROR' | 'ACCESS_REFUSED', message: string): Promise<AuthResult> {
  return Promise.resolve({ ok: false, failure: 'credentials', error: new BrokerError(name, message) });
}

/**
 * Checks a refreshed token for an open connection: valid, for the same user (as RabbitMQ's
 * `ensure_same_username`), and still allowed into the connection's vhost. Then the user's grants take
 * the new scopes and expiry in place.
 */
export async function refreshToken(authenticator: Authenticator, user: AuthenticatedUser, vhost: string, token: string): Promise<void> {
  const current = user.grants;
  if (!(current instanceof TokenGrants)) {
    throw new BrokerError('NOT_ALLOWED', 'update-token: this connection did not log in with a token');
  }
  if (!authenticator.authenticateToken) throw new BrokerError('NOT_ALLOWED', 'token login is not enabled on this broker');
  const result = await authenticator.authenticateToken(token);
  if (!result.ok) throw result.error;
  if (result.user.name !== user.name) {
    throw new BrokerError('ACCESS_REFUSED', `update-token: the new token is for user '${result.user.name}', not '${user.name}'`);
  }
  const next = result.user.grants;
  if (!(next instanceof TokenGrants) || !next.canAccessVhost(vhost)) throw new BrokerError('ACCESS_REFUSED', `update-token: the new token gives no access to vhost '${vhost}'`);
  current.replace(next);
}

/**
 * AMQP's `connection.update-secret` with a token: the refreshed user takes over in place (channels hold
 * the user object, so its grants must change, not the object); a password user is simply replaced.
 */
export function adoptRefreshed(current: AuthenticatedUser, next: AuthenticatedUser): AuthenticatedUser {
  if (current.grants instanceof TokenGrants && next.grants instanceof TokenGrants && current.name === next.name) {
    current.grants.replace(next.grants);
    return current;
  }
  return next;
}

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Runs `expired` when the user's token expires; follows refreshes (re-armed after each). */
export class TokenExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly expired: (at: number) => void) {}

  arm(user: AuthenticatedUser | undefined): void {
    this.disarm();
    const grants = user?.grants;
    if (!grants) return;
    const wait = grants.expiresAt - Date.now();
    if (wait <= 0) {
      this.expired(grants.expiresAt);
      return;
    }
    this.timer = setTimeout(() => this.arm(user), Math.min(wait, MAX_DELAY_MS));
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
