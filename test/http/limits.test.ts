/** `/api/vhost-limits`, `/api/user-limits` and limits in definitions, through the full fastify pipeline. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

async function freshVhost(): Promise<string> {
  const name = unique('lim');
  expect((await api('PUT', `/api/vhosts/${name}`)).status).toBe(201);
  return name;
}

describe('/api/vhost-limits', () => {
  it('sets, lists, reads and clears limits (204s), listing only vhosts that have some', async () => {
    const vhost = await freshVhost();
    expect(await api('GET', `/api/vhost-limits/${vhost}`)).toMatchObject({ status: 200, body: [] });
    expect((await api('PUT', `/api/vhost-limits/${vhost}/max-connections`, { body: { value: 1 } })).status).toBe(204);
    expect((await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 5 } })).status).toBe(204);
    const expected = { vhost, value: { 'max-connections': 1, 'max-queues': 5 } };
    expect((await api('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([expected]);
    expect(array((await api('GET', '/api/vhost-limits')).body)).toContainEqual(expected);

    expect((await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: -1 } })).status).toBe(204);
    expect((await api('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([{ vhost, value: { 'max-connections': 1, 'max-queues': -1 } }]);
    expect((await api('DELETE', `/api/vhost-limits/${vhost}/max-connections`)).status).toBe(204);
    expect((await api('DELETE', `/api/vhost-limits/${vhost}/max-queues`)).status).toBe(204);
    // Clearing what is not set is fine, as in RabbitMQ.
    expect((await api('DELETE', `/api/vhost-limits/${vhost}/max-queues`)).status).toBe(204);
    expect((await api('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([]);
    expect(array((await api('GET', '/api/vhost-limits')).body).map((l) => l.vhost)).not.toContain(vhost);
  });

  it('refuses unknown names and non-integer values with RabbitMQ’s reasons, and a missing value', async () => {
    const vhost = await freshVhost();
    expect(await api('PUT', `/api/vhost-limits/${vhost}/max-exchanges`, { body: { value: 1 } })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: 'Validation failed\n\nUnrecognised terms [{<<"max-exchanges">>,1}] in limits\n' },
    });
    expect(await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 'ten' } })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: 'Validation failed\n\nmax-queues should be a number, actually was <<"ten">>\n' },
    });
    expect((await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 2.5 } })).status).toBe(400);
    expect(await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: {} })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: '[{key_missing,value}]' },
    });
    expect((await api('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([]);
  });

  it('answers 404 for a missing vhost', async () => {
    expect(await api('GET', '/api/vhost-limits/nope')).toMatchObject({ status: 404, body: { error: 'Object Not Found' } });
    expect(await api('PUT', '/api/vhost-limits/nope/max-queues', { body: { value: 1 } })).toMatchObject({
      status: 404,
      body: { error: 'not_found', reason: 'vhost_not_found' },
    });
    expect((await api('DELETE', '/api/vhost-limits/nope/max-queues')).status).toBe(404);
  });

  it('lets only administrators write; others see the limits of their vhosts', async () => {
    const vhost = await freshVhost();
    const hidden = await freshVhost();
    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 3 } });
    await api('PUT', `/api/vhost-limits/${hidden}/max-queues`, { body: { value: 4 } });
    const user = await createUser(api, unique('mgmt'), 'management', { vhost, configure: '.*', write: '.*', read: '.*' });
    expect((await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { as: user, body: { value: 9 } })).status).toBe(401);
    expect((await api('DELETE', `/api/vhost-limits/${vhost}/max-queues`, { as: user })).status).toBe(401);
    const seen = array((await api('GET', '/api/vhost-limits', { as: user })).body).map((l) => l.vhost);
    expect(seen).toContain(vhost);
    expect(seen).not.toContain(hidden);
    expect((await api('GET', `/api/vhost-limits/${hidden}`, { as: user })).status).toBe(401);
    expect((await api('GET', `/api/vhost-limits/${vhost}`, { as: user })).body).toEqual([{ vhost, value: { 'max-queues': 3 } }]);
  });

  it('goes with its vhost', async () => {
    const vhost = await freshVhost();
    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 3 } });
    await api('DELETE', `/api/vhosts/${vhost}`);
    await api('PUT', `/api/vhosts/${vhost}`);
    expect((await api('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([]);
  });
});

describe('/api/user-limits', () => {
  it('sets, lists, reads and clears (one, or `all`); the user object shows them', async () => {
    const [user] = await createUser(api, unique('limited'), 'management');
    expect((await api('PUT', `/api/user-limits/${user}/max-connections`, { body: { value: 2 } })).status).toBe(204);
    expect((await api('PUT', `/api/user-limits/${user}/max-channels`, { body: { value: 0 } })).status).toBe(204);
    const value = { 'max-connections': 2, 'max-channels': 0 };
    expect((await api('GET', `/api/user-limits/${user}`)).body).toEqual([{ user, value }]);
    expect(array((await api('GET', '/api/user-limits')).body)).toContainEqual({ user, value });
    expect(record((await api('GET', `/api/users/${user}`)).body).limits).toEqual(value);

    // Replacing the user (a new password) keeps its limits, as RabbitMQ's put_user does.
    await api('PUT', `/api/users/${user}`, { body: { password: 'changed', tags: 'management' } });
    expect(record((await api('GET', `/api/users/${user}`)).body).limits).toEqual(value);

    expect((await api('DELETE', `/api/user-limits/${user}/max-channels`)).status).toBe(204);
    expect((await api('GET', `/api/user-limits/${user}`)).body).toEqual([{ user, value: { 'max-connections': 2 } }]);
    await api('PUT', `/api/user-limits/${user}/max-channels`, { body: { value: 7 } });
    expect((await api('DELETE', `/api/user-limits/${user}/all`)).status).toBe(204);
    expect((await api('GET', `/api/user-limits/${user}`)).body).toEqual([]);
    expect(array((await api('GET', '/api/user-limits')).body).map((l) => l.user)).not.toContain(user);
    expect(record((await api('GET', `/api/users/${user}`)).body).limits).toEqual({});
  });

  it('PUT /api/users merges a limits object into the user’s, and refuses a bad one before changing the user', async () => {
    const name = unique('withlimits');
    expect((await api('PUT', `/api/users/${name}`, { body: { password: 'p', tags: '', limits: { 'max-connections': 3 } } })).status).toBe(201);
    expect((await api('PUT', `/api/users/${name}`, { body: { password: 'p', tags: '', limits: { 'max-channels': 4 } } })).status).toBe(204);
    expect((await api('GET', `/api/user-limits/${name}`)).body).toEqual([{ user: name, value: { 'max-connections': 3, 'max-channels': 4 } }]);
    const refused = await api('PUT', `/api/users/${name}`, { body: { password: 'p', tags: 'administrator', limits: { 'max-queues': 1 } } });
    expect(refused).toMatchObject({ status: 400, body: { reason: 'Unrecognised terms [{<<"max-queues">>,1}] in user-limits' } });
    expect(record((await api('GET', `/api/users/${name}`)).body).tags).toEqual([]);
  });

  it('refuses bad names and values in RabbitMQ’s words; 404 for a missing user', async () => {
    const [user] = await createUser(api, unique('limited'), 'management');
    expect(await api('PUT', `/api/user-limits/${user}/max-queues`, { body: { value: 1 } })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: 'Unrecognised terms [{<<"max-queues">>,1}] in user-limits' },
    });
    expect(await api('PUT', `/api/user-limits/${user}/max-channels`, { body: { value: '1' } })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: 'max-channels should be a number, actually was <<"1">>' },
    });
    expect((await api('GET', `/api/user-limits/${user}`)).body).toEqual([]);
    expect((await api('PUT', '/api/user-limits/nobody/max-channels', { body: { value: 1 } })).status).toBe(404);
    expect((await api('GET', '/api/user-limits/nobody')).status).toBe(404);
    expect((await api('DELETE', '/api/user-limits/nobody/max-channels')).status).toBe(404);
  });

  it('lets administrators write and list; a user reads its own limits', async () => {
    const self = await createUser(api, unique('self'), 'management');
    const [other] = await createUser(api, unique('other'), 'management');
    await api('PUT', `/api/user-limits/${self[0]}/max-connections`, { body: { value: 4 } });
    expect((await api('PUT', `/api/user-limits/${self[0]}/max-connections`, { as: self, body: { value: 40 } })).status).toBe(401);
    expect((await api('DELETE', `/api/user-limits/${self[0]}/max-connections`, { as: self })).status).toBe(401);
    expect((await api('GET', '/api/user-limits', { as: self })).status).toBe(401);
    expect((await api('GET', `/api/user-limits/${other}`, { as: self })).status).toBe(401);
    expect((await api('GET', `/api/user-limits/${self[0]}`, { as: self })).body).toEqual([{ user: self[0], value: { 'max-connections': 4 } }]);
  });
});

describe('limits in definitions', () => {
  it('exports vhost limits as vhost-limits parameters and user limits on users; a fresh broker imports them', async () => {
    const vhost = await freshVhost();
    const [user] = await createUser(api, unique('capped'), 'management');
    await api('PUT', `/api/vhost-limits/${vhost}/max-connections`, { body: { value: 500 } });
    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 1 } });
    await api('PUT', `/api/user-limits/${user}/max-channels`, { body: { value: 3 } });
    // More queues than the limit allows now: the export must still import.
    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: -1 } });
    for (const q of ['a', 'b']) await api('PUT', `/api/queues/${vhost}/${q}`, { body: { durable: true } });
    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 1 } });

    const exported = record((await api('GET', '/api/definitions')).body);
    expect(exported.parameters).toContainEqual({ value: { 'max-connections': 500, 'max-queues': 1 }, vhost, component: 'vhost-limits', name: 'limits' });
    expect(array(exported.users).find((u) => u.name === user)?.limits).toEqual({ 'max-channels': 3 });
    expect(array(exported.users).find((u) => u.name === 'guest')?.limits).toEqual({});
    expect(array(exported.vhosts).find((v) => v.name === vhost)).not.toHaveProperty('limits');

    const fresh = await startWarren();
    try {
      const freshApi = apiClient(fresh.server.app);
      expect((await freshApi('POST', '/api/definitions', { body: exported })).status).toBe(204);
      expect((await freshApi('GET', `/api/vhost-limits/${vhost}`)).body).toEqual([{ vhost, value: { 'max-connections': 500, 'max-queues': 1 } }]);
      expect((await freshApi('GET', `/api/user-limits/${user}`)).body).toEqual([{ user, value: { 'max-channels': 3 } }]);
      expect(array((await freshApi('GET', `/api/queues/${vhost}`)).body).map((q) => q.name).sort()).toEqual(['a', 'b']);
    } finally {
      await fresh.stop();
    }
  });

  it('a vhost’s export carries its limits without the vhost key, and imports them into another vhost', async () => {
    const source = await freshVhost();
    const target = await freshVhost();
    await api('PUT', `/api/vhost-limits/${source}/max-queues`, { body: { value: 7 } });
    const exported = record((await api('GET', `/api/definitions/${source}`)).body);
    expect(exported.parameters).toEqual([{ value: { 'max-queues': 7 }, component: 'vhost-limits', name: 'limits' }]);
    expect((await api('POST', `/api/definitions/${target}`, { body: exported })).status).toBe(204);
    expect((await api('GET', `/api/vhost-limits/${target}`)).body).toEqual([{ vhost: target, value: { 'max-queues': 7 } }]);
  });

  it('refuses bad limits and queues beyond max-queues, before anything changes', async () => {
    const vhost = await freshVhost();
    const bad = { vhosts: [{ name: vhost }], queues: [{ name: 'never', vhost, durable: true }] };
    const badLimit = await api('POST', '/api/definitions', {
      body: { ...bad, parameters: [{ vhost, component: 'vhost-limits', name: 'limits', value: { 'max-queues': 'x' } }] },
    });
    expect(badLimit).toMatchObject({ status: 400, body: { reason: `definitions: vhost-limits of vhost '${vhost}': max-queues should be a number, actually was <<"x">>` } });
    const badUser = await api('POST', '/api/definitions', { body: { ...bad, users: [{ name: unique('u'), password: 'p', tags: '', limits: { 'max-queues': 1 } }] } });
    expect(badUser.status).toBe(400);
    expect(record(badUser.body).reason).toContain('Unrecognised terms [{<<"max-queues">>,1}] in user-limits');

    await api('PUT', `/api/vhost-limits/${vhost}/max-queues`, { body: { value: 1 } });
    const tooMany = await api('POST', '/api/definitions', {
      body: { queues: [{ name: 'q1', vhost, durable: true }, { name: 'q2', vhost, durable: true }] },
    });
    expect(tooMany).toMatchObject({
      status: 400,
      body: {
        reason: `definitions: Adding 2 queue(s) to virtual host "${vhost}" would exceed the limit of 1 queue(s).\n\nThis virtual host currently has 0 queue(s) defined.\n\nImport aborted!`,
      },
    });
    expect((await api('GET', `/api/queues/${vhost}`)).body).toEqual([]);
  });
});
