/**
 * The REST side of delayed exchanges (Warren extensions): declaring, publishing with `x-delay`, listing
 * what is scheduled in due order and paging through it, cancelling one durably, the exchange object's
 * `scheduled_messages` / `next_scheduled_at`, and the permissions each needs. The server's clock is fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;
const clock = new FakeClock(Date.UTC(2030, 0, 1));

beforeAll(async () => {
  warren = await startWarren({}, { clock });
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

const path = (exchange: string, rest = ''): string => `/api/exchanges/%2F/${encodeURIComponent(exchange)}${rest}`;

async function declareDelayed(type = 'direct', durable = true): Promise<string> {
  const name = unique('delayed');
  const res = await api('PUT', path(name), { body: { type: 'x-delayed-message', durable, arguments: { 'x-delayed-type': type } } });
  expect(res.status).toBe(201);
  return name;
}

function publish(exchange: string, routingKey: string, payload: string, delay: unknown, properties: Record<string, unknown> = {}) {
  return api('POST', path(exchange, '/publish'), {
    body: { routing_key: routingKey, payload, payload_encoding: 'string', properties: { ...properties, headers: { 'x-delay': delay } } },
  });
}

describe('delayed exchanges over REST', () => {
  it('refuses a delayed exchange without a valid x-delayed-type with 400 and the reason', async () => {
    for (const args of [{}, { 'x-delayed-type': 'nope' }]) {
      const res = await api('PUT', path(unique('bad')), { body: { type: 'x-delayed-message', arguments: args } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'bad_request', reason: expect.stringMatching(/x-delayed-type' must be an existing exchange type/) });
    }
  });

  it('lists x-delayed-message among the exchange types of the overview', async () => {
    const overview = record((await api('GET', '/api/overview')).body);
    expect(array(overview.exchange_types).map((t) => t.name)).toContain('x-delayed-message');
  });

  it('publish answers with the scheduled id and due time; the exchange object counts what is scheduled', async () => {
    const exchange = await declareDelayed();
    const empty = record((await api('GET', path(exchange))).body);
    expect(empty).toMatchObject({ type: 'x-delayed-message', scheduled_messages: 0, next_scheduled_at: null });
    const res = await publish(exchange, 'k', 'hello', 3000, { delivery_mode: 2 });
    expect(res.status).toBe(200);
    const scheduled = record(record(res.body).scheduled);
    expect(record(res.body).routed).toBe(false);
    expect(scheduled.due).toBe(clock.now() + 3000);
    expect(scheduled.due_at).toBe(new Date(clock.now() + 3000).toISOString().replace('Z', '+00:00'));
    await publish(exchange, 'k', 'sooner', 1000);
    const got = record((await api('GET', path(exchange))).body);
    expect(got).toMatchObject({ scheduled_messages: 2, next_scheduled_at: new Date(clock.now() + 1000).toISOString().replace('Z', '+00:00') });
    const plain = record((await api('GET', '/api/exchanges/%2F/amq.direct')).body);
    expect(plain.scheduled_messages).toBeUndefined();
  });

  it('lists scheduled messages in due order with a payload preview, and pages', async () => {
    const exchange = await declareDelayed();
    const delays = [500, 100, 300, 100, 900, 700];
    for (const [i, delay] of delays.entries()) await publish(exchange, `rk${i}`, `payload-${i}-${'x'.repeat(20)}`, delay, { content_type: 'text/plain' });
    const all = record((await api('GET', path(exchange, '/scheduled'))).body);
    expect(all.total).toBe(6);
    const items = array(all.items);
    expect(items.map((m) => m.routing_key)).toEqual(['rk1', 'rk3', 'rk2', 'rk0', 'rk5', 'rk4']);
    expect(items[0]).toMatchObject({
      due: clock.now() + 100,
      due_at: new Date(clock.now() + 100).toISOString().replace('Z', '+00:00'),
      properties: { content_type: 'text/plain', headers: { 'x-delay': 100 } },
      payload: 'payload-1-xxxxxxxxxxxxxxxxxxxx',
      payload_encoding: 'string',
      payload_bytes: 30,
      payload_truncated: false,
    });
    const page = record((await api('GET', path(exchange, '/scheduled?offset=2&count=2&truncate=4&encoding=base64'))).body);
    expect(array(page.items).map((m) => m.routing_key)).toEqual(['rk2', 'rk0']);
    expect(array(page.items)[0]).toMatchObject({ payload: Buffer.from('payl').toString('base64'), payload_encoding: 'base64', payload_bytes: 30, payload_truncated: true });
    expect(array(record((await api('GET', path(exchange, '/scheduled?offset=10'))).body).items)).toEqual([]);
  });

  it('cancels one durably: 204, then 404; it never fires', async () => {
    const exchange = await declareDelayed();
    const queue = unique('q');
    await api('PUT', `/api/queues/%2F/${queue}`, { body: { durable: true } });
    await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: { routing_key: 'k' } });
    const id = record(record((await publish(exchange, 'k', 'cancel-me', 100, { delivery_mode: 2 })).body).scheduled).id;
    await publish(exchange, 'k', 'keep-me', 200, { delivery_mode: 2 });
    const fsyncs = warren.server.durable.messages.stats.fsyncs;
    expect((await api('DELETE', path(exchange, `/scheduled/${String(id)}`))).status).toBe(204);
    expect(warren.server.durable.messages.stats.fsyncs).toBeGreaterThan(fsyncs);
    const again = await api('DELETE', path(exchange, `/scheduled/${String(id)}`));
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: 'not_found' });
    expect(record((await api('GET', path(exchange))).body).scheduled_messages).toBe(1);
    clock.advance(200);
    await warren.server.durable.messages.flush();
    const got = array((await api('POST', `/api/queues/%2F/${queue}/get`, { body: { count: 5, ackmode: 'ack_requeue_false', encoding: 'auto' } })).body);
    expect(got.map((m) => m.payload)).toEqual(['keep-me']);
  });

  it('answers 404 for a missing exchange and 400 for one that is not delayed', async () => {
    expect((await api('GET', path('no-such-exchange', '/scheduled'))).status).toBe(404);
    expect((await api('DELETE', path('no-such-exchange', '/scheduled/1'))).status).toBe(404);
    const notDelayed = await api('GET', path('amq.direct', '/scheduled'));
    expect(notDelayed.status).toBe(400);
    expect(record(notDelayed.body).reason).toMatch(/not x-delayed-message/);
    expect((await api('GET', path('amq.direct', '/scheduled?count=5000'))).status).toBe(400);
    const delayed = await declareDelayed();
    const deep = await api('GET', path(delayed, '/scheduled?offset=99990&count=50'));
    expect(deep.status).toBe(400);
    expect(record(deep.body).reason).toMatch(/at most 100000/);
    expect((await api('GET', path(delayed, '/scheduled?offset=99950&count=50'))).status).toBe(200);
    expect((await api('DELETE', path('amq.direct', '/scheduled/abc'))).status).toBe(400);
  });

  it('needs read on the exchange to list and configure on it to cancel', async () => {
    const exchange = await declareDelayed();
    const id = record(record((await publish(exchange, 'k', 'm', 1000)).body).scheduled).id;
    const reader = await createUser(api, unique('reader'), 'management', { configure: '^$', write: '.*', read: '.*' });
    const blind = await createUser(api, unique('blind'), 'management', { configure: '.*', write: '.*', read: '^$' });
    expect((await api('GET', path(exchange, '/scheduled'), { as: reader })).status).toBe(200);
    expect((await api('GET', path(exchange, '/scheduled'), { as: blind })).status).toBe(401);
    expect((await api('DELETE', path(exchange, `/scheduled/${String(id)}`), { as: reader })).status).toBe(401);
    expect(record((await api('GET', path(exchange))).body).scheduled_messages).toBe(1);
    expect((await api('DELETE', path(exchange, `/scheduled/${String(id)}`), { as: blind })).status).toBe(204);
  });
});
