/**
 * HTTP Basic authentication for every /api call, with RabbitMQ's rules: valid credentials, the loopback
 * rule for `guest`, and at least one management tag. UserStore remembers successful logins, so a
 * console polling several endpoints a second does not pay for scrypt each time.
 */
import type { FastifyRequest } from 'fastify';
import type { Authenticator, AuthResult, PermissionGrants } from '../../auth/authenticator.js';
import { foreignOrigin } from '../origin-check.js';
import type { Actor } from '../../operations/caller.js';
import { ApiError, REALM } from './errors.js';

export interface ApiUser {
  readonly name: string;
  readonly tags: readonly string[];
  readonly isAdmin: boolean;
  /** monitoring or administrator: sees every vhost, connection and channel. */
  readonly isMonitor: boolean;
  readonly isPolicymaker: boolean;
  /** A token user's scopes (`Authorization: Bearer`), checked in place of stored permissions. */
  readonly grants?: PermissionGrants | undefined;
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
  constructor(private readonly users: Pick<Authenticator, 'authenticate' | 'authenticateToken'>) {}

  /** Authenticates the request (throws a 401 ApiError) and remembers the user for `apiUser()`. */
  async check(request: FastifyRequest): Promise<ApiUser> {
    const bearer = parseBearer(request.headers.authorization);
    if (bearer !== undefined) {
      if (!this.users.authenticateToken) throw new ApiError(401, 'not_authorised', 'token login is not enabled on this broker');
      request.apiUser = this.admit(await this.users.authenticateToken(bearer));
      return request.apiUser;
    }
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) throw loginFailed();
    const outcome = await this.users.authenticate(credentials.username, credentials.password, request.ip, foreignOrigin(request));
    const user = this.admit(outcome);
    request.apiUser = user;
    return user;
  }

  private admit(outcome: AuthResult): ApiUser {
    if (!outcome.ok) {
      if (outcome.failure === 'loopback') throw new ApiError(401, 'not_authorised', 'User can only log in via localhost');
      if (outcome.failure === 'throttled') {
        const retryAfter = String(Math.ceil(outcome.retryAfterMs / 1000));
        throw new ApiError(429, 'too_many_requests', outcome.error.message, { 'retry-after': retryAfter });
      }
      // A refused token says why (expired, wrong audience); a refused password never does.
      if (outcome.error.message.startsWith('token refused')) throw new ApiError(401, 'not_authorised', outcome.error.message);
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
      ...(outcome.user.grants ? { grants: outcome.user.grants } : {}),
    };
  }
}

function parseBearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  return match ? match[1] : undefined;
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
