import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitHash } from '../../src/auth/password-hash.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

describe('users', () => {
  it('creates with a password (201), replaces (204), shows the hash and tags as an array', async () => {
    expect((await api('PUT', '/api/users/alice', { body: { password: 'pw', tags: 'management,monitoring' } })).status).toBe(201);
    const alice = record((await api('GET', '/api/users/alice')).body);
    expect(alice).toMatchObject({ name: 'alice', hashing_algorithm: 'warren_password_hashing_scrypt', tags: ['management', 'monitoring'], limits: {} });
    expect(alice.password_hash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((await api('PUT', '/api/users/alice', { body: { password: 'pw2', tags: ['management'] } })).status).toBe(204);
    expect(record((await api('GET', '/api/users/alice')).body).tags).toEqual(['management']);
    expect((await api('GET', '/api/whoami', { as: ['alice', 'pw2'] })).status).toBe(200);
  });

  it('accepts a RabbitMQ password_hash, which then logs in', async () => {
    const password_hash = rabbitHash('s3cret', 'rabbit_password_hashing_sha512');
    const res = await api('PUT', '/api/users/bob', { body: { password_hash, hashing_algorithm: 'rabbit_password_hashing_sha512', tags: '' } });
    expect(res.status).toBe(201);
    expect(record((await api('GET', '/api/users/bob')).body)).toMatchObject({ password_hash, hashing_algorithm: 'rabbit_password_hashing_sha512', tags: [] });
    await api('PUT', '/api/users/bob', { body: { password_hash, hashing_algorithm: 'rabbit_password_hashing_sha512', tags: 'management' } });
    expect((await api('GET', '/api/whoami', { as: ['bob', 's3cret'] })).status).toBe(200);
  });

  it('validates the body', async () => {
    expect((await api('PUT', '/api/users/carol', { body: { password: 'x' } })).body).toEqual({ error: 'bad_request', reason: '[{key_missing,tags}]' });
    expect((await api('PUT', '/api/users/carol', { body: { password: 'x', password_hash: 'abcd', tags: '' } })).status).toBe(400);
    expect((await api('PUT', '/api/users/carol', { body: { password_hash: 'not base64!', tags: '' } })).status).toBe(400);
    expect((await api('PUT', '/api/users/carol', { body: { password_hash: 'abcd', hashing_algorithm: 'rot13', tags: '' } })).status).toBe(400);
    expect((await api('PUT', '/api/users/carol', { body: { administrator: 'true' } })).status).toBe(201);
    expect(record((await api('GET', '/api/users/carol')).body)).toMatchObject({ tags: ['administrator'], password_hash: '' });
  });

  it('lists (sorted), lists users without permissions, and 404s', async () => {
    const names = array((await api('GET', '/api/users')).body).map((u) => u.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('guest');
    const without = array((await api('GET', '/api/users/without-permissions')).body).map((u) => u.name);
    expect(without).toContain('alice');
    expect(without).not.toContain('guest');
    expect((await api('GET', '/api/users/nobody')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('DELETE', '/api/users/nobody')).status).toBe(404);
    expect((await api('GET', '/api/users/nobody/permissions')).status).toBe(404);
  });

  it("deletes a user and closes the user's connections", async () => {
    const user = await createUser(api, 'leaving', 'management', { configure: '.*', write: '.*', read: '.*' });
    const conn = await warren.connect({ username: user[0], password: user[1] });
    const closed = new Promise<unknown>((resolve) => conn.on('close', resolve));
    expect((await api('DELETE', '/api/users/leaving')).status).toBe(204);
    expect(await closed).toMatchObject({ code: 320 });
    expect((await api('GET', '/api/permissions/%2F/leaving')).status).toBe(404);
  });

  it('bulk-deletes', async () => {
    await createUser(api, 'bulk1', '');
    await createUser(api, 'bulk2', '');
    expect((await api('POST', '/api/users/bulk-delete', { body: { users: ['bulk1', 'bulk2', 'never-existed'] } })).status).toBe(204);
    expect((await api('GET', '/api/users/bulk1')).status).toBe(404);
    expect((await api('POST', '/api/users/bulk-delete', { body: {} })).status).toBe(400);
  });
});

describe('permissions', () => {
  it('sets (201/204), gets, lists per user and vhost, deletes', async () => {
    await createUser(api, 'perm-user', 'management');
    const body = { configure: '^pu-', write: '.*', read: '' };
    expect((await api('PUT', '/api/permissions/%2F/perm-user', { body })).status).toBe(201);
    expect((await api('PUT', '/api/permissions/%2F/perm-user', { body })).status).toBe(204);
    const expected = { user: 'perm-user', vhost: '/', ...body };
    expect((await api('GET', '/api/permissions/%2F/perm-user')).body).toEqual(expected);
    expect(array((await api('GET', '/api/users/perm-user/permissions')).body)).toEqual([expected]);
    expect(array((await api('GET', '/api/permissions')).body)).toContainEqual(expected);
    expect((await api('DELETE', '/api/permissions/%2F/perm-user')).status).toBe(204);
    expect((await api('GET', '/api/permissions/%2F/perm-user')).status).toBe(404);
    expect((await api('DELETE', '/api/permissions/%2F/perm-user')).status).toBe(404);
  });

  it('refuses unknown vhosts or users, missing keys and bad regexes with 400', async () => {
    const body = { configure: '.*', write: '.*', read: '.*' };
    expect((await api('PUT', '/api/permissions/nope/guest', { body })).body).toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await api('PUT', '/api/permissions/%2F/nobody', { body })).body).toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await api('PUT', '/api/permissions/%2F/guest', { body: { configure: '.*', write: '.*' } })).body).toEqual({
      error: 'bad_request',
      reason: '[{key_missing,read}]',
    });
    expect((await api('PUT', '/api/permissions/%2F/guest', { body: { ...body, read: '[' } })).status).toBe(400);
  });
});
