/**
 * Checks an OAuth 2 access token (a JWT) as RabbitMQ's `rabbit_auth_backend_oauth2` does: signature by a
 * known key, `aud` containing the resource server id, `exp` present and in the future, `nbf` passed (both
 * with a little clock skew), `iss` when an issuer is configured; then the user name from the preferred
 * claims and the permissions and tags from its scopes.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { isBrokerError } from '../broker/errors.js';
import { MAX_SCOPES, parseScopes } from './scopes.js';
import { TokenGrants } from './token-grants.js';
import { TokenKeys, type TokenKeyOptions } from './token-keys.js';

export interface TokenValidatorOptions extends TokenKeyOptions {
  /** What `aud` must contain and what scopes are prefixed with (RabbitMQ's `resource_server_id`). */
  readonly resourceServerId: string;
  /**
   * Another claim with scopes besides `scope` (RabbitMQ's `extra_scopes_source`, e.g. Keycloak's
   * roles): a dotted path; a string, a list, or an object keyed by resource server id.
   */
  readonly scopeClaim?: string | undefined;
  /** Claims tried in order for the user name (RabbitMQ's `preferred_username_claims`). */
  readonly usernameClaims?: readonly string[] | undefined;
  /** Seconds of clock difference tolerated on `exp` and `nbf`. */
  readonly clockSkewSeconds?: number | undefined;
}

export type TokenVerdict =
  | { readonly ok: true; readonly username: string; readonly tags: readonly string[]; readonly grants: TokenGrants }
  | { readonly ok: false; readonly message: string };

export const DEFAULT_CLOCK_SKEW_SECONDS = 5;

export class TokenValidator {
  private readonly keys: TokenKeys;

  constructor(private readonly options: TokenValidatorOptions) {
    this.keys = new TokenKeys(options);
  }

  async validate(token: string): Promise<TokenVerdict> {
    if (!this.keys.configured) return refused('token login is not configured');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.getKey, {
        algorithms: [...this.keys.algorithms],
        audience: this.options.resourceServerId,
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        requiredClaims: ['exp'],
        clockTolerance: this.options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      return refused(describe(error, this.options.resourceServerId));
    }
    const username = this.usernameOf(payload);
    if (username === undefined) {
      return refused(`no user name in the token (looked for ${this.usernameClaims().map((c) => `'${c}'`).join(', ')})`);
    }
    const scopes = this.scopesOf(payload);
    if (scopes.length > MAX_SCOPES) return refused(`too many scopes (more than ${MAX_SCOPES})`);
    const parsed = parseScopes(scopes, this.options.resourceServerId);
    const expiresAt = (payload.exp ?? 0) * 1000;
    return { ok: true, username, tags: parsed.tags, grants: new TokenGrants(parsed, expiresAt) };
  }

  private usernameClaims(): readonly string[] {
    return this.options.usernameClaims?.length ? this.options.usernameClaims : ['sub', 'client_id'];
  }

  private usernameOf(payload: JWTPayload): string | undefined {
    for (const claim of this.usernameClaims()) {
      const value = payload[claim];
      if (typeof value === 'string' && value !== '') return value;
    }
    return undefined;
  }

  /** `scope` (space-separated string or list) plus the configured extra claim. */
  private scopesOf(payload: JWTPayload): string[] {
    const scopes = listOf(payload.scope);
    const claim = this.options.scopeClaim;
    if (claim) {
      const value = claim.split('.').reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), payload);
      const rsid = this.options.resourceServerId;
      // An object keyed by resource server id holds scopes without the prefix (Keycloak's resource_access).
      if (isObject(value)) scopes.push(...listOf(value[rsid]).map((scope) => `${rsid}.${scope}`));
      else scopes.push(...listOf(value));
    }
    return [...new Set(scopes)];
  }
}

function listOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string');
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refused(message: string): TokenVerdict {
  return { ok: false, message: `token refused: ${message.replace(/^token refused: /, '')}` };
}

/** A clear reason for the client, never the token itself. */
function describe(error: unknown, resourceServerId: string): string {
  if (isBrokerError(error)) return error.message;
  if (error instanceof errors.JWTExpired) return `expired at ${new Date(Number(error.payload.exp) * 1000).toISOString()}`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `its audience does not include '${resourceServerId}'`;
    if (error.claim === 'nbf') return `not valid before ${new Date(Number(error.payload.nbf) * 1000).toISOString()}`;
    if (error.claim === 'exp') return 'it has no valid expiry (exp)';
    if (error.claim === 'iss') return 'it was issued by another issuer';
    return `claim '${error.claim}' is ${error.reason}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its signing algorithm is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed by an unknown key';
  if (error instanceof errors.JWKSTimeout) return 'timed out fetching the signing keys';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'not a valid JWT';
  if (error instanceof errors.JOSEError) return `invalid (${error.code})`;
  return `cannot check it: ${(error as Error).message}`;
}
