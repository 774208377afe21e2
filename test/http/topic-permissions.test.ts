/**
 * RabbitMQ's topic permissions over the management API: CRUD and its status codes, validation, who may
 * use it, what deleting a user or vhost takes with it, and the `topic_permissions` section of the
 * definitions document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  await api('PUT', '/api/vhosts/shop');
  await createUser(api, 'alice', 'management', { configure: '.*', write: '.*', read: '.*' });
  await createUser(api, 'bob', '', { configure: '.*', write: '.*', read: '.*', vhost: 'shop' });
});
afterAll(() => warren.stop());

const entry = (user: string, vhost: string, exchange: string, write: string, read: string): Record<string, string> => ({ user, vhost, exchange, write, read });

describe('topic permissions CRUD', () => {
  it('creates the first for a user and vhost (201), updates or adds more (204), lists them sorted', async () => {
    expect((await api('GET', '/api/topic-permissions/%2F/alice')).status).toBe(404);
    expect((await api('PUT', '/api/topic-permissions/%2F/alice', { body: { exchange: 'amq.topic', write: '^a\\.', read: '.*' } })).status).toBe(201);
    // RabbitMQ's resource is the user in the vhost: a second exchange is an update of it.
    expect((await api('PUT', '/api/topic-permissions/%2F/alice', { body: { exchange: 'events', write: '', read: '^x$' } })).status).toBe(204);
    expect((await api('PUT', '/api/topic-permissions/%2F/alice', { body: { exchange: 'amq.topic', write: '^alice\\.', read: '.*' } })).status).toBe(204);
    expect((await api('PUT', '/api/topic-permissions/shop/bob', { body: { exchange: 'orders', write: '^{username}\\.', read: '#' } })).status).toBe(201);

    const alice = [entry('alice', '/', 'amq.topic', '^alice\\.', '.*'), entry('alice', '/', 'events', '', '^x$')];
    const bob = entry('bob', 'shop', 'orders', '^{username}\\.', '#');
    expect((await api('GET', '/api/topic-permissions/%2F/alice')).body).toEqual(alice);
    expect((await api('GET', '/api/topic-permissions')).body).toEqual([...alice, bob]);
    expect((await api('GET', '/api/users/alice/topic-permissions')).body).toEqual(alice);
    expect((await api('GET', '/api/users/bob/topic-permissions')).body).toEqual([bob]);
    expect((await api('GET', '/api/vhosts/shop/topic-permissions')).body).toEqual([bob]);
    expect((await api('GET', '/api/vhosts/%2F/topic-permissions')).body).toEqual(alice);
  });

  it('deletes one exchange’s permission, then all of the pair; 404 once the pair has none', async () => {
    await api('PUT', '/api/topic-permissions/%2F/alice', { body: { exchange: 'x1', write: '.*', read: '.*' } });
    await api('PUT', '/api/topic-permissions/%2F/alice', { body: { exchange: 'x2', write: '.*', read: '.*' } });
    expect((await api('DELETE', '/api/topic-permissions/%2F/alice/x1')).status).toBe(204);
    const exchanges = (): Promise<unknown[]> =>
      api('GET', '/api/users/alice/topic-permissions').then((r) => (r.body as unknown[]).map((p) => record(p).exchange));
    expect(await exchanges()).toEqual(['amq.topic', 'events', 'x2']);
    // An exchange without a permission, while the pair has others, is no error (RabbitMQ's clear is idempotent).
    expect((await api('DELETE', '/api/topic-permissions/%2F/alice/nothing-here')).status).toBe(204);
    expect((await api('DELETE', '/api/topic-permissions/%2F/alice')).status).toBe(204);
    expect(await exchanges()).toEqual([]);
    expect((await api('DELETE', '/api/topic-permissions/%2F/alice')).status).toBe(404);
    expect((await api('DELETE', '/api/topic-permissions/%2F/alice/x2')).status).toBe(404);
    expect((await api('GET', '/api/topic-permissions/%2F/alice')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
  });

  it('refuses bad input with RabbitMQ’s error shape and changes nothing', async () => {
    const body = { exchange: 'amq.topic', write: '.*', read: '.*' };
    expect((await api('PUT', '/api/topic-permissions/nope/alice', { body })).body).toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await api('PUT', '/api/topic-permissions/%2F/nobody', { body })).body).toEqual({ error: 'bad_request', reason: 'vhost_or_user_not_found' });
    expect((await api('PUT', '/api/topic-permissions/%2F/alice', { body: { write: '.*', read: '.*' } })).body).toEqual({
      error: 'bad_request',
      reason: '[{key_missing,exchange}]',
    });
    const badRegex = await api('PUT', '/api/topic-permissions/%2F/alice', { body: { ...body, read: '(' } });
    expect(badRegex.status).toBe(400);
    expect(record(badRegex.body).error).toBe('bad_request');
    expect(String(record(badRegex.body).reason)).toMatch(/^invalid regular expression in 'read': /);
    expect((await api('PUT', '/api/topic-permissions/%2F/alice', { body: { ...body, write: 5 } })).status).toBe(400);
    expect((await api('GET', '/api/topic-permissions/%2F/alice')).status).toBe(404);
    expect((await api('GET', '/api/users/nobody/topic-permissions')).status).toBe(404);
    expect((await api('GET', '/api/vhosts/nope/topic-permissions')).status).toBe(404);
    expect((await api('GET', '/api/topic-permissions/nope/alice')).status).toBe(404);
  });

  it('is for administrators only, reads included', async () => {
    const alice = ['alice', 'alice-secret'] as const;
    const refused = { error: 'not_authorised', reason: 'Not administrator user' };
    expect((await api('GET', '/api/topic-permissions', { as: alice })).body).toEqual(refused);
    expect((await api('GET', '/api/users/alice/topic-permissions', { as: alice })).status).toBe(401);
    const put = await api('PUT', '/api/topic-permissions/%2F/alice', { as: alice, body: { exchange: 'amq.topic', write: '.*', read: '.*' } });
    expect(put.body).toEqual(refused);
    expect((await api('GET', '/api/topic-permissions/%2F/alice')).status).toBe(404);
  });

  it('goes with its user and with its vhost', async () => {
    await createUser(api, 'carol', '', { configure: '.*', write: '.*', read: '.*' });
    await api('PUT', '/api/vhosts/temp');
    await api('PUT', '/api/permissions/temp/carol', { body: { configure: '.*', write: '.*', read: '.*' } });
    await api('PUT', '/api/topic-permissions/temp/carol', { body: { exchange: 'amq.topic', write: '.*', read: '.*' } });
    await api('PUT', '/api/topic-permissions/temp/alice', { body: { exchange: 'amq.topic', write: '.*', read: '.*' } });
    await api('PUT', '/api/topic-permissions/%2F/carol', { body: { exchange: 'amq.topic', write: '.*', read: '.*' } });
    expect((await api('DELETE', '/api/users/carol')).status).toBe(204);
    expect((await api('GET', '/api/vhosts/temp/topic-permissions')).body).toEqual([entry('alice', 'temp', 'amq.topic', '.*', '.*')]);
    expect((await api('DELETE', '/api/vhosts/temp')).status).toBe(204);
    const users = ((await api('GET', '/api/topic-permissions')).body as unknown[]).map((p) => `${String(record(p).user)}@${String(record(p).vhost)}`);
    expect(users).toEqual(['bob@shop']);
  });
});

describe('topic_permissions in definitions', () => {
  it('exports them, and an export imports into a fresh broker with them intact', async () => {
    const exported = record((await api('GET', '/api/definitions')).body);
    expect(exported.topic_permissions).toEqual([entry('bob', 'shop', 'orders', '^{username}\\.', '#')]);
    // A per-vhost export has none, as in RabbitMQ.
    expect(record((await api('GET', '/api/definitions/shop')).body).topic_permissions).toBeUndefined();

    const fresh = await startWarren();
    try {
      const freshApi = apiClient(fresh.server.app);
      expect((await freshApi('POST', '/api/definitions', { body: exported })).status).toBe(204);
      expect((await freshApi('GET', '/api/topic-permissions')).body).toEqual(exported.topic_permissions);
      expect(record((await freshApi('GET', '/api/definitions')).body).topic_permissions).toEqual(exported.topic_permissions);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a bad topic permission before importing anything', async () => {
    const fresh = await startWarren();
    try {
      const freshApi = apiClient(fresh.server.app);
      const doc = (topic: Record<string, unknown>): Record<string, unknown> => ({
        users: [{ name: 'dan', password: 'dan-secret', tags: '' }],
        vhosts: [{ name: 'v1' }],
        topic_permissions: [topic],
      });
      const good = { user: 'dan', vhost: 'v1', exchange: 'amq.topic', write: '.*', read: '.*' };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...good, read: '[' }, "definitions: topic permission of 'dan' on exchange 'amq.topic': invalid regular expression in 'read': "],
        [{ ...good, user: 'ghost' }, "definitions: topic permission of 'ghost' on exchange 'amq.topic': unknown user 'ghost'"],
        [{ ...good, vhost: 'nowhere' }, "definitions: topic permission of 'dan' on exchange 'amq.topic': vhost 'nowhere' does not exist"],
        [{ user: 'dan', vhost: 'v1', write: '.*', read: '.*' }, "definitions: topic permission 0 has no string 'exchange'"],
      ];
      for (const [topic, reason] of cases) {
        const res = await freshApi('POST', '/api/definitions', { body: doc(topic) });
        expect(res.status).toBe(400);
        expect(String(record(res.body).reason)).toContain(reason);
      }
      expect((await freshApi('GET', '/api/users/dan')).status).toBe(404);
      expect((await freshApi('GET', '/api/vhosts/v1')).status).toBe(404);
      expect((await freshApi('POST', '/api/definitions', { body: doc(good) })).status).toBe(204);
      expect((await freshApi('GET', '/api/topic-permissions/v1/dan')).body).toEqual([good]);
    } finally {
      await fresh.stop();
    }
  });
});
