// `Authorization: Bearer` on the management API, and the backends setting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWarren } from '../helpers/warren.js';
import { mintHs256, startTokenWarren, TokenIssuer } from '../helpers/token-issuer.js';
import { createAuthenticator } from '../../src/auth/auth-setup.js';
import { UserStore } from '../../src/auth/user-store.js';
import { defaultConfig, loadConfig } from '../../src/config.js';

let issuer: TokenIssuer;
let warren: RunningWarren;
let stop: () => Promise<void>;

beforeAll(async () => ({ issuer, warren, stop } = await startTokenWarren()));
afterAll(() => stop());

async function asToken(method: 'GET' | 'PUT' | 'DELETE', url: string, token: string, body?: unknown) {
  const response = await warren.server.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: response.statusCode, body: response.body ? (JSON.parse(response.body) as unknown) : undefined };
}

describe('REST with a Bearer token', () => {
  it('needs a management tag from the scopes', async () => {
    const noTag = await asToken('GET', '/api/overview', await issuer.mint({ scope: 'warren.read:*/*' }));
    expect(noTag).toEqual({ status: 401, body: { error: 'not_authorised', reason: 'Not management user' } });
    const tagged = await asToken('GET', '/api/overview', await issuer.mint({ scope: 'warren.read:*/* warren.tag:management' }));
    expect(tagged.status).toBe(200);
  });

  it('says why a token is refused', async () => {
    expect(await asToken('GET', '/api/overview', await issuer.mint({ expiresIn: -100, scope: 'warren.tag:management' }))).toEqual({
      status: 401,
      body: { error: 'not_authorised', reason: expect.stringMatching(/^token refused: expired at/) },
    });
    expect((await asToken('GET', '/api/overview', 'garbage')).status).toBe(401);
  });

  it('grants exactly the scopes: the scope matrix', async () => {
    const token = await issuer.mint({
      sub: 'rest-app',
      scope: ['warren.tag:management', 'warren.configure:%2F/rest-*', 'warren.read:%2F/rest-*'],
    });
    const matrix: Array<[method: 'GET' | 'PUT' | 'DELETE', url: string, status: number]> = [
      ['PUT', '/api/queues/%2F/rest-q', 201],
      ['PUT', '/api/queues/%2F/other-q', 401],
      ['GET', '/api/queues/%2F/rest-q', 200],
      ['GET', '/api/queues/other', 401],
      ['DELETE', '/api/queues/%2F/rest-q', 204],
      ['PUT', '/api/users/someone', 401],
    ];
    await warren.server.app.inject({ method: 'PUT', url: '/api/vhosts/other', headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    for (const [method, url, status] of matrix) {
      const body = method === 'PUT' ? (url.includes('users') ? { password: 'x', tags: '' } : { durable: false }) : undefined;
      expect((await asToken(method, url, token, body)).status, `${method} ${url}`).toBe(status);
    }
    // The vhost listing shows what the scopes name.
    const vhosts = await asToken('GET', '/api/vhosts', token);
    expect((vhosts.body as Array<{ name: string }>).map((v) => v.name)).toEqual(['/']);
    expect((await asToken('GET', '/api/queues/other', await issuer.mint({ scope: 'warren.tag:management warren.read:other/*' }))).status).toBe(200);
  });

  it('an administrator tag gives administrator rights', async () => {
    const token = await issuer.mint({ scope: 'warren.tag:administrator' });
    expect((await asToken('GET', '/api/users', token)).status).toBe(200);
  });
});

describe('auth backends', () => {
  const users = new UserStore();

  it('are internal only by default, internal and oauth2 once a key is set', () => {
    expect(createAuthenticator(users, defaultConfig)).toBe(users);
    expect(createAuthenticator(users, { ...defaultConfig, oauth2Hs256Key: 'k' })).not.toBe(users);
    expect(() => createAuthenticator(users, { ...defaultConfig, authBackends: ['oauth2'] })).toThrow(/needs --oauth2-issuer/);
  });

  it('with oauth2 alone, refuse passwords and accept tokens', async () => {
    const authenticator = createAuthenticator(users, { ...defaultConfig, authBackends: ['oauth2'], oauth2Hs256Key: 'k' });
    const password = await authenticator.authenticate('guest', 'guest', '127.0.0.1');
    expect(password.ok || password.error.message).toMatch(/password logins are off/);
    const token = await mintHs256('k', { sub: 'dev', aud: 'warren', exp: Math.floor(Date.now() / 1000) + 60 });
    expect((await authenticator.authenticate('ignored', token, '127.0.0.1')).ok).toBe(true);
  });

  it('are read from flags and environment', () => {
    const config = loadConfig(['--auth-backends', 'oauth2,internal', '--oauth2-resource-server-id', 'rabbitmq'], { WARREN_OAUTH2_USERNAME_CLAIM: 'preferred_username,sub' });
    expect(config.authBackends).toEqual(['internal', 'oauth2']);
    expect(config.oauth2ResourceServerId).toBe('rabbitmq');
    expect(config.oauth2UsernameClaim).toEqual(['preferred_username', 'sub']);
    expect(() => loadConfig(['--auth-backends', 'ldap'], {})).toThrow(/unknown auth backend 'ldap'/);
    expect(() => loadConfig(['--oauth2-jwks-url', 'file:///etc/keys'], {})).toThrow(/http\(s\) URL/);
  });
});
