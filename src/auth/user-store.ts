import { createHmac, randomBytes } from 'node:crypto';
import { BrokerError } from '../broker/errors.js';
import { nameProblem } from '../broker/names.js';
import type { LimitKind } from '../broker/vhost-limits.js';
import type { Access, AuthenticatedUser, Authenticator, AuthResult } from './authenticator.js';
import { isLoopback } from './authenticator.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { DUMMY_SCRYPT_HASH, HashingAlgorithms, type HashingAlgorithm } from './password-hash.js';
import { PasswordHasher, type PasswordHasherOptions } from './password-hasher.js';
import { TopicPermissions, type TopicPermissionChange } from './topic-permissions.js';

const LOGIN_MEMORY_MS = 5 * 60 * 1000;
const MAX_REMEMBERED_LOGINS = 10_000;

export interface User {
  readonly name: string;
  /** Empty when the user has no password (cannot log in with one). */
  readonly passwordHash: string;
  readonly hashingAlgorithm: HashingAlgorithm;
  readonly tags: readonly string[];
  /** `max-connections`, `max-channels`; absent or empty when the user has none. */
  readonly limits?: UserLimits;
}

export type UserLimitName = 'max-connections' | 'max-channels';
export type UserLimits = Readonly<Partial<Record<UserLimitName, number>>>;
/** As RabbitMQ names them in its refusals (`rabbit_auth_backend_internal:user_limit_validation/0`). */
export const USER_LIMITS: LimitKind<UserLimitName> = { component: 'user-limits', names: ['max-connections', 'max-channels'] };

export interface Permission {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export type { Access } from './authenticator.js';

/** One change to users or permissions, told to subscribers (the definitions log) as it happens. */
export type UserChange =
  | { readonly kind: 'user'; readonly user: User; readonly deleted: boolean }
  | { readonly kind: 'permission'; readonly permission: Permission; readonly deleted: boolean }
  | TopicPermissionChange;

export interface UserStoreOptions {
  /** Users allowed to log in from loopback addresses only (RabbitMQ's `loopback_users`). */
  readonly loopbackUsers?: readonly string[];
  readonly throttle?: LoginThrottleOptions;
  readonly hasher?: PasswordHasherOptions;
}

interface CompiledPermission extends Permission {
  readonly patterns: Readonly<Record<Access, RegExp>>;
}

/**
 * Users, their tags and their per-vhost permissions. Every change goes through these methods, which tell
 * their subscribers: the definitions store writes them out (the same one mutation path as exchanges and
 * queues) and the REST API forgets cached logins.
 */
export class UserStore implements Authenticator {
  private readonly listeners = new Set<(change: UserChange) => void>();
  /**
   * Successful logins, keyed by an HMAC of the credentials under a key that never leaves this process.
   * scrypt is slow and takes 16 MiB on purpose; clients that reconnect, and every REST call, would pay
   * that each time.
   */
  private readonly logins = new Map<string, { user: User; expires: number }>();
  private readonly verifying = new Map<string, Promise<User | undefined>>();
  private readonly loginSecret = randomBytes(32);
  private readonly users = new Map<string, User>();
  /** vhost → user → permission */
  private readonly permissions = new Map<string, Map<string, CompiledPermission>>();
  private readonly loopbackUsers: ReadonlySet<string>;
  private readonly throttle: LoginThrottle;
  readonly hasher: PasswordHasher;
  /** Routing-key rules on topic exchanges; their changes are told to this store's subscribers. */
  readonly topicPermissions = new TopicPermissions((change) => this.changed(change));

  constructor(options: UserStoreOptions = {}) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? ['guest']);
    this.throttle = new LoginThrottle(options.throttle);
    this.hasher = new PasswordHasher(options.hasher);
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (change: UserChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(change: UserChange): void {
    this.logins.clear();
    for (const listener of this.listeners) listener(change);
  }

  private loginKey(username: string, password: string): string {
    return createHmac('sha256', this.loginSecret).update(username).update('\0').update(password).digest('base64');
  }

  listUsers(): User[] {
    return [...this.users.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  getUser(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Creates or replaces a user; `password` is hashed with scrypt, or a ready `passwordHash` is stored as given. */
  async putUser(
    name: string,
    spec: { password?: string; passwordHash?: string; hashingAlgorithm?: HashingAlgorithm; tags: readonly string[] },
  ): Promise<{ created: boolean }> {
    const problem = nameProblem('user', name);
    if (problem) throw new BrokerError('PRECONDITION_FAILED', problem);
    let passwordHash = '';
    let hashingAlgorithm: HashingAlgorithm = HashingAlgorithms.scrypt;
    if (spec.password !== undefined) passwordHash = await this.hasher.hash(spec.password);
    else if (spec.passwordHash !== undefined) {
      passwordHash = spec.passwordHash;
      hashingAlgorithm = spec.hashingAlgorithm ?? HashingAlgorithms.sha256;
    }
    const existing = this.users.get(name);
    const created = existing === undefined;
    // As RabbitMQ's put_user: replacing a user keeps its limits.
    const limits = existing?.limits;
    const user: User = { name, passwordHash, hashingAlgorithm, tags: [...new Set(spec.tags)], ...(limits ? { limits } : {}) };
    this.users.set(name, user);
    this.changed({ kind: 'user', user, deleted: false });
    return { created };
  }

  /** Restores a user exactly as stored (recovery and definitions import). */
  restoreUser(user: User): void {
    this.users.set(user.name, user);
    this.changed({ kind: 'user', user, deleted: false });
  }

  /** Replaces the user's limits (already validated). False when there is no such user. */
  setLimits(name: string, limits: UserLimits): boolean {
    const existing = this.users.get(name);
    if (!existing) return false;
    const user: User = { ...existing, limits: { ...limits } };
    this.users.set(name, user);
    this.changed({ kind: 'user', user, deleted: false });
    return true;
  }

  deleteUser(name: string): boolean {
    const user = this.users.get(name);
    if (!user) return false;
    this.topicPermissions.deleteUser(name);
    for (const perVhost of this.permissions.values()) {
      const permission = perVhost.get(name);
      if (!permission) continue;
      perVhost.delete(name);
      this.changed({ kind: 'permission', permission: plain(permission), deleted: true });
    }
    this.users.delete(name);
    this.changed({ kind: 'user', user, deleted: true });
    return true;
  }

  listPermissions(filter: { vhost?: string; user?: string } = {}): Permission[] {
    const out: Permission[] = [];
    for (const [vhost, perVhost] of this.permissions) {
      if (filter.vhost !== undefined && vhost !== filter.vhost) continue;
      for (const p of perVhost.values()) if (filter.user === undefined || p.user === filter.user) out.push(plain(p));
    }
    return out.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.user.localeCompare(b.user));
  }

  getPermission(vhost: string, user: string): Permission | undefined {
    const p = this.permissions.get(vhost)?.get(user);
    return p ? plain(p) : undefined;
  }

  /** Throws a PRECONDITION_FAILED BrokerError naming the field when a regex does not compile. */
  setPermission(permission: Permission): { created: boolean } {
    const patterns = {
      configure: compilePattern(permission.configure, 'configure'),
      write: compilePattern(permission.write, 'write'),
      read: compilePattern(permission.read, 'read'),
    };
    const perVhost = this.permissions.get(permission.vhost) ?? new Map<string, CompiledPermission>();
    const created = !perVhost.has(permission.user);
    perVhost.set(permission.user, { ...plain(permission), patterns });
    this.permissions.set(permission.vhost, perVhost);
    this.changed({ kind: 'permission', permission: plain(permission), deleted: false });
    return { created };
  }

  deletePermission(vhost: string, user: string): boolean {
    const permission = this.permissions.get(vhost)?.get(user);
    if (!permission) return false;
    this.permissions.get(vhost)?.delete(user);
    this.changed({ kind: 'permission', permission: plain(permission), deleted: true });
    return true;
  }

  /** A vhost is gone: so are the permissions in it. */
  deleteVhostPermissions(vhost: string): void {
    this.topicPermissions.deleteVhost(vhost);
    const perVhost = this.permissions.get(vhost);
    if (!perVhost) return;
    this.permissions.delete(vhost);
    for (const permission of perVhost.values()) this.changed({ kind: 'permission', permission: plain(permission), deleted: true });
  }

  // Authenticator

  async authenticate(username: string, password: string, peerAddress: string, foreignOrigin?: string): Promise<AuthResult> {
    const cacheKey = this.loginKey(username, password);
    const cached = this.logins.get(cacheKey);
    // A remembered login holds only while the user is the very object it was checked against: every
    // change to the user (password, tags, deletion) replaces that object.
    if (cached && cached.expires > Date.now() && this.users.get(username) === cached.user) {
      return this.admit(cached.user, peerAddress, foreignOrigin);
    }
    const verdict = this.throttle.check(peerAddress, username);
    if (!verdict.allowed) {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      const subject = verdict.by === 'address' ? `from ${peerAddress}` : `for user '${username}'`;
      return throttled(`login refused: too many failed logins ${subject}; try again in ${seconds} s`, verdict.retryAfterMs);
    }
    // The same credentials arriving together (a console's first burst of requests) share one scrypt.
    let pending = this.verifying.get(cacheKey);
    if (!pending) {
      if (this.hasher.saturated) return throttled('login refused: too many logins in progress; try again shortly', 1000);
      pending = this.verify(username, password);
      this.verifying.set(cacheKey, pending);
      const forget = (): void => void this.verifying.delete(cacheKey);
      pending.then(forget, forget);
    }
    let user = await pending;
    if (!user) {
      this.throttle.failed(peerAddress, username);
      return {
        ok: false,
        failure: 'credentials',
        error: new BrokerError('ACCESS_REFUSED', `login refused for user '${username}': invalid credentials`),
      };
    }
    this.throttle.succeeded(peerAddress, username);
    if (user.hashingAlgorithm !== HashingAlgorithms.scrypt) user = await this.upgradeHash(user, password);
    if (this.users.get(username) === user) {
      if (this.logins.size >= MAX_REMEMBERED_LOGINS) this.logins.clear();
      this.logins.set(cacheKey, { user, expires: Date.now() + LOGIN_MEMORY_MS });
    }
    return this.admit(user, peerAddress, foreignOrigin);
  }

  /**
   * A user imported with one of RabbitMQ's fast hashes gets a scrypt hash of the same password at its
   * first successful login: the only moment the password is known.
   */
  private async upgradeHash(user: User, password: string): Promise<User> {
    const passwordHash = await this.hasher.hash(password);
    // Changed meanwhile (an administrator set a new password, or deleted the user): keep theirs.
    if (this.users.get(user.name) !== user) return user;
    const upgraded: User = { ...user, passwordHash, hashingAlgorithm: HashingAlgorithms.scrypt };
    this.users.set(user.name, upgraded);
    this.changed({ kind: 'user', user: upgraded, deleted: false });
    return upgraded;
  }

  /** The user when the password is right. An unknown user costs the same: a dummy hash is checked. */
  private async verify(username: string, password: string): Promise<User | undefined> {
    const user = this.users.get(username);
    const usable = user !== undefined && user.passwordHash !== '';
    const ok = await this.hasher.verify(
      password,
      usable ? user.passwordHash : DUMMY_SCRYPT_HASH,
      usable ? user.hashingAlgorithm : HashingAlgorithms.scrypt,
    );
    return usable && ok ? user : undefined;
  }

  /**
   * A user whose identity was proven another way (a verified client certificate, for EXTERNAL): it must
   * exist, and the loopback rule holds all the same, as RabbitMQ checks `loopback_users` whatever the mechanism.
   */
  admitProven(username: string, peerAddress: string, foreignOrigin?: string): AuthResult | undefined {
    const user = this.users.get(username);
    return user ? this.admit(user, peerAddress, foreignOrigin) : undefined;
  }

  private admit(user: User, peerAddress: string, foreignOrigin: string | undefined): AuthResult {
    const username = user.name;
    if (this.loopbackUsers.has(username) && !isLoopback(peerAddress)) {
      return {
        ok: false,
        failure: 'loopback',
        error: new BrokerError('ACCESS_REFUSED', `user '${username}' can only connect via localhost`),
      };
    }
    if (this.loopbackUsers.has(username) && foreignOrigin !== undefined) {
      return {
        ok: false,
        failure: 'loopback',
        error: new BrokerError('ACCESS_REFUSED', `user '${username}' can only connect via localhost: not from a page of origin '${foreignOrigin}'`),
      };
    }
    return { ok: true, user: { name: user.name, tags: user.tags } };
  }

  /** A user may use a vhost when it has a permission entry there (whatever the regexes say). */
  canAccessVhost(user: AuthenticatedUser, vhost: string): boolean {
    if (user.grants) return user.grants.canAccessVhost(vhost);
    return this.permissions.get(vhost)?.has(user.name) ?? false;
  }

  /** Whether `user` may do `access` on the resource `name` in `vhost` (the default exchange is `amq.default`). */
  isAllowed(user: string, vhost: string, access: Access, name: string): boolean {
    const permission = this.permissions.get(vhost)?.get(user);
    if (!permission) return false;
    return permission.patterns[access].test(name === '' ? 'amq.default' : name);
  }
}

function throttled(message: string, retryAfterMs: number): AuthResult {
  return { ok: false, failure: 'throttled', retryAfterMs, error: new BrokerError('ACCESS_REFUSED', message) };
}

/** RabbitMQ's rule: an empty pattern matches nothing; others are unanchored. */
function compilePattern(pattern: string, field: Access): RegExp {
  if (pattern === '') return /^$/;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new BrokerError('PRECONDITION_FAILED', `invalid regular expression in '${field}': ${(error as Error).message}`);
  }
}

function plain(p: Permission): Permission {
  return { user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read };
}
