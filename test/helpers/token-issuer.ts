/**
 * A test identity provider: key pairs generated at test time, a JWKS endpoint on an ephemeral port (it
 * counts its fetches and can rotate keys), and tokens minted with any claims, key or algorithm.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

import { startWarren, type RunningWarren } from './warren.js';
export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicPem: string;
}

export async function signingKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export interface MintOptions {
  readonly key?: SigningKey;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly notBefore?: number;
  readonly audience?: string | string[];
  readonly kid?: string | null;
  readonly claims?: JWTPayload;
  readonly scope?: string | string[];
  readonly sub?: string;
}

export class TokenIssuer {
  /** Keys the JWKS endpoint publishes; replace to rotate. */
  published: SigningKey[];
  jwksFetches = 0;
  private server: Server | undefined;
  url = '';

  constructor(readonly key: SigningKey) {
    this.published = [key];
  }

  static async start(): Promise<TokenIssuer> {
    const issuer = new TokenIssuer(await signingKey('key-1'));
    await issuer.listen();
    return issuer;
  }

  get jwksUrl(): string {
    return `${this.url}/jwks`;
  }

  private listen(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.url === '/jwks') {
        this.jwksFetches += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: this.published.map((k) => k.publicJwk) }));
        return;
      }
      if (request.url === '/.well-known/openid-configuration') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ issuer: this.url, jwks_uri: this.jwksUrl }));
        return;
      }
      response.writeHead(404).end();
    });
    return new Promise((resolve) => {
      this.server?.listen(0, '127.0.0.1', () => {
        const address = this.server?.address();
        this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
        resolve();
      });
    });
  }

  /** A signed access token for `warren` (by default) valid for an hour. */
  async mint(options: MintOptions = {}): Promise<string> {
    const key = options.key ?? this.key;
    const now = Math.floor(Date.now() / 1000);
    const header = options.kid === null ? { alg: key.alg } : { alg: key.alg, kid: options.kid ?? key.kid };
    const payload: JWTPayload = {
      sub: options.sub ?? 'app-user',
      aud: options.audience ?? 'warren',
      iss: this.url,
      iat: now,
      exp: now + (options.expiresIn ?? 3600),
      ...(options.notBefore !== undefined ? { nbf: now + options.notBefore } : {}),
      ...(options.scope !== undefined ? { scope: options.scope } : {}),
      ...options.claims,
    };
    return new SignJWT(payload).setProtectedHeader(header).sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** An HS256 token signed with a shared secret. */
export function mintHs256(secret: string, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

/** `alg: none`: header and claims, no signature. */
export function unsecured(payload: JWTPayload): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** A test issuer and a Warren that takes its tokens (by its JWKS URL); `stop` ends both. */
export async function startTokenWarren(): Promise<{ issuer: TokenIssuer; warren: RunningWarren; stop(): Promise<void> }> {
  const issuer = await TokenIssuer.start();
  const warren = await startWarren({ oauth2JwksUrl: issuer.jwksUrl });
  return {
    issuer,
    warren,
    async stop() {
      await warren.stop();
      await issuer.close();
    },
  };
}
