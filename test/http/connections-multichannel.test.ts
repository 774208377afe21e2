/**
 * The management views of a connection with several channels (an AMQP 0-9-1 connection's shape), through
 * a real server: a test connection holding real broker channels is registered beside real WebSocket ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestConnection, type TestConnection } from '../helpers/test-connection.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, record, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

const clientProperties = { connection_name: 'billing', product: 'amqplib', capabilities: { publisher_confirms: true, 'basic.nack': true } };

/** Channel 1 consumes from an exclusive queue with prefetch 5 and a shared (global) prefetch of 7; channel 2 is in confirm mode; channel 3 in a transaction. */
async function busyConnection(): Promise<{ conn: TestConnection; queue: string }> {
  const conn = await openTestConnection(warren.server, clientProperties);
  const one = conn.openChannel(1);
  conn.openChannel(2, { confirm: true, unconfirmed: 2 });
  conn.openChannel(3, { transactional: true, uncommittedMessages: 4, uncommittedAcks: 1 });
  const queue = unique('excl');
  await warren.server.ops.topology.declareQueue(one.caller, { queue, exclusive: true }).durable;
  warren.server.ops.messages.setPrefetch(one.caller, 5);
  one.channel.setSharedPrefetch(7);
  const { queue: consumed } = warren.server.ops.messages.consume(one.caller, { queue, tag: 'billing-tag', noAck: false, exclusive: false, arguments: {} });
  consumed.dispatch();
  return { conn, queue };
}

const url = (name: string): string => encodeURIComponent(name);

describe('a connection with several channels', () => {
  it('shows the connection with its protocol, limits and channel count, beside a JSON one', async () => {
    const { conn } = await busyConnection();
    const json = await warren.connect();
    const connection = record((await api('GET', `/api/connections/${url(conn.id)}`)).body);
    expect(connection).toMatchObject({
      name: conn.id,
      protocol: 'AMQP 0-9-1',
      auth_mechanism: 'PLAIN',
      channel_max: 2047,
      frame_max: 131072,
      timeout: 60,
      channels: 3,
      client_properties: clientProperties,
      user_provided_name: 'billing',
      ssl: false,
      ssl_protocol: null,
      peer_cert_subject: null,
      port: 5672,
      peer_host: '127.0.0.1',
      peer_port: conn.peer.port,
      user: 'guest',
      vhost: '/',
    });
    const all = array((await api('GET', '/api/connections?columns=name,protocol,channels,channel_max')).body);
    expect(all).toContainEqual({ name: conn.id, protocol: 'AMQP 0-9-1', channels: 3, channel_max: 2047 });
    expect(all).toContainEqual(expect.objectContaining({ protocol: 'Warren JSON over WebSocket', channels: 1, channel_max: 1 }));
    expect(array((await api('GET', '/api/vhosts/%2F/connections')).body).map((c) => c.name)).toContain(conn.id);
    await json.close();
    conn.close('CONNECTION_FORCED', 'test over');
  });

  it('lists each channel as `<connection> (<n>)` with its own number, mode and prefetches', async () => {
    const { conn } = await busyConnection();
    const channels = array((await api('GET', `/api/connections/${url(conn.id)}/channels`)).body);
    expect(channels.map((c) => [c.name, c.number])).toEqual([
      [`${conn.id} (1)`, 1],
      [`${conn.id} (2)`, 2],
      [`${conn.id} (3)`, 3],
    ]);
    expect(channels[0]).toMatchObject({
      connection_details: { name: conn.id, peer_host: '127.0.0.1', peer_port: conn.peer.port },
      consumer_count: 1,
      prefetch_count: 5,
      global_prefetch_count: 7,
      confirm: false,
      transactional: false,
      messages_unconfirmed: 0,
      messages_uncommitted: 0,
      acks_uncommitted: 0,
      user: 'guest',
      vhost: '/',
    });
    expect(channels[1]).toMatchObject({ consumer_count: 0, prefetch_count: 0, global_prefetch_count: 0, confirm: true, messages_unconfirmed: 2 });
    expect(channels[2]).toMatchObject({ transactional: true, messages_uncommitted: 4, acks_uncommitted: 1 });
    for (const path of ['/api/channels', '/api/vhosts/%2F/channels']) {
      const names = array((await api('GET', path)).body).map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining([`${conn.id} (1)`, `${conn.id} (2)`, `${conn.id} (3)`]));
    }
    const second = record((await api('GET', `/api/channels/${url(`${conn.id} (2)`)}`)).body);
    expect(second).toMatchObject({ name: `${conn.id} (2)`, number: 2, confirm: true, consumer_details: [] });
    const first = record((await api('GET', `/api/channels/${url(`${conn.id} (1)`)}`)).body);
    expect(array(first.consumer_details).map((c) => c.consumer_tag)).toEqual(['billing-tag']);
    expect((await api('GET', `/api/channels/${url(`${conn.id} (4)`)}`)).status).toBe(404);
    expect((await api('GET', `/api/channels/${url(conn.id)}`)).status).toBe(404);

    conn.closeChannel(2);
    const after = array((await api('GET', `/api/connections/${url(conn.id)}/channels?columns=number`)).body);
    expect(after).toEqual([{ number: 1 }, { number: 3 }]);
    expect(record((await api('GET', `/api/connections/${url(conn.id)}`)).body).channels).toBe(2);
    conn.close('CONNECTION_FORCED', 'test over');
  });

  it('names the consumer’s channel by number, and the exclusive queue’s owner by the connection', async () => {
    const { conn, queue } = await busyConnection();
    const consumer = array((await api('GET', '/api/consumers')).body).find((c) => c.consumer_tag === 'billing-tag');
    expect(consumer).toMatchObject({
      queue: { name: queue, vhost: '/' },
      prefetch_count: 5,
      channel_details: { connection_name: conn.id, name: `${conn.id} (1)`, number: 1, peer_host: '127.0.0.1', peer_port: conn.peer.port, user: 'guest' },
    });
    const owner = record(record((await api('GET', `/api/queues/%2F/${queue}`)).body).owner_pid_details);
    expect(owner.name).toBe(conn.id);
    conn.close('CONNECTION_FORCED', 'test over');
  });

  it('counts every channel in the overview and against max-channels', async () => {
    const before = record(record((await api('GET', '/api/overview')).body).object_totals);
    const { conn } = await busyConnection();
    const totals = record(record((await api('GET', '/api/overview')).body).object_totals);
    expect(totals.connections).toBe(Number(before.connections) + 1);
    expect(totals.channels).toBe(Number(before.channels) + 3);

    // Guest holds 3 channels: a limit of 3 leaves no room for a JSON connection's one.
    expect((await api('PUT', '/api/user-limits/guest/max-channels', { body: { value: 3 } })).status).toBe(204);
    await expect(warren.connect()).rejects.toThrow(/max/i);
    conn.closeChannel(3);
    const json = await warren.connect();
    await json.close();
    expect((await api('DELETE', '/api/user-limits/guest/max-channels')).status).toBe(204);
    conn.close('CONNECTION_FORCED', 'test over');
  });

  it('DELETE closes it with CONNECTION_FORCED and the X-Reason; its exclusive queue goes with it', async () => {
    const { conn, queue } = await busyConnection();
    const res = await api('DELETE', `/api/connections/${url(conn.id)}`, { headers: { 'x-reason': 'billing moved' } });
    expect(res.status).toBe(204);
    expect(conn.calls).toContain('close CONNECTION_FORCED billing moved');
    expect((await api('GET', `/api/connections/${url(conn.id)}`)).status).toBe(404);
    expect((await api('GET', `/api/channels/${url(`${conn.id} (1)`)}`)).status).toBe(404);
    expect((await api('GET', `/api/queues/%2F/${queue}`)).status).toBe(404);
  });

  it('sums its channels’ counters and rates into the connection’s message_stats; each channel keeps its own', async () => {
    const conn = await openTestConnection(warren.server);
    const one = conn.openChannel(1);
    const two = conn.openChannel(2);
    const queue = unique('sum');
    await warren.server.ops.topology.declareQueue(one.caller, { queue }).durable;
    const sampler = warren.server.app.managementApi.sampler;
    // Samples 5 s apart by the sampler's own clock argument: a rate without waiting.
    const at = Date.now();
    sampler.sampleNow(at);
    const publish = async (caller: typeof one.caller, confirm: boolean): Promise<void> => {
      const content = { exchange: '', routingKey: queue, properties: {}, body: new TextEncoder().encode('x') };
      await warren.server.ops.messages.publish(caller, content, { mandatory: false, confirm }).durable;
    };
    await publish(one.caller, false);
    await publish(two.caller, true);
    await publish(two.caller, true);
    sampler.sampleNow(at + 5000);
    const stats = record(record((await api('GET', `/api/connections/${url(conn.id)}`)).body).message_stats);
    expect(stats.publish).toBe(3);
    expect(stats.confirm).toBe(2);
    expect(record(stats.publish_details).rate).toBeGreaterThan(0);
    const channels = array((await api('GET', `/api/connections/${url(conn.id)}/channels?columns=number,message_stats.publish,confirm`)).body);
    expect(channels).toEqual([
      { number: 1, message_stats: { publish: 1 }, confirm: false },
      { number: 2, message_stats: { publish: 2 }, confirm: false },
    ]);
    conn.close('CONNECTION_FORCED', 'test over');
  });

  it('a memory alarm blocks and unblocks every connection', async () => {
    const conn = await openTestConnection(warren.server);
    warren.server.connections.setMemoryAlarm(true);
    warren.server.connections.setMemoryAlarm(false);
    expect(conn.calls).toEqual(['block memory', 'unblock']);
    conn.close('CONNECTION_FORCED', 'test over');
  });
});
