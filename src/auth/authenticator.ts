import { timingSafeEqual } from 'node:crypto';
import { BrokerError } from '../broker/errors.js';

export interface AuthenticatedUser {
  readonly name: string;
  readonly tags: readonly string[];
}

export type AuthResult = { readonly ok: true; readonly user: AuthenticatedUser } | { readonly ok: false; readonly error: BrokerError };

/** Checks credentials for every way in (WebSocket `connect`, and the REST API once it lands). */
export interface Authenticator {
  authenticate(username: string, password: string, peerAddress: string): Promise<AuthResult>;
  /** Whether the user may open connections to the vhost. */
  canAccessVhost(user: AuthenticatedUser, vhost: string): boolean;
}

export interface DefaultUserOptions {
  readonly username: string;
  readonly password: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/;

export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

/**
 * One configured user (guest/guest unless `WARREN_DEFAULT_USER`/`WARREN_DEFAULT_PASS` say otherwise),
 * administrator on every vhost. As in RabbitMQ, `guest` may only connect from loopback addresses.
 */
export class DefaultUserAuthenticator implements Authenticator {
  private readonly username: Buffer;
  private readonly password: Buffer;

  constructor(private readonly options: DefaultUserOptions) {
    this.username = Buffer.from(options.username);
    this.password = Buffer.from(options.password);
  }

  async authenticate(username: string, password: string, peerAddress: string): Promise<AuthResult> {
    // Compare both fields always, so a wrong user name costs the same as a wrong password.
    const userOk = constantTimeEqual(Buffer.from(username), this.username);
    const passOk = constantTimeEqual(Buffer.from(password), this.password);
    if (!userOk || !passOk) return refused(username);
    if (this.options.username === 'guest' && !isLoopback(peerAddress)) {
      return { ok: false, error: new BrokerError('ACCESS_REFUSED', "user 'guest' can only connect via localhost") };
    }
    return { ok: true, user: { name: this.options.username, tags: ['administrator'] } };
  }

  canAccessVhost(): boolean {
    return true;
  }
}

function refused(username: string): AuthResult {
  return {
    ok: false,
    error: new BrokerError('ACCESS_REFUSED', `login refused for user '${username}': invalid credentials`),
  };
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  const length = Math.max(a.length, b.length, 1);
  const left = Buffer.alloc(length);
  const right = Buffer.alloc(length);
  a.copy(left);
  b.copy(right);
  return timingSafeEqual(left, right) && a.length === b.length;
}
