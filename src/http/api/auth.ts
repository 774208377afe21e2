/**
 * HTTP Basic authentication for every /api call, with RabbitMQ's rules: valid credentials, the loopback
 * rule for `guest`, and at least one management tag. UserStore remembers successful logins, so a
 * console polling several endpoints a second does not pay for scrypt each time.
 */
import type { FastifyRequest } from 'fastify';
import type { UserStore } from '../../auth/user-store.js';
import type { Actor } from '../../operations/caller.js';
import { ApiError, REALM } from './errors.js';

export interface ApiUser {
  readonly name: string;
  readonly tags: readonly string[];
  readonly isAdmin: boolean;
  /** monitoring or administrator: sees every vhost, connection and channel. */
  readonly isMonitor: boolean;
  readonly isPolicymaker: boolean;
}

const ManagementTags: ReadonlySet<string> = new Set(['management', 'policymaker', 'monitoring', 'administrator']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the management API's auth hook before any handler runs. */
    apiUser: ApiUser | null;
  }
}

/** The user a request was authenticated as (the auth hook runs before every handler). */
export function apiUser(request: FastifyRequest): ApiUser {
  const user = request.apiUser;
  if (!user) throw new ApiError(401, 'not_authorized', 'Not_Authorized', { 'www-authenticate': REALM });
  return user;
}

/** The request's user as the operations layer's actor, for administrative changes. */
export function apiActor(request: FastifyRequest): Actor {
  return { user: apiUser(request) };
}

const loginFailed = (): ApiError => new ApiError(401, 'not_authorized', 'Not_Authorized', { 'www-authenticate': REALM });

export class BasicAuth {
  constructor(private readonly users: UserStore) {}

  /** Authenticates the request (throws a 401 ApiError) and remembers the user for `apiUser()`. */
  async check(request: FastifyRequest): Promise<ApiUser> {
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) throw loginFailed();
    const user = await this.verify(credentials.username, credentials.password, request.ip);
    request.apiUser = user;
    return user;
  }

  private async verify(username: string, password: string, ip: string): Promise<ApiUser> {
    const outcome = await this.users.authenticate(username, password, ip);
    if (!outcome.ok) {
      if (outcome.failure === 'loopback') throw new ApiError(401, 'not_authorised', 'User can only log in via localhost');
      if (outcome.failure === 'throttled') {
        const retryAfter = String(Math.ceil(outcome.retryAfterMs / 1000));
        throw new ApiError(429, 'too_many_requests', outcome.error.message, { 'retry-after': retryAfter });
      }
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
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
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
