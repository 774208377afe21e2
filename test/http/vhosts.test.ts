import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionClosedError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

describe('vhosts', () => {
  it('lists / with its metadata and message counts', async () => {
    const [root] = array((await api('GET', '/api/vhosts')).body);
    expect(root).toMatchObject({
      name: '/',
      description: 'Default virtual host',
      tags: [],
      default_queue_type: 'classic',
      metadata: { description: 'Default virtual host', tags: [], default_queue_type: 'classic' },
      tracing: false,
      messages: 0,
      messages_details: { rate: 0 },
    });
    expect(Object.values(record(root?.cluster_state))).toEqual(['running']);
  });

  it('creates (201), updates (204), shows, and grants the creator full permissions', async () => {
    const put = await api('PUT', '/api/vhosts/dev', { body: { description: 'for dev', tags: 'a,b', default_queue_type: 'classic' } });
    expect(put.status).toBe(201);
    expect((await api('PUT', '/api/vhosts/dev', { body: { tags: ['c'] } })).status).toBe(204);
    expect(record((await api('GET', '/api/vhosts/dev')).body)).toMatchObject({ name: 'dev', description: 'for dev', tags: ['c'] });
    expect(record((await api('GET', '/api/permissions/dev/guest')).body)).toEqual({ user: 'guest', vhost: 'dev', configure: '.*', write: '.*', read: '.*' });
    expect((await api('PUT', '/api/vhosts/dev2')).status).toBe(201);
    expect((await api('PUT', '/api/vhosts/bad', { body: { tracing: 'maybe' } })).status).toBe(400);
  });

  it('404s on a missing vhost', async () => {
    expect((await api('GET', '/api/vhosts/nope')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('DELETE', '/api/vhosts/nope')).status).toBe(404);
    expect((await api('GET', '/api/vhosts/nope/permissions')).status).toBe(404);
  });

  it('deletes a vhost: its objects, its permissions, and its connections (closed with 320)', async () => {
    await api('PUT', '/api/vhosts/doomed');
    await api('PUT', '/api/queues/doomed/q1');
    const user = await createUser(api, 'doomed-user', 'management', { vhost: 'doomed', configure: '.*', write: '.*', read: '.*' });
    const conn = await warren.connect({ vhost: 'doomed' });
    const closed = new Promise<unknown>((resolve) => conn.on('close', resolve));
    expect((await api('DELETE', '/api/vhosts/doomed')).status).toBe(204);
    expect(await closed).toMatchObject({ code: 320, reason: 'CONNECTION_FORCED' });
    await expect(conn.queueDeclare({ queue: 'x' })).rejects.toBeInstanceOf(ConnectionClosedError);
    expect((await api('GET', '/api/vhosts/doomed')).status).toBe(404);
    expect(array((await api('GET', '/api/permissions')).body).filter((p) => p.vhost === 'doomed')).toEqual([]);
    expect((await api('GET', '/api/whoami', { as: user })).status).toBe(200);
    expect(array((await api('GET', '/api/vhosts', { as: user })).body)).toEqual([]);
  });

  it('lists the vhost’s permissions, connections and channels', async () => {
    const conn = await warren.connect();
    expect(array((await api('GET', '/api/vhosts/%2F/permissions')).body).map((p) => p.user)).toContain('guest');
    expect(array((await api('GET', '/api/vhosts/%2F/connections')).body).length).toBeGreaterThanOrEqual(1);
    expect(array((await api('GET', '/api/vhosts/%2F/channels')).body).length).toBeGreaterThanOrEqual(1);
    expect((await api('GET', '/api/vhosts/%2F/topic-permissions')).body).toEqual([]);
    await conn.close();
  });

  it('accepts a restart request for an existing vhost', async () => {
    expect((await api('POST', '/api/vhosts/%2F/start/warren@x')).status).toBe(204);
  });
});
