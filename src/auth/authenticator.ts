import type { BrokerError } from '../broker/errors.js';

export interface AuthenticatedUser {
  readonly name: string;
  readonly tags: readonly string[];
  /**
   * Permissions carried by the login itself (a token's scopes) instead of the stored ones; checked by the
   * same operations-layer rules.
   */
  readonly grants?: PermissionGrants | undefined;
}

/** Permissions a user brings with its login (OAuth 2 scopes); see src/auth/token-grants.ts. */
export interface PermissionGrants {
  canAccessVhost(vhost: string): boolean;
  isAllowed(vhost: string, access: Access, name: string): boolean;
  /** Routing-key rule on a topic exchange (RabbitMQ's topic authorisation). */
  topicAllowed(vhost: string, access: 'read' | 'write', exchange: string, routingKey: string): boolean;
  /** When the login stops being valid (ms since the epoch). */
  readonly expiresAt: number;
}

export type AuthResult =
  | { readonly ok: true; readonly user: AuthenticatedUser }
  /** `loopback`: right credentials, but the user may only log in from this machine. */
  | { readonly ok: false; readonly error: BrokerError; readonly failure: 'credentials' | 'loopback' }
  /** Too many failed logins from this address or for this user: not even checked; try again later. */
  | { readonly ok: false; readonly error: BrokerError; readonly failure: 'throttled'; readonly retryAfterMs: number };

export type Access = 'configure' | 'write' | 'read';

/** Checks credentials and permissions for every way in: the WebSocket `connect` and every REST call. */
export interface Authenticator {
  /**
   * `foreignOrigin`: the connection came from a web page of another origin than the broker's own; a
   * loopback-only user is refused then, since the browser on this machine may run anyone's page.
   */
  authenticate(username: string, password: string, peerAddress: string, foreignOrigin?: string): Promise<AuthResult>;
  /** Logs in with an OAuth 2 access token (JWT); absent when token login is not configured. */
  authenticateToken?(token: string): Promise<AuthResult>;
  /** Whether the user may open connections to the vhost. */
  canAccessVhost(user: AuthenticatedUser, vhost: string): boolean;
  /** Whether `user` may do `access` on the exchange or queue `name` in `vhost`. */
  isAllowed(user: string, vhost: string, access: Access, name: string): boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}
