import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

const REALM = 'Basic realm="RabbitMQ Management"';

describe('authentication', () => {
  it('refuses a request without credentials with 401, the realm and a JSON body', async () => {
    const res = await api('GET', '/api/overview', { as: null });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(REALM);
    expect(res.body).toEqual({ error: 'not_authorized', reason: 'Not_Authorized' });
  });

  it('refuses wrong credentials and unknown users alike', async () => {
    for (const as of [
      ['guest', 'wrong'],
      ['nobody', 'guest'],
    ] as const) {
      const res = await api('GET', '/api/whoami', { as });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(REALM);
      expect(res.body).toEqual({ error: 'not_authorized', reason: 'Not_Authorized' });
    }
  });

  it('refuses a malformed Authorization header', async () => {
    const res = await api('GET', '/api/whoami', { as: null, headers: { authorization: 'Bearer abc' } });
    expect(res.status).toBe(401);
  });

  it('lets guest in from loopback only', async () => {
    expect((await api('GET', '/api/whoami', { remoteAddress: '127.0.0.1' })).status).toBe(200);
    expect((await api('GET', '/api/whoami', { remoteAddress: '::1' })).status).toBe(200);
    const remote = await api('GET', '/api/whoami', { remoteAddress: '10.1.2.3' });
    expect(remote.status).toBe(401);
    expect(remote.body).toEqual({ error: 'not_authorised', reason: 'User can only log in via localhost' });
  });

  it('lets other users in from anywhere', async () => {
    const user = await createUser(api, 'remote-admin', 'administrator');
    expect((await api('GET', '/api/whoami', { as: user, remoteAddress: '10.1.2.3' })).status).toBe(200);
  });

  it('refuses users without a management tag', async () => {
    const user = await createUser(api, 'app-only', '', { configure: '.*', write: '.*', read: '.*' });
    const res = await api('GET', '/api/overview', { as: user });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'not_authorised', reason: 'Not management user' });
  });

  it('answers whoami with the tags', async () => {
    const res = await api('GET', '/api/whoami');
    expect(res.body).toEqual({ name: 'guest', tags: ['administrator'], is_internal_user: true });
  });

  it('forgets a cached login as soon as the password changes or the user goes', async () => {
    const user = await createUser(api, 'rotating', 'management');
    expect((await api('GET', '/api/whoami', { as: user })).status).toBe(200);
    await api('PUT', '/api/users/rotating', { body: { password: 'new-password', tags: 'management' } });
    expect((await api('GET', '/api/whoami', { as: user })).status).toBe(401);
    expect((await api('GET', '/api/whoami', { as: ['rotating', 'new-password'] })).status).toBe(200);
    await api('DELETE', '/api/users/rotating');
    expect((await api('GET', '/api/whoami', { as: ['rotating', 'new-password'] })).status).toBe(401);
  });

  it('takes tag changes into account at once', async () => {
    const user = await createUser(api, 'demoted', 'administrator');
    expect((await api('GET', '/api/users', { as: user })).status).toBe(200);
    await api('PUT', '/api/users/demoted', { body: { password: user[1], tags: 'management' } });
    const res = await api('GET', '/api/users', { as: user });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'not_authorised', reason: 'Not administrator user' });
  });

  it('answers OPTIONS without credentials, with the allowed methods', async () => {
    const res = await api('OPTIONS', '/api/queues/%2F/q', { as: null });
    expect(res.status).toBe(204);
    expect(String(res.headers.allow)).toContain('PUT');
    expect(String(res.headers.allow)).toContain('DELETE');
  });
});

describe('tag rules per endpoint', () => {
  let management: readonly [string, string];
  let monitoring: readonly [string, string];

  beforeAll(async () => {
    management = await createUser(api, 'mgmt-user', 'management', { configure: '.*', write: '.*', read: '.*' });
    monitoring = await createUser(api, 'mon-user', 'monitoring');
  });

  it('keeps administrator endpoints for administrators', async () => {
    for (const [method, url] of [
      ['GET', '/api/users'],
      ['GET', '/api/users/guest'],
      ['GET', '/api/permissions'],
      ['GET', '/api/definitions'],
      ['GET', '/api/vhosts/%2F'],
      ['PUT', '/api/vhosts/x'],
      ['DELETE', '/api/vhosts/%2F'],
      ['PUT', '/api/cluster-name'],
    ] as const) {
      for (const as of [management, monitoring]) {
        const res = await api(method, url, { as, body: {} });
        expect(res.status, `${method} ${url}`).toBe(401);
        expect(record(res.body).error).toBe('not_authorised');
      }
    }
  });

  it('keeps nodes for monitoring users', async () => {
    expect((await api('GET', '/api/nodes', { as: management })).status).toBe(401);
    expect((await api('GET', '/api/nodes', { as: monitoring })).status).toBe(200);
  });

  it('shows non-admins only the vhosts they have permissions in; monitoring sees all', async () => {
    await api('PUT', '/api/vhosts/private-vh');
    const names = (body: unknown): unknown[] => array(body).map((v) => v.name);
    expect(names((await api('GET', '/api/vhosts', { as: management })).body)).toEqual(['/']);
    expect(names((await api('GET', '/api/vhosts', { as: monitoring })).body)).toContain('private-vh');
    const refused = await api('GET', '/api/queues/private-vh', { as: management });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'not_authorised', reason: 'User not authorised to access virtual host' });
    expect((await api('GET', '/api/queues/no-such-vhost', { as: management })).status).toBe(404);
  });

  it('limits the overview of management users to their vhosts and hides node details', async () => {
    const overview = record((await api('GET', '/api/overview', { as: management })).body);
    expect(overview.node).toBeUndefined();
    expect(overview.listeners).toBeUndefined();
    expect(record(overview.object_totals).consumers).toBeUndefined();
    const full = record((await api('GET', '/api/overview', { as: monitoring })).body);
    expect(typeof full.node).toBe('string');
    expect(record(full.object_totals).consumers).toBeTypeOf('number');
  });
});

describe('unknown routes and methods', () => {
  it('answers RabbitMQ 404 body for unknown paths under /api', async () => {
    for (const url of ['/api/no/such/thing', '/api', '/api/']) {
      const res = await api('GET', url);
      expect(res.status, url).toBe(404);
      expect(res.body, url).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    }
  });

  it('answers 405 with allow for a known path and another method', async () => {
    const res = await api('GET', '/api/queues/%2F/q/contents');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('DELETE');
    expect(record(res.body).error).toBe('method_not_allowed');
    expect((await api('POST', '/api/overview', { body: {} })).status).toBe(405);
  });

  it('keeps the protocol schema public', async () => {
    const res = await api('GET', '/api/protocol/schema', { as: null });
    expect(res.status).toBe(200);
  });

  it('sets no-cache and vary on replies', async () => {
    const res = await api('GET', '/api/overview');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.vary).toBe('accept, accept-encoding, origin');
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  });
});
