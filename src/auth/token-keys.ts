/**
 * Where token signing keys come from: the identity provider's JWKS (fetched, cached, refetched once when a
 * token names a key it does not have, which is how providers rotate keys), PEM files, or a shared HS256
 * secret for development. The JWKS fetching and caching is `jose`'s; nothing here does cryptography.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { BrokerError } from '../broker/errors.js';

/** Public-key algorithms accepted; `none` never is, HS256 only with a configured shared key. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface TokenKeyOptions {
  /** The provider's JWKS document. */
  readonly jwksUrl?: string | undefined;
  /** The issuer: its JWKS is found through OpenID discovery when no `jwksUrl` is given. */
  readonly issuer?: string | undefined;
  /** PEM public keys or certificates; a file's name without extension is its key id (`kid`). */
  readonly keyFiles?: readonly string[] | undefined;
  /** Shared secret for HS256 (development only: anyone who can check a token can also mint one). */
  readonly hs256Key?: string | undefined;
  /** Least time between two JWKS fetches caused by unknown key ids (default 30 s). */
  readonly jwksCooldownMs?: number | undefined;
  /** How long fetched keys are trusted before they are fetched again (default 10 min). */
  readonly jwksCacheMs?: number | undefined;
}

export class TokenKeys {
  readonly algorithms: readonly string[];
  private readonly files = new Map<string, KeyObject>();
  private readonly secret: KeyObject | undefined;
  private jwks: JWTVerifyGetKey | undefined;
  private discovering: Promise<JWTVerifyGetKey> | undefined;

  /** Reads the key files now: a bad file stops the broker at start, not at the first login. */
  constructor(private readonly options: TokenKeyOptions) {
    for (const file of options.keyFiles ?? []) {
      try {
        this.files.set(basename(file, extname(file)), createPublicKey(readFileSync(file)));
      } catch (error) {
        throw new Error(`cannot read the public key in '${file}': ${(error as Error).message}`);
      }
    }
    this.secret = options.hs256Key ? createSecretKey(Buffer.from(options.hs256Key, 'utf8')) : undefined;
    if (options.jwksUrl) this.jwks = this.remote(new URL(options.jwksUrl));
    const asymmetric = this.files.size > 0 || options.jwksUrl !== undefined || options.issuer !== undefined;
    this.algorithms = [...(asymmetric ? ASYMMETRIC_ALGORITHMS : []), ...(this.secret ? ['HS256'] : [])];
  }

  get configured(): boolean {
    return this.algorithms.length > 0;
  }

  /** jose's key lookup: by the token's `alg` and `kid`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256') {
      if (!this.secret) throw new BrokerError('ACCESS_REFUSED', 'token refused: HS256 tokens are not accepted (no shared key configured)');
      return this.secret;
    }
    const kid = header.kid;
    if (kid !== undefined && this.files.has(kid)) return this.files.get(kid) as KeyObject;
    if (kid === undefined && this.files.size === 1) return [...this.files.values()][0] as KeyObject;
    const jwks = await this.remoteKeys();
    if (!jwks) {
      throw new BrokerError('ACCESS_REFUSED', `token refused: no signing key${kid === undefined ? '' : ` with kid '${kid}'`} is configured`);
    }
    return jwks(header, token);
  };

  private remote(url: URL): JWTVerifyGetKey {
    return createRemoteJWKSet(url, {
      cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.options.jwksCacheMs ?? 600_000,
    });
  }

  /** The JWKS: configured, or found from the issuer's `/.well-known/openid-configuration` once. */
  private async remoteKeys(): Promise<JWTVerifyGetKey | undefined> {
    if (this.jwks) return this.jwks;
    const issuer = this.options.issuer;
    if (!issuer) return undefined;
    this.discovering ??= this.discover(issuer);
    try {
      this.jwks = await this.discovering;
      return this.jwks;
    } catch (error) {
      // Retried at the next login: the provider may just be down.
      this.discovering = undefined;
      throw new BrokerError('ACCESS_REFUSED', `token refused: cannot find the issuer's keys: ${(error as Error).message}`);
    }
  }

  private async discover(issuer: string): Promise<JWTVerifyGetKey> {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const document: unknown = await response.json();
    const jwksUri = typeof document === 'object' && document !== null && 'jwks_uri' in document ? document.jwks_uri : undefined;
    if (typeof jwksUri !== 'string') throw new Error(`${url} names no jwks_uri`);
    return this.remote(new URL(jwksUri));
  }
}
