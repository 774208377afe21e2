/**
 * The management views of a real AMQP 0-9-1 connection (amqplib over TCP) with several channels, beside
 * RabbitMQ's field names: connection, channels by number, consumers, and closing it over REST.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, record, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

const url = (name: string): string => encodeURIComponent(name);

/** Connection names are the server's: find ours by the name the client gave. */
async function connectionNamed(provided: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await expect
    .poll(async () => {
      found = array((await api('GET', '/api/connections')).body).find((c) => c.user_provided_name === provided);
      return found !== undefined;
    })
    .toBe(true);
  return found as Record<string, unknown>;
}

describe('an AMQP 0-9-1 connection in the management API', () => {
  it('lists the connection, its two channels by number, and its consumer; DELETE closes it with 320 and the reason', async () => {
    const provided = unique('amqp-rest');
    const conn = await amqp.connect(`${warren.amqpUrl}?heartbeat=5`, { clientProperties: { connection_name: provided } });
    const closed = new Promise<{ code?: number; message?: string } | undefined>((resolve) => conn.on('close', resolve));
    conn.on('error', () => undefined);
    const first = await conn.createChannel();
    await first.prefetch(5, false);
    await first.prefetch(7, true);
    const { queue } = await first.assertQueue('', { exclusive: true });
    await first.consume(queue, () => undefined, { consumerTag: 'amqp-tag' });
    const second = await conn.createConfirmChannel();
    // A confirmed publish on channel 2 reaches the consumer on channel 1, which leaves it unacked.
    second.sendToQueue(queue, Buffer.from('hello'));
    await second.waitForConfirms();

    const connection = await connectionNamed(provided);
    const name = String(connection.name);
    expect(connection).toMatchObject({
      protocol: 'AMQP 0-9-1',
      auth_mechanism: 'PLAIN',
      channels: 2,
      // What RabbitMQ 3.10.8 shows for the same amqplib client; the heartbeat is the one the client asked for.
      channel_max: 2047,
      frame_max: 131072,
      timeout: 5,
      ssl: false,
      user: 'guest',
      vhost: '/',
      user_provided_name: provided,
      port: warren.amqpPort,
      client_properties: { connection_name: provided, product: 'amqplib', capabilities: expect.objectContaining({ publisher_confirms: true }) },
    });
    expect(record((await api('GET', `/api/connections/${url(name)}`)).body).protocol).toBe('AMQP 0-9-1');
    // The socket's bytes: at least the protocol header, start-ok, tune-ok, open, and our methods and body;
    // out, at least connection.start (its server properties alone are hundreds of bytes) and the delivery.
    expect(connection.recv_oct).toBeGreaterThan(8 + 'hello'.length);
    expect(connection.send_oct).toBeGreaterThan(200);
    expect(connection.recv_oct_details).toEqual({ rate: expect.any(Number) });
    expect(connection.send_oct_details).toEqual({ rate: expect.any(Number) });

    const channels = array((await api('GET', `/api/connections/${url(name)}/channels`)).body);
    expect(channels.map((c) => [c.name, c.number])).toEqual([
      [`${name} (1)`, 1],
      [`${name} (2)`, 2],
    ]);
    expect(channels[0]).toMatchObject({ confirm: false, transactional: false, prefetch_count: 5, global_prefetch_count: 7, consumer_count: 1, connection_details: { name } });
    expect(channels[1]).toMatchObject({ confirm: true, transactional: false, prefetch_count: 0, global_prefetch_count: 0, consumer_count: 0, messages_unconfirmed: 0 });
    expect(record(channels[1]?.message_stats)).toMatchObject({ publish: 1, confirm: 1 });
    await expect
      .poll(async () => record((await api('GET', `/api/channels/${url(`${name} (1)`)}`)).body).messages_unacknowledged)
      .toBe(1);
    const all = array((await api('GET', '/api/channels')).body).map((c) => c.name);
    expect(all).toEqual(expect.arrayContaining([`${name} (1)`, `${name} (2)`]));
    expect(record((await api('GET', `/api/channels/${url(`${name} (2)`)}`)).body)).toMatchObject({ number: 2, confirm: true });

    const consumer = array((await api('GET', '/api/consumers')).body).find((c) => c.consumer_tag === 'amqp-tag');
    expect(consumer).toMatchObject({
      queue: { name: queue, vhost: '/' },
      prefetch_count: 5,
      ack_required: true,
      channel_details: { connection_name: name, name: `${name} (1)`, number: 1, user: 'guest' },
    });
    expect(record(record((await api('GET', `/api/queues/%2F/${url(queue)}`)).body).owner_pid_details).name).toBe(name);

    const res = await api('DELETE', `/api/connections/${url(name)}`, { headers: { 'x-reason': 'amqp maintenance' } });
    expect(res.status).toBe(204);
    const error = await closed;
    expect(error?.code).toBe(320);
    expect(error?.message).toContain('amqp maintenance');
    await expect.poll(async () => (await api('GET', `/api/connections/${url(name)}`)).status).toBe(404);
    await expect.poll(async () => (await api('GET', `/api/queues/%2F/${url(queue)}`)).status).toBe(404);
  });
});
