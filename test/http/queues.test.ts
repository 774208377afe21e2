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

const q = (name: string): string => `/api/queues/%2F/${encodeURIComponent(name)}`;

async function fill(queue: string, bodies: string[]): Promise<void> {
  for (const payload of bodies) {
    const res = await api('POST', '/api/exchanges/%2F/amq.default/publish', {
      body: { routing_key: queue, payload, payload_encoding: 'string', properties: {} },
    });
    expect(res.body).toEqual({ routed: true });
  }
}

const get = (queue: string, body: Record<string, unknown>) => api('POST', `${q(queue)}/get`, { body: { encoding: 'auto', ...body } });

describe('queues', () => {
  it('declares with rabbitmqadmin body (strings, extra keys): 201 then 204', async () => {
    const name = unique('q');
    const body = { name, vhost: '/', durable: 'true', auto_delete: 'false', arguments: { 'x-max-length': 10 }, node: 'rabbit@x', queue_type: 'classic' };
    expect((await api('PUT', q(name), { body })).status).toBe(201);
    expect((await api('PUT', q(name), { body })).status).toBe(204);
    const got = record((await api('GET', q(name))).body);
    expect(got).toMatchObject({
      name,
      vhost: '/',
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: { 'x-max-length': 10 },
      type: 'classic',
      state: 'running',
      messages: 0,
      messages_ready: 0,
      messages_unacknowledged: 0,
      consumers: 0,
      consumer_details: [],
      exclusive_consumer_tag: null,
      messages_details: { rate: 0 },
    });
    expect(typeof got.node).toBe('string');
    expect(typeof got.memory).toBe('number');
  });

  it('works with %2F and %2f vhosts and names containing slashes, spaces and unicode', async () => {
    for (const name of ['a/b', 'with space', 'ünï€ode', 'x'.repeat(255)]) {
      expect((await api('PUT', q(name))).status, name).toBe(201);
      expect(record((await api('GET', `/api/queues/%2f/${encodeURIComponent(name)}`)).body).name).toBe(name);
    }
    expect((await api('PUT', q('y'.repeat(256)))).status).toBe(400);
  });

  it('refuses inequivalent and invalid declarations with 400', async () => {
    const name = unique('q');
    await api('PUT', q(name), { body: { durable: true } });
    const res = await api('PUT', q(name), { body: { durable: false } });
    expect(res.status).toBe(400);
    expect(record(res.body).reason).toMatch(/^inequivalent arg 'durable' for queue/);
    const invalid = await api('PUT', q(unique('q')), { body: { arguments: { 'x-max-length': -1 } } });
    expect(invalid.status).toBe(400);
    expect(record(invalid.body).reason).toMatch(/^invalid arg 'x-max-length'/);
    expect((await api('PUT', q(unique('q')), { body: { arguments: { 'x-message-ttl': null } } })).status).toBe(400);
    expect((await api('PUT', q('amq.reserved'))).status).toBe(401);
    expect((await api('PUT', '/api/queues/nope/q')).body).toEqual({ error: 'not_found', reason: 'vhost_not_found' });
  });

  it('deletes with if-empty and if-unused, 404 when missing', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['one']);
    expect((await api('DELETE', `${q(name)}?if-empty=true`)).body).toEqual({ error: 'bad_request', reason: `queue '${name}' in vhost '/' not empty` });
    const conn = await warren.connect();
    await conn.consume({ queue: name }, () => undefined);
    expect((await api('DELETE', `${q(name)}?if-unused=true`)).status).toBe(400);
    expect((await api('DELETE', q(name))).status).toBe(204);
    expect((await api('DELETE', q(name))).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('GET', q(name))).status).toBe(404);
    await conn.close();
  });

  it('purges with DELETE …/contents', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['a', 'b']);
    expect((await api('DELETE', `${q(name)}/contents`)).status).toBe(204);
    expect(record((await api('GET', q(name))).body).messages).toBe(0);
    expect((await api('DELETE', `${q('nope')}/contents`)).status).toBe(404);
  });

  it("refuses another connection's exclusive queue with 400 but lists it with its owner", async () => {
    const conn = await warren.connect();
    const { queue } = await conn.queueDeclare({ exclusive: true });
    const got = record((await api('GET', q(queue))).body);
    expect(got.exclusive).toBe(true);
    expect(record(got.owner_pid_details).name).toMatch(/^conn-/);
    expect((await api('DELETE', `${q(queue)}/contents`)).status).toBe(400);
    expect((await get(queue, { count: 1, ackmode: 'ack_requeue_true' })).status).toBe(400);
    await conn.close();
  });

  it('lists the bindings of a queue, the implicit default-exchange one first', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await api('POST', `/api/bindings/%2F/e/amq.topic/q/${name}`, { body: { routing_key: 'a.#' } });
    const bindings = array((await api('GET', `${q(name)}/bindings`)).body);
    expect(bindings).toEqual([
      { source: '', vhost: '/', destination: name, destination_type: 'queue', routing_key: name, arguments: {}, properties_key: name.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) },
      { source: 'amq.topic', vhost: '/', destination: name, destination_type: 'queue', routing_key: 'a.#', arguments: {}, properties_key: 'a.%23' },
    ]);
  });

  it('shows consumer_details on a single GET and counts unacked messages', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['a', 'b', 'c']);
    const conn = await warren.connect({ clientProperties: { connection_name: 'test-conn' } });
    await conn.qos(1);
    const received: unknown[] = [];
    await conn.consume({ queue: name, consumerTag: 'ctag-1' }, (m) => received.push(m));
    await expect.poll(() => received.length).toBe(1);
    const got = record((await api('GET', q(name))).body);
    expect(got).toMatchObject({ messages: 3, messages_ready: 2, messages_unacknowledged: 1, consumers: 1 });
    const [consumer] = array(got.consumer_details);
    expect(consumer).toMatchObject({ consumer_tag: 'ctag-1', ack_required: true, prefetch_count: 1, active: true, queue: { name, vhost: '/' } });
    expect(record(consumer?.channel_details).name).toMatch(/^conn-.* \(1\)$/);
    await conn.close();
  });

  it('actions: sync/cancel_sync accepted, others refused', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    expect((await api('POST', `${q(name)}/actions`, { body: { action: 'sync' } })).status).toBe(204);
    expect((await api('POST', `${q(name)}/actions`, { body: { action: 'explode' } })).status).toBe(400);
  });
});

describe('get', () => {
  it('ack_requeue_false takes messages in order with message_count; count may be a string', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['m1', 'm2', 'm3']);
    const [first] = array((await get(name, { count: '1', ackmode: 'ack_requeue_false' })).body);
    expect(first).toEqual({ payload_bytes: 2, redelivered: false, exchange: '', routing_key: name, message_count: 2, properties: {}, payload: 'm1', payload_encoding: 'string' });
    expect(record((await api('GET', q(name))).body).messages).toBe(2);
  });

  it('ack_requeue_true leaves the messages, marked redelivered, and never returns one twice in a call', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['m1', 'm2']);
    const firstCall = array((await get(name, { count: 5, ackmode: 'ack_requeue_true' })).body);
    expect(firstCall.map((m) => [m.payload, m.redelivered])).toEqual([
      ['m1', false],
      ['m2', false],
    ]);
    const again = array((await get(name, { count: 5, ackmode: 'reject_requeue_true' })).body);
    expect(again.map((m) => [m.payload, m.redelivered])).toEqual([
      ['m1', true],
      ['m2', true],
    ]);
    expect(record((await api('GET', q(name))).body)).toMatchObject({ messages: 2, messages_unacknowledged: 0 });
    expect(array((await get(name, { count: 1, ackmode: 'reject_requeue_false' })).body)).toHaveLength(1);
    expect(record((await api('GET', q(name))).body).messages).toBe(1);
  });

  it('encodes binary as base64 in auto mode, always in base64 mode, and truncates', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await api('POST', '/api/exchanges/%2F/amq.default/publish', {
      body: { routing_key: name, payload: Buffer.from([0xff, 0xfe]).toString('base64'), payload_encoding: 'base64', properties: {} },
    });
    await fill(name, ['hello world']);
    const messages = array((await get(name, { count: 2, ackmode: 'ack_requeue_true', truncate: '5' })).body);
    expect(messages.map((m) => [m.payload, m.payload_encoding, m.payload_bytes])).toEqual([
      ['//4=', 'base64', 2],
      ['hello', 'string', 11],
    ]);
    const base64 = array((await get(name, { count: 2, ackmode: 'ack_requeue_true', encoding: 'base64' })).body);
    expect(base64[1]?.payload).toBe(Buffer.from('hello world').toString('base64'));
  });

  it('returns [] on an empty queue and validates the body', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    expect((await get(name, { count: 3, ackmode: 'ack_requeue_false' })).body).toEqual([]);
    expect((await get(name, { count: 1, ackmode: 'ack_requeue_false', encoding: 'utf16' })).body).toEqual({
      error: 'bad_request',
      reason: 'Unsupported encoding. Please use auto or base64.',
    });
    expect((await get(name, { count: 1, ackmode: 'keep' })).status).toBe(400);
    expect((await get(name, { count: 'many', ackmode: 'ack_requeue_false' })).status).toBe(400);
    expect((await api('POST', `${q(name)}/get`, { body: { count: 1, encoding: 'auto' } })).body).toEqual({
      error: 'bad_request',
      reason: '[{key_missing,ackmode}]',
    });
    expect((await get('nope', { count: 1, ackmode: 'ack_requeue_false' })).body).toEqual({ error: 'not_found', reason: 'queue_not_found' });
  });
});

describe('peek (Warren extension)', () => {
  it('shows ready messages in order without changing order, redelivered flags or counts', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    await fill(name, ['p0', 'p1', 'p2', 'p3']);
    await get(name, { count: 1, ackmode: 'ack_requeue_true' });
    const before = record((await api('GET', q(name))).body);
    const peeked = array((await api('POST', `${q(name)}/peek`, { body: { offset: 1, count: '2' } })).body);
    expect(peeked.map((m) => [m.position, m.payload, m.redelivered])).toEqual([
      [1, 'p1', false],
      [2, 'p2', false],
    ]);
    expect(peeked[0]).toMatchObject({ exchange: '', routing_key: name, properties: {}, payload_encoding: 'string', payload_bytes: 2 });
    expect(peeked[0]?.age).toBeTypeOf('number');
    const all = array((await api('POST', `${q(name)}/peek`, {})).body);
    expect(all.map((m) => [m.payload, m.redelivered])).toEqual([
      ['p0', true],
      ['p1', false],
      ['p2', false],
      ['p3', false],
    ]);
    const after = record((await api('GET', q(name))).body);
    expect([after.messages, after.messages_ready, after.messages_unacknowledged]).toEqual([before.messages, before.messages_ready, before.messages_unacknowledged]);
    const taken = array((await get(name, { count: 4, ackmode: 'ack_requeue_false' })).body);
    expect(taken.map((m) => m.payload)).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('validates and 404s', async () => {
    const name = unique('q');
    await api('PUT', q(name));
    expect((await api('POST', `${q(name)}/peek`, { body: { count: 5000 } })).status).toBe(400);
    expect((await api('POST', `${q(name)}/peek`, { body: { encoding: 'hex' } })).status).toBe(400);
    expect((await api('POST', `${q('nope')}/peek`, {})).status).toBe(404);
    expect((await api('POST', `${q(name)}/peek`, { body: { offset: 10 } })).body).toEqual([]);
  });
});
