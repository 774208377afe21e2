import type { BrokerError } from '../broker/errors.js';

export interface AuthenticatedUser {
  readonly name: string;
  readonly tags: readonly string[];
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
  authenticate(username: string, password: string, peerAddress: string): Promise<AuthResult>;
  /** Whether the user may open connections to the vhost. */
  canAccessVhost(user: AuthenticatedUser, vhost: string): boolean;
  /** Whether `user` may do `access` on the exchange or queue `name` in `vhost`. */
  isAllowed(user: string, vhost: string, access: Access, name: string): boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}
