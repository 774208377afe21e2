// Token validation against a local identity provider: keys made at test time, a real JWKS endpoint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenValidator, type TokenVerdict } from '../../src/auth/token-validator.js';
import { mintHs256, signingKey, TokenIssuer, unsecured } from '../helpers/token-issuer.js';

function refusal(verdict: TokenVerdict): string {
  if (verdict.ok) throw new Error(`expected a refusal, got user '${verdict.username}'`);
  return verdict.message;
}

describe('TokenValidator with a JWKS endpoint', () => {
  let issuer: TokenIssuer;
  let validator: TokenValidator;

  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    // No cooldown: every unknown kid refetches, so the test can count the fetches it causes.
    validator = new TokenValidator({ resourceServerId: 'warren', jwksUrl: issuer.jwksUrl, jwksCooldownMs: 0 });
  });
  afterAll(() => issuer.close());

  it('accepts a valid token: user from sub, scopes and tags for this resource server only', async () => {
    const token = await issuer.mint({ sub: 'svc-1', scope: 'warren.read:%2F/q.* warren.tag:monitoring other.write:*/* openid' });
    const verdict = await validator.validate(token);
    if (!verdict.ok) throw new Error(verdict.message);
    expect(verdict.username).toBe('svc-1');
    expect(verdict.tags).toEqual(['monitoring']);
    expect(verdict.grants.isAllowed('/', 'read', 'q.orders')).toBe(true);
    expect(verdict.grants.isAllowed('/', 'write', 'q.orders')).toBe(false);
    expect(verdict.grants.isAllowed('other', 'read', 'q.orders')).toBe(false);
    expect(verdict.grants.expiresAt).toBeGreaterThan(Date.now());
  });

  it('takes scopes from a list and an audience list that contains the resource server', async () => {
    const verdict = await validator.validate(await issuer.mint({ audience: ['account', 'warren'], scope: ['warren.write:*/*'] }));
    expect(verdict.ok && verdict.grants.isAllowed('any', 'write', 'x')).toBe(true);
  });

  it('refuses expired, not yet valid, wrong audience, missing exp', async () => {
    expect(refusal(await validator.validate(await issuer.mint({ expiresIn: -60 })))).toMatch(/^token refused: expired at \d{4}-/);
    expect(refusal(await validator.validate(await issuer.mint({ notBefore: 600 })))).toMatch(/not valid before/);
    expect(refusal(await validator.validate(await issuer.mint({ audience: 'rabbitmq' })))).toBe("token refused: its audience does not include 'warren'");
    expect(refusal(await validator.validate(await issuer.mint({ claims: { exp: undefined } })))).toMatch(/exp/);
  });

  it('refuses a wrong signature, alg none and garbage', async () => {
    const other = await signingKey('key-1');
    expect(refusal(await validator.validate(await issuer.mint({ key: other })))).toBe('token refused: signature invalid');
    const token = await issuer.mint();
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'root', aud: 'warren', exp: 9e9 })).toString('base64url')}.${signature}`;
    expect(refusal(await validator.validate(forged))).toBe('token refused: signature invalid');
    expect(refusal(await validator.validate(unsecured({ sub: 'x', aud: 'warren', exp: 9e9, scope: 'warren.configure:*/*' })))).toMatch(/algorithm|not a valid/);
    expect(refusal(await validator.validate('not.a.jwt'))).toMatch(/^token refused: /);
  });

  it('refuses HS256 when no shared key is configured (no key confusion with the public key)', async () => {
    const token = await mintHs256(issuer.key.publicPem, { sub: 'x', aud: 'warren', exp: Math.floor(Date.now() / 1000) + 60 });
    expect(refusal(await validator.validate(token))).toMatch(/HS256|algorithm/);
  });

  it('follows key rotation: an unknown kid refetches the JWKS once, then refuses', async () => {
    await validator.validate(await issuer.mint());
    const rotated = await signingKey('key-2');
    issuer.published = [issuer.key, rotated];
    let before = issuer.jwksFetches;
    const verdict = await validator.validate(await issuer.mint({ key: rotated }));
    expect(verdict.ok).toBe(true);
    expect(issuer.jwksFetches).toBe(before + 1);

    // Known now: no fetch.
    before = issuer.jwksFetches;
    expect((await validator.validate(await issuer.mint({ key: rotated }))).ok).toBe(true);
    expect(issuer.jwksFetches).toBe(before);

    const unknown = await signingKey('key-unknown');
    before = issuer.jwksFetches;
    expect(refusal(await validator.validate(await issuer.mint({ key: unknown })))).toBe('token refused: signed by an unknown key');
    expect(issuer.jwksFetches).toBe(before + 1);
  });

  it('takes the user name from a configured claim and scopes from an extra claim', async () => {
    const keycloak = new TokenValidator({
      resourceServerId: 'warren',
      jwksUrl: issuer.jwksUrl,
      usernameClaims: ['preferred_username', 'sub'],
      scopeClaim: 'resource_access',
    });
    const verdict = await keycloak.validate(
      await issuer.mint({ claims: { preferred_username: 'alice', resource_access: { warren: ['configure:*/*', 'tag:administrator'] } } }),
    );
    if (!verdict.ok) throw new Error(verdict.message);
    expect(verdict.username).toBe('alice');
    expect(verdict.tags).toEqual(['administrator']);
    expect(verdict.grants.isAllowed('/', 'configure', 'anything')).toBe(true);
  });

  it('finds the keys through OpenID discovery when only the issuer is configured, and checks iss', async () => {
    const discovered = new TokenValidator({ resourceServerId: 'warren', issuer: issuer.url });
    expect((await discovered.validate(await issuer.mint())).ok).toBe(true);
    expect(refusal(await discovered.validate(await issuer.mint({ claims: { iss: 'https://elsewhere.test' } })))).toBe(
      'token refused: it was issued by another issuer',
    );
  });
});

describe('TokenValidator with PEM files and HS256', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies with a PEM public key file named by its kid', async () => {
    const key = await signingKey('signer', 'ES256');
    writeFileSync(join(dir, 'signer.pem'), key.publicPem);
    const issuer = new TokenIssuer(key);
    const validator = new TokenValidator({ resourceServerId: 'warren', keyFiles: [join(dir, 'signer.pem')] });
    expect((await validator.validate(await issuer.mint())).ok).toBe(true);
    expect((await validator.validate(await issuer.mint({ kid: null }))).ok).toBe(true);
    expect(refusal(await validator.validate(await issuer.mint({ kid: 'other' })))).toBe("token refused: no signing key with kid 'other' is configured");
  });

  it('refuses a key file that holds no key, at start', () => {
    writeFileSync(join(dir, 'bad.pem'), 'not a key');
    expect(() => new TokenValidator({ resourceServerId: 'warren', keyFiles: [join(dir, 'bad.pem')] })).toThrow(/cannot read the public key/);
  });

  it('verifies HS256 with the shared key and refuses another secret', async () => {
    const validator = new TokenValidator({ resourceServerId: 'warren', hs256Key: 'dev-secret' });
    const claims = { sub: 'dev', aud: 'warren', exp: Math.floor(Date.now() / 1000) + 60, scope: 'warren.read:*/*' };
    expect((await validator.validate(await mintHs256('dev-secret', claims))).ok).toBe(true);
    expect(refusal(await validator.validate(await mintHs256('guessed', claims)))).toBe('token refused: signature invalid');
    const issuer = new TokenIssuer(await signingKey('k'));
    expect(refusal(await validator.validate(await issuer.mint()))).toMatch(/algorithm/);
  });
});
