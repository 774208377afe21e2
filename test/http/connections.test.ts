import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloseInfo, WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;
let alice: readonly [string, string];

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  alice = await createUser(api, 'alice', 'management', { configure: '.*', write: '.*', read: '.*' });
});
afterAll(() => warren.stop());

function closeOf(conn: WarrenConnection): Promise<CloseInfo | undefined> {
  return new Promise((resolve) => conn.on('close', resolve));
}

/** Connection names are server-chosen ids: find ours through an exclusive queue it owns. */
async function connectionName(conn: WarrenConnection): Promise<string> {
  const queue = unique('marker');
  await conn.queueDeclare({ queue, exclusive: true });
  const body = record((await api('GET', `/api/queues/%2F/${queue}`)).body);
  return String(record(body.owner_pid_details).name);
}

describe('connections and channels', () => {
  it('lists connections with RabbitMQ’s fields, and their one channel', async () => {
    const conn = await warren.connect({ clientProperties: { connection_name: 'orders-service', product: 'test' }, heartbeat: 10 });
    const name = await connectionName(conn);
    const connection = record((await api('GET', `/api/connections/${encodeURIComponent(name)}`)).body);
    expect(connection).toMatchObject({
      name,
      user: 'guest',
      vhost: '/',
      peer_host: expect.stringMatching(/127\.0\.0\.1/),
      ssl: false,
      state: 'running',
      channels: 1,
      timeout: 10,
      type: 'network',
      user_provided_name: 'orders-service',
      client_properties: { connection_name: 'orders-service', product: 'test' },
    });
    expect(connection.connected_at).toBeTypeOf('number');
    expect(array((await api('GET', '/api/connections?columns=name,user,channels')).body)).toContainEqual({ name, user: 'guest', channels: 1 });

    const channelName = `${name} (1)`;
    const channels = array((await api('GET', `/api/connections/${encodeURIComponent(name)}/channels`)).body);
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ name: channelName, number: 1, user: 'guest', vhost: '/', connection_details: { name }, prefetch_count: 0 });
    const channel = record((await api('GET', `/api/channels/${encodeURIComponent(channelName)}`)).body);
    expect(channel).toMatchObject({ name: channelName, consumer_details: [] });
    expect(array((await api('GET', '/api/channels')).body).map((c) => c.name)).toContain(channelName);
    expect((await api('GET', `/api/channels/${encodeURIComponent(`${name} (2)`)}`)).status).toBe(404);
    await conn.close();
  });

  it('DELETE closes the client with 320 CONNECTION_FORCED and the X-Reason text', async () => {
    const conn = await warren.connect();
    const name = await connectionName(conn);
    const closed = closeOf(conn);
    const res = await api('DELETE', `/api/connections/${encodeURIComponent(name)}`, { headers: { 'x-reason': 'maintenance window' } });
    expect(res.status).toBe(204);
    expect(await closed).toEqual({ code: 320, reason: 'CONNECTION_FORCED', message: 'maintenance window' });
    await expect.poll(async () => (await api('GET', `/api/connections/${encodeURIComponent(name)}`)).status).toBe(404);
  });

  it('uses RabbitMQ’s default reason without X-Reason', async () => {
    const conn = await warren.connect();
    const name = await connectionName(conn);
    const closed = closeOf(conn);
    await api('DELETE', `/api/connections/${encodeURIComponent(name)}`);
    expect((await closed)?.message).toBe('Closed via management plugin');
  });

  it('404s on an unknown connection', async () => {
    expect((await api('GET', '/api/connections/conn-nope')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('DELETE', '/api/connections/conn-nope')).status).toBe(404);
  });

  it('shows non-monitoring users only their own connections; only admins close others', async () => {
    const mine = await warren.connect({ username: alice[0], password: alice[1] });
    const guests = await warren.connect();
    const guestConnection = await connectionName(guests);
    const visible = array((await api('GET', '/api/connections', { as: alice })).body);
    expect(visible.map((c) => c.user)).toEqual(['alice']);
    expect(array((await api('GET', '/api/channels', { as: alice })).body).map((c) => c.user)).toEqual(['alice']);
    expect((await api('GET', `/api/connections/${encodeURIComponent(guestConnection)}`, { as: alice })).status).toBe(401);
    expect((await api('DELETE', `/api/connections/${encodeURIComponent(guestConnection)}`, { as: alice })).status).toBe(401);
    expect(array((await api('GET', '/api/connections/username/alice', { as: alice })).body)).toHaveLength(1);
    expect((await api('GET', '/api/connections/username/guest', { as: alice })).status).toBe(401);
    const closed = closeOf(mine);
    expect((await api('DELETE', '/api/connections/username/alice', { as: alice })).status).toBe(204);
    expect((await closed)?.code).toBe(320);
    await guests.close();
  });
});

describe('consumers', () => {
  it('lists consumers with channel_details, per vhost too', async () => {
    const conn = await warren.connect();
    const queue = unique('q');
    await conn.queueDeclare({ queue });
    await conn.qos(5);
    await conn.consume({ queue, consumerTag: 'tag-1', arguments: { 'x-priority': 3 } }, () => undefined);
    const all = array((await api('GET', '/api/consumers')).body);
    const consumer = all.find((c) => c.consumer_tag === 'tag-1');
    expect(consumer).toMatchObject({
      consumer_tag: 'tag-1',
      ack_required: true,
      exclusive: false,
      prefetch_count: 5,
      active: true,
      activity_status: 'up',
      arguments: { 'x-priority': 3 },
      queue: { name: queue, vhost: '/' },
      channel_details: { number: 1, user: 'guest' },
    });
    expect(array((await api('GET', '/api/consumers/%2F')).body).some((c) => c.consumer_tag === 'tag-1')).toBe(true);
    expect(array((await api('GET', '/api/consumers', { as: alice })).body).some((c) => c.consumer_tag === 'tag-1')).toBe(false);
    expect((await api('GET', '/api/consumers/nope')).status).toBe(404);
    const channel = array((await api('GET', '/api/channels?columns=name,consumer_count,prefetch_count')).body);
    expect(channel).toContainEqual(expect.objectContaining({ consumer_count: 1, prefetch_count: 5 }));
    await conn.close();
  });

  it('marks single-active-consumer standbys as waiting', async () => {
    const conn = await warren.connect();
    const queue = unique('sac');
    await conn.queueDeclare({ queue, arguments: { 'x-single-active-consumer': true } });
    await conn.consume({ queue, consumerTag: 'first' }, () => undefined);
    await conn.consume({ queue, consumerTag: 'second' }, () => undefined);
    const got = record((await api('GET', `/api/queues/%2F/${queue}`)).body);
    expect(array(got.consumer_details).map((c) => [c.consumer_tag, c.activity_status])).toEqual([
      ['first', 'up'],
      ['second', 'waiting'],
    ]);
    expect(got.single_active_consumer_tag).toBe('first');
    await conn.close();
  });
});
