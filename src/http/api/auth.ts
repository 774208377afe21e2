/**
 * HTTP Basic authentication for every /api call, with RabbitMQ's rules: valid credentials, the loopback
 * rule for `guest`, and at least one management tag.
 *
 * Password hashes are deliberately slow (scrypt), and a console polls several endpoints a second, so a
 * successful login is remembered for a few seconds. An entry is only trusted while the user's record is
 * the very object it was checked against: UserStore replaces the record on every change (password,
 * tags, deletion), so any change to the user invalidates the entry at once without a change listener.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isLoopback } from '../../auth/authenticator.js';
import type { User, UserStore } from '../../auth/user-store.js';
import { ApiError, REALM } from './errors.js';

export interface ApiUser {
  readonly name: string;
  readonly tags: readonly string[];
  readonly isAdmin: boolean;
  /** monitoring or administrator: sees every vhost, connection and channel. */
  readonly isMonitor: boolean;
  readonly isPolicymaker: boolean;
}

export const ManagementTags: ReadonlySet<string> = new Set(['management', 'policymaker', 'monitoring', 'administrator']);

interface CacheEntry {
  readonly record: User | undefined;
  readonly expires: number;
  readonly result: Promise<ApiUser>;
}

const authenticated = new WeakMap<FastifyRequest, ApiUser>();

/** The user a request was authenticated as (the auth hook runs before every handler). */
export function apiUser(request: FastifyRequest): ApiUser {
  const user = authenticated.get(request);
  if (!user) throw new ApiError(401, 'not_authorized', 'Not_Authorized', { 'www-authenticate': REALM });
  return user;
}

const loginFailed = (): ApiError => new ApiError(401, 'not_authorized', 'Not_Authorized', { 'www-authenticate': REALM });

export class BasicAuth {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly users: UserStore,
    private readonly ttlMs = 5000,
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Authenticates the request (throws a 401 ApiError) and remembers the user for `apiUser()`. */
  async check(request: FastifyRequest): Promise<ApiUser> {
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) throw loginFailed();
    const user = await this.login(credentials.username, credentials.password, request.ip);
    authenticated.set(request, user);
    return user;
  }

  /** Forgets every remembered login (for a UserStore change listener, when there is one). */
  clear(): void {
    this.cache.clear();
  }

  private login(username: string, password: string, ip: string): Promise<ApiUser> {
    const loopback = isLoopback(ip);
    const key = createHash('sha256').update(`${username}\u0000${password}\u0000${loopback ? 'l' : 'r'}`).digest('base64');
    const record = this.users.getUser(username);
    const hit = this.cache.get(key);
    if (hit && hit.record === record && hit.expires > this.now()) return hit.result;
    if (hit) this.cache.delete(key);
    const result = this.verify(username, password, ip);
    this.remember(key, { record, expires: this.now() + this.ttlMs, result });
    result.catch(() => {
      if (this.cache.get(key)?.result === result) this.cache.delete(key);
    });
    return result;
  }

  private async verify(username: string, password: string, ip: string): Promise<ApiUser> {
    const outcome = await this.users.authenticate(username, password, ip);
    if (!outcome.ok) {
      if (outcome.failure === 'loopback') throw new ApiError(401, 'not_authorised', 'User can only log in via localhost');
      throw loginFailed();
    }
    const tags = outcome.user.tags;
    if (!tags.some((tag) => ManagementTags.has(tag))) throw new ApiError(401, 'not_authorised', 'Not management user');
    const isAdmin = tags.includes('administrator');
    return {
      name: outcome.user.name,
      tags,
      isAdmin,
      isMonitor: isAdmin || tags.includes('monitoring'),
      isPolicymaker: isAdmin || tags.includes('policymaker'),
    };
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, entry);
  }
}

export function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const TagRefusals = {
  administrator: 'Not administrator user',
  monitoring: 'Not monitor user',
  policymaker: 'Not policymaker user',
} as const;

/** administrator; `monitoring` and `policymaker` checks for the endpoints reserved to them. */
export function requireTag(user: ApiUser, tag: 'administrator' | 'monitoring' | 'policymaker'): void {
  const ok = tag === 'administrator' ? user.isAdmin : tag === 'monitoring' ? user.isMonitor : user.isPolicymaker;
  if (!ok) throw new ApiError(401, 'not_authorised', TagRefusals[tag]);
}

/** Route hook: administrators only, checked before the body is validated (a refusal beats a 400). */
export async function adminOnly(request: FastifyRequest): Promise<void> {
  requireTag(apiUser(request), 'administrator');
}

export async function monitorOnly(request: FastifyRequest): Promise<void> {
  requireTag(apiUser(request), 'monitoring');
}
