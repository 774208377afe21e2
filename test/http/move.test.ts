/**
 * Warren's dead-letter tooling over REST: move ready messages to a queue or through an exchange,
 * retry dead letters where they first died, and peek with the same filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import type { Queue } from '../../src/broker/queue.js';
import type { VHost } from '../../src/broker/vhost.js';
import { apiClient, array, basic, createUser, record, unique, type Api } from './support.js';

function queueOfVhost(vhost: VHost, name: string): Queue {
  const found = vhost.queues.get(name);
  if (!found) throw new Error(`no queue ${name}`);
  return found;
}

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

async function ok(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await api(method, url, body === undefined ? {} : { body });
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${response.text}`);
  return response.body;
}

async function queue(name: string, args: Record<string, unknown> = {}): Promise<void> {
  await ok('PUT', `/api/queues/%2F/${name}`, { durable: true, arguments: args });
}

async function publish(exchange: string, routingKey: string, payload: string, properties: Record<string, unknown> = {}): Promise<void> {
  const x = exchange === '' ? 'amq.default' : exchange;
  const body = record(await ok('POST', `/api/exchanges/%2F/${x}/publish`, { routing_key: routingKey, properties, payload, payload_encoding: 'string' }));
  expect(body.routed).toBe(true);
}

async function peek(name: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return array(await ok('POST', `/api/queues/%2F/${name}/peek`, { count: 1000, ...extra }));
}

const payloads = async (name: string): Promise<unknown[]> => (await peek(name)).map((m) => m.payload);

async function post(url: string, body: unknown, as?: readonly [string, string]): Promise<{ status: number; body: unknown }> {
  const { status, body: answer } = await api('POST', url, { body, ...(as ? { as } : {}) });
  return { status, body: answer };
}

const move = (name: string, body: unknown, as?: readonly [string, string]): Promise<{ status: number; body: unknown }> =>
  post(`/api/queues/%2F/${name}/move`, body, as);
const retry = (name: string, body: unknown, as?: readonly [string, string]): Promise<{ status: number; body: unknown }> =>
  post(`/api/queues/%2F/${name}/retry-dead-letters`, body, as);

describe('POST /api/queues/{vhost}/{name}/move', () => {
  it('moves every ready message into another queue, in order, with properties and headers', async () => {
    const [from, to] = [unique('src'), unique('dst')];
    await queue(from);
    await queue(to);
    await publish('', to, 'already there');
    for (let i = 0; i < 5; i++) await publish('', from, `m${i}`, { delivery_mode: 2, headers: { n: i }, message_id: `id-${i}`, content_type: 'text/plain' });
    const answer = await move(from, { destination: { queue: to } });
    expect(answer).toEqual({ status: 200, body: { moved: 5, unroutable: 0, rejected: 0 } });
    expect(await payloads(from)).toEqual([]);
    const moved = await peek(to);
    expect(moved.map((m) => m.payload)).toEqual(['already there', 'm0', 'm1', 'm2', 'm3', 'm4']);
    expect(moved[1]).toMatchObject({
      routing_key: from,
      exchange: '',
      properties: { delivery_mode: 2, headers: { n: 0 }, message_id: 'id-0', content_type: 'text/plain' },
    });
    const source = record(await ok('GET', `/api/queues/%2F/${from}`));
    expect(source).toMatchObject({ messages: 0, messages_ready: 0 });
    expect(record(await ok('GET', `/api/queues/%2F/${to}`))).toMatchObject({ messages_ready: 6 });
  });

  it('moves the first `count` messages matching a filter, across batches, leaving the rest in order', async () => {
    const [from, to] = [unique('src'), unique('dst')];
    await queue(from);
    await queue(to);
    const conn = await warren.connect();
    // More than one browse batch (500), with the matches spread through it.
    for (let i = 0; i < 1200; i++) {
      await conn.publish({ routingKey: from, body: `m${i}`, properties: { headers: { tenant: i % 3 === 0 ? 'acme' : 'other' } } });
    }
    await conn.close();
    const answer = await move(from, { destination: { queue: to }, count: 300, filter: { headers: { tenant: 'acme' } } });
    expect(answer.body).toEqual({ moved: 300, unroutable: 0, rejected: 0 });
    const expected = Array.from({ length: 300 }, (_, k) => `m${k * 3}`);
    expect(await payloads(to)).toEqual(expected);
    const left = await peek(from);
    expect(left.length).toBe(900);
    expect(left.slice(0, 3).map((m) => m.payload)).toEqual(['m1', 'm2', 'm4']);
    expect(left.map((m) => m.payload)).toContain('m900');
    expect(left.map((m) => m.position)).toEqual(Array.from({ length: 900 }, (_, i) => i));
  });

  it('moves through an exchange, by the given routing key or by each message’s own, leaving unroutable ones', async () => {
    const from = unique('src');
    const [eu, us] = [unique('eu'), unique('us')];
    const x = unique('x');
    await queue(from);
    await queue(eu);
    await queue(us);
    await ok('PUT', `/api/exchanges/%2F/${x}`, { type: 'topic', durable: true });
    await ok('POST', `/api/bindings/%2F/e/${x}/q/${eu}`, { routing_key: 'order.eu.*' });
    await ok('POST', `/api/bindings/%2F/e/${x}/q/${us}`, { routing_key: 'order.us.*' });
    await ok('PUT', `/api/exchanges/%2F/${unique('unused')}`, { type: 'direct' });
    const conn = await warren.connect();
    await conn.queueBind({ queue: from, exchange: 'amq.topic', routingKey: 'order.#' });
    for (const key of ['order.eu.new', 'order.us.new', 'order.asia.new', 'order.eu.paid']) {
      await conn.publish({ exchange: 'amq.topic', routingKey: key, body: key, properties: { headers: { h: key } } });
    }
    await conn.close();

    const own = await move(from, { destination: { exchange: x } });
    expect(own.body).toEqual({ moved: 3, unroutable: 1, rejected: 0 });
    expect(await payloads(eu)).toEqual(['order.eu.new', 'order.eu.paid']);
    expect(await payloads(us)).toEqual(['order.us.new']);
    expect((await peek(eu))[0]).toMatchObject({ exchange: x, routing_key: 'order.eu.new', properties: { headers: { h: 'order.eu.new' } } });
    // The unroutable one stays where it was.
    expect(await payloads(from)).toEqual(['order.asia.new']);

    const given = await move(from, { destination: { exchange: x, routing_key: 'order.us.fixed' } });
    expect(given.body).toEqual({ moved: 1, unroutable: 0, rejected: 0 });
    expect(await payloads(us)).toEqual(['order.us.new', 'order.asia.new']);
    expect((await peek(us))[1]).toMatchObject({ routing_key: 'order.us.fixed' });
    expect(await payloads(from)).toEqual([]);
  });

  it('leaves messages a full target refuses, and says so', async () => {
    const [from, to] = [unique('src'), unique('dst')];
    await queue(from);
    await queue(to, { 'x-max-length': 2, 'x-overflow': 'reject-publish' });
    for (const p of ['a', 'b', 'c']) await publish('', from, p);
    expect((await move(from, { destination: { queue: to } })).body).toEqual({ moved: 2, unroutable: 0, rejected: 1 });
    expect(await payloads(to)).toEqual(['a', 'b']);
    expect(await payloads(from)).toEqual(['c']);
  });

  it('ends when its exchange routes copies back into the source', async () => {
    const from = unique('src');
    const x = unique('fan');
    await queue(from);
    await ok('PUT', `/api/exchanges/%2F/${x}`, { type: 'fanout' });
    await ok('POST', `/api/bindings/%2F/e/${x}/q/${from}`, {});
    for (const p of ['a', 'b']) await publish('', from, p);
    expect((await move(from, { destination: { exchange: x } })).body).toEqual({ moved: 2, unroutable: 0, rejected: 0 });
    expect(await payloads(from)).toEqual(['a', 'b']);
  });

  it('refuses bad input with RabbitMQ-shaped errors', async () => {
    const from = unique('src');
    await queue(from);
    await publish('', from, 'stays');
    const cases: Array<[string, unknown, number, unknown]> = [
      [from, { destination: { queue: 'no-such-queue' } }, 404, { error: 'not_found', reason: "no queue 'no-such-queue' in vhost '/'" }],
      [from, { destination: { exchange: 'no-such-x' } }, 404, { error: 'not_found', reason: "no exchange 'no-such-x' in vhost '/'" }],
      ['no-such-source', { destination: { queue: from } }, 404, { error: 'not_found', reason: 'queue_not_found' }],
      [from, { destination: { queue: from } }, 400, { error: 'bad_request', reason: expect.stringMatching(/into itself/) }],
      [from, { destination: { queue: 'a', exchange: 'b' } }, 400, { error: 'bad_request', reason: expect.stringMatching(/exactly one/) }],
      [from, { destination: {} }, 400, { error: 'bad_request', reason: expect.stringMatching(/exactly one/) }],
      [from, { destination: { queue: 'a', routing_key: 'k' } }, 400, { error: 'bad_request', reason: expect.stringMatching(/routing_key/) }],
      [from, {}, 400, { error: 'bad_request', reason: '[{key_missing,destination}]' }],
      [from, { destination: { queue: 'a' }, count: -1 }, 400, { error: 'bad_request', reason: expect.any(String) }],
      [from, { destination: { queue: 'a' }, count: 0 }, 400, { error: 'bad_request', reason: 'count must be a positive integer' }],
      [from, { destination: { queue: 'a' }, filter: { nonsense: 1 } }, 400, { error: 'bad_request', reason: expect.stringMatching(/additional properties/) }],
      [from, { destination: { queue: 'a' }, filter: { first_death_reason: 'bored' } }, 400, { error: 'bad_request', reason: expect.any(String) }],
      [from, { destination: { queue: 'a' }, filter: { headers: { h: null } } }, 400, { error: 'bad_request', reason: 'filter.headers must not contain null' }],
    ];
    for (const [name, body, status, error] of cases) {
      const answer = await move(name, body);
      expect(answer, JSON.stringify(body)).toEqual({ status, body: error });
    }
    expect(await payloads(from)).toEqual(['stays']);

    const internal = unique('internal');
    await ok('PUT', `/api/exchanges/%2F/${internal}`, { type: 'fanout', internal: true });
    expect(await move(from, { destination: { exchange: internal } })).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: `cannot move messages through internal exchange '${internal}' in vhost '/'` },
    });
    const conn = await warren.connect();
    const mine = unique('exclusive');
    await conn.queueDeclare({ queue: mine, exclusive: true });
    await conn.publish({ routingKey: mine, body: 'private' });
    const locked = await move(mine, { destination: { queue: from } });
    expect(locked.status).toBe(400);
    expect(record(locked.body).reason).toMatch(/exclusive access to locked queue/);
    expect((await move(from, { destination: { queue: mine } })).status).toBe(400);
    await conn.close();
    expect(await payloads(from)).toEqual(['stays']);
  });

  it('needs read on the source and write on the target, as a shovel does', async () => {
    const [from, to] = [unique('perm-src'), unique('perm-dst')];
    await queue(from);
    await queue(to);
    await publish('', from, 'guarded');
    const reader = await createUser(api, unique('reader'), 'management', { configure: '', write: '', read: '.*' });
    const writer = await createUser(api, unique('writer'), 'management', { configure: '', write: '.*', read: '^nothing$' });
    const both = await createUser(api, unique('both'), 'management', { configure: '', write: `^${to}$`, read: `^${from}$` });
    const refused = { status: 401, body: { error: 'not_authorised', reason: 'Access refused.' } };
    expect(await move(from, { destination: { queue: to } }, reader)).toEqual(refused);
    expect(await move(from, { destination: { queue: to } }, writer)).toEqual(refused);
    expect(await move(from, { destination: { exchange: 'amq.direct' } }, both)).toEqual(refused);
    expect(await payloads(from)).toEqual(['guarded']);
    expect((await move(from, { destination: { queue: to } }, both)).body).toEqual({ moved: 1, unroutable: 0, rejected: 0 });
    expect(await payloads(to)).toEqual(['guarded']);
  });
});

describe('POST /api/queues/{vhost}/{name}/retry-dead-letters', () => {
  /** Exchange `orders` → `work` (key order.paid), dead-lettering through fanout `dlx` into `dead`. */
  async function deadLetterSetup(): Promise<{ orders: string; work: string; dead: string }> {
    const [orders, dlx, work, dead] = [unique('orders'), unique('dlx'), unique('work'), unique('dead')];
    await ok('PUT', `/api/exchanges/%2F/${orders}`, { type: 'direct', durable: true });
    await ok('PUT', `/api/exchanges/%2F/${dlx}`, { type: 'fanout', durable: true });
    await queue(dead);
    await queue(work, { 'x-dead-letter-exchange': dlx });
    await ok('POST', `/api/bindings/%2F/e/${orders}/q/${work}`, { routing_key: 'order.paid' });
    await ok('POST', `/api/bindings/%2F/e/${dlx}/q/${dead}`, {});
    return { orders, work, dead };
  }

  /** Takes everything from `work` and rejects it without requeue: it dies there (reason rejected). */
  async function fail(work: string): Promise<void> {
    await ok('POST', `/api/queues/%2F/${work}/get`, { count: 1000, ackmode: 'reject_requeue_false', encoding: 'auto' });
  }

  it('republishes each dead letter to its origin with its original routing key, keeping x-death, skipping others', async () => {
    const { orders, work, dead } = await deadLetterSetup();
    await publish(orders, 'order.paid', 'first', { delivery_mode: 2, headers: { attempt: 1 } });
    await publish(orders, 'order.paid', 'second', { delivery_mode: 2 });
    await fail(work);
    await publish('', dead, 'not a dead letter');
    expect(await payloads(dead)).toEqual(['first', 'second', 'not a dead letter']);

    const answer = await retry(dead, {});
    expect(answer).toEqual({ status: 200, body: { moved: 2, unroutable: 0, rejected: 0, skipped: 1, refused: 0 } });
    expect(await payloads(dead)).toEqual(['not a dead letter']);
    const back = await peek(work);
    expect(back.map((m) => m.payload)).toEqual(['first', 'second']);
    expect(back[0]).toMatchObject({ exchange: orders, routing_key: 'order.paid' });
    const headers = record(record(back[0]?.properties).headers);
    expect(headers).toMatchObject({ attempt: 1, 'x-first-death-reason': 'rejected', 'x-first-death-exchange': orders, 'x-first-death-queue': work });
    expect(headers['x-death']).toEqual([expect.objectContaining({ count: 1, reason: 'rejected', queue: work, 'routing-keys': ['order.paid'] })]);

    // Failing again counts the cycle on the same death entry, as RabbitMQ does for a replayed message.
    await fail(work);
    const again = await peek(dead);
    expect(again.map((m) => m.payload)).toEqual(['not a dead letter', 'first', 'second']);
    expect(record(record(again[1]?.properties).headers)['x-death']).toEqual([expect.objectContaining({ count: 2, reason: 'rejected', queue: work })]);
  });

  it('retries the first `count` matching a filter, and leaves those whose origin is gone or unroutable', async () => {
    const { orders, work, dead } = await deadLetterSetup();
    for (const p of ['keep-1', 'retry-1', 'retry-2', 'retry-3']) await publish(orders, 'order.paid', p);
    await fail(work);
    const filtered = await retry(dead, { count: 2, filter: { payload_contains: 'retry', first_death_reason: 'rejected' } });
    expect(filtered.body).toEqual({ moved: 2, unroutable: 0, rejected: 0, skipped: 0, refused: 0 });
    expect(await payloads(work)).toEqual(['retry-1', 'retry-2']);
    expect(await payloads(dead)).toEqual(['keep-1', 'retry-3']);

    await ok('DELETE', `/api/bindings/%2F/e/${orders}/q/${work}/order.paid`);
    const unbound = await retry(dead, {});
    expect(unbound.body).toEqual({ moved: 0, unroutable: 2, rejected: 0, skipped: 0, refused: 0 });
    expect(await payloads(dead)).toEqual(['keep-1', 'retry-3']);
  });

  it('sends a message published straight to its queue (default exchange) back to that queue', async () => {
    const { work, dead } = await deadLetterSetup();
    await publish('', work, 'direct', { delivery_mode: 2 });
    await fail(work);
    expect(record(record((await peek(dead))[0]?.properties).headers)['x-first-death-exchange']).toBe('');
    expect((await retry(dead, {})).body).toEqual({ moved: 1, unroutable: 0, rejected: 0, skipped: 0, refused: 0 });
    expect(await peek(work)).toMatchObject([{ payload: 'direct', exchange: '', routing_key: work }]);
  });

  it('leaves dead letters whose origin the caller may not write to, counted as refused', async () => {
    const { orders, work, dead } = await deadLetterSetup();
    await publish(orders, 'order.paid', 'guarded');
    await fail(work);
    const user = await createUser(api, unique('retrier'), 'management', { configure: '', write: '^nothing$', read: '.*' });
    const answer = await retry(dead, {}, user);
    expect(answer.body).toEqual({ moved: 0, unroutable: 0, rejected: 0, skipped: 0, refused: 1 });
    expect(await payloads(dead)).toEqual(['guarded']);
    const noRead = await createUser(api, unique('blind'), 'management', { configure: '', write: '.*', read: '^nothing$' });
    expect((await retry(dead, {}, noRead)).status).toBe(401);
  });
});

describe('POST /api/queues/{vhost}/{name}/peek with a filter', () => {
  it('shows only the matches, with their places in the queue; offset skips matches', async () => {
    const name = unique('peek');
    await queue(name);
    const conn = await warren.connect();
    for (const key of ['a.x', 'b.y', 'a.z', 'c', 'a.w']) await conn.publish({ routingKey: name, body: key, properties: { headers: { key } } });
    await conn.close();
    const matches = await peek(name, { filter: { headers: { key: 'a.x' } } });
    expect(matches.map((m) => [m.position, m.payload])).toEqual([[0, 'a.x']]);
    const globbed = await peek(name, { filter: { payload_contains: 'a.' } });
    expect(globbed.map((m) => [m.position, m.payload])).toEqual([
      [0, 'a.x'],
      [2, 'a.z'],
      [4, 'a.w'],
    ]);
    const paged = await peek(name, { offset: 1, count: 1, filter: { payload_contains: 'a.' } });
    expect(paged.map((m) => [m.position, m.payload])).toEqual([[2, 'a.z']]);
    expect(await peek(name, { filter: { older_than_ms: 3_600_000 } })).toEqual([]);
    expect((await peek(name, { filter: { younger_than_ms: 3_600_000 } })).length).toBe(5);
    const routed = await peek(name, { filter: { routing_key: `${name.slice(0, 3)}*` } });
    expect(routed.length).toBe(5);
    const bad = await api('POST', `/api/queues/%2F/${name}/peek`, { body: { filter: { routing_key: 1 } } });
    expect(bad.status).toBe(400);
    expect(record(bad.body).error).toBe('bad_request');
  });
});

describe('browsing a long queue with a filter', () => {
  it('pages through it: other requests are answered while a filter that matches nothing scans 200k messages', async () => {
    const name = unique('long');
    await queue(name);
    const vhost = warren.server.broker.vhost('/');
    const body = new TextEncoder().encode('x');
    for (let i = 0; i < 200_000; i++) vhost.publish({ exchange: '', routingKey: name, properties: {}, body });
    const order: string[] = [];
    let overview: Promise<unknown> | undefined;
    // Once the scan is under way, another request comes in: answered first only if the scan yields as it goes.
    const q = queueOfVhost(vhost, name);
    const browse = q.browse.bind(q);
    q.browse = (after, max) => {
      // Over a real socket: its bytes are read only when the event loop gets to poll.
      overview ??= fetch(`${warren.url}/api/overview`, { headers: { authorization: basic('guest', 'guest') } }).then((r) => {
        order.push('overview');
        return r.text();
      });
      return browse(after, max);
    };
    const scan = api('POST', `/api/queues/%2F/${name}/peek`, { body: { filter: { payload_contains: 'nowhere' } } }).then((r) => {
      order.push('scan');
      return r;
    });
    const scanned = await scan;
    await overview;
    expect(scanned.body).toEqual([]);
    expect(order).toEqual(['overview', 'scan']);
    await ok('DELETE', `/api/queues/%2F/${name}`);
  });
});
