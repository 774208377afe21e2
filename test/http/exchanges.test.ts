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

const publish = (exchange: string, routingKey: string, payload = 'hi', extra: Record<string, unknown> = {}) =>
  api('POST', `/api/exchanges/%2F/${encodeURIComponent(exchange)}/publish`, {
    body: { routing_key: routingKey, payload, payload_encoding: 'string', properties: {}, vhost: '/', name: 'ignored', ...extra },
  });

describe('exchanges', () => {
  it('lists the predeclared exchanges, the default one included', async () => {
    const res = await api('GET', '/api/exchanges/%2F');
    expect(res.status).toBe(200);
    const names = array(res.body).map((x) => x.name);
    expect(names).toEqual(['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.rabbitmq.trace', 'amq.topic']);
    const trace = array(res.body).find((x) => x.name === 'amq.rabbitmq.trace');
    expect(trace).toMatchObject({ type: 'topic', internal: true, durable: true, vhost: '/', user_who_performed_action: 'rmq-internal' });
  });

  it('declares with rabbitmqadmin string booleans: 201, then 204, then GET shows the flags', async () => {
    const name = unique('x');
    const body = { name, type: 'fanout', vhost: '/', durable: 'true', auto_delete: 'false', internal: 'false', arguments: {} };
    expect((await api('PUT', `/api/exchanges/%2F/${name}`, { body })).status).toBe(201);
    expect((await api('PUT', `/api/exchanges/%2F/${name}`, { body })).status).toBe(204);
    const got = await api('GET', `/api/exchanges/%2F/${name}`);
    expect(got.body).toMatchObject({ name, vhost: '/', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {}, user_who_performed_action: 'guest' });
  });

  it('defaults to a non-durable direct exchange when the body says nothing', async () => {
    const name = unique('x');
    expect((await api('PUT', `/api/exchanges/%2F/${name}`)).status).toBe(201);
    expect(record((await api('GET', `/api/exchanges/%2F/${name}`)).body)).toMatchObject({ type: 'direct', durable: false });
  });

  it('refuses bad input with 400 and RabbitMQ reasons', async () => {
    const name = unique('x');
    await api('PUT', `/api/exchanges/%2F/${name}`, { body: { type: 'direct', durable: true } });
    const inequivalent = await api('PUT', `/api/exchanges/%2F/${name}`, { body: { type: 'topic', durable: true } });
    expect(inequivalent.status).toBe(400);
    expect(record(inequivalent.body).reason).toMatch(/inequivalent arg 'type'/);
    const badType = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { body: { type: 'foo' } });
    expect(badType.body).toEqual({ error: 'bad_request', reason: "unknown exchange type 'foo'" });
    const badBool = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { body: { durable: 'troo' } });
    expect(badBool.body).toEqual({ error: 'bad_request', reason: ['not_boolean', 'troo'] });
    const nullArg = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { body: { arguments: { a: null } } });
    expect(nullArg.status).toBe(400);
    const badJson = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { raw: '{"type":' });
    expect(badJson.body).toEqual({ error: 'bad_request', reason: 'failed_to_parse_json' });
    const doubleEncoded = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { raw: JSON.stringify('{"type":"direct"}') });
    expect(doubleEncoded.status).toBe(400);
  });

  it('refuses an oversized body with a JSON 400', async () => {
    const res = await api('PUT', `/api/exchanges/%2F/${unique('x')}`, { body: { arguments: { big: 'x'.repeat(2 * 1024 * 1024) } } });
    expect(res.body).toEqual({ error: 'bad_request', reason: 'request body too large' });
  });

  it('accepts JSON sent with any content type, as curl -d does', async () => {
    const name = unique('x');
    const res = await api('PUT', `/api/exchanges/%2F/${name}`, { raw: '{"type":"topic"}', contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(201);
    expect(record((await api('GET', `/api/exchanges/%2F/${name}`)).body).type).toBe('topic');
  });

  it('refuses the default exchange and new amq.* names with 401, but accepts an equivalent amq.* redeclare', async () => {
    expect((await api('PUT', '/api/exchanges/%2F/amq.default', { body: { type: 'direct', durable: true } })).body).toEqual({
      error: 'not_authorised',
      reason: 'Access refused.',
    });
    expect((await api('PUT', '/api/exchanges/%2F/amq.mine', { body: { type: 'direct' } })).status).toBe(401);
    expect((await api('PUT', '/api/exchanges/%2F/amq.direct', { body: { type: 'direct', durable: true } })).status).toBe(204);
    expect((await api('DELETE', '/api/exchanges/%2F/amq.direct')).status).toBe(401);
    expect((await api('DELETE', '/api/exchanges/%2F/amq.default')).status).toBe(401);
  });

  it('addresses the default exchange as amq.default', async () => {
    const res = await api('GET', '/api/exchanges/%2F/amq.default');
    expect(res.status).toBe(200);
    expect(record(res.body).name).toBe('');
  });

  it('404s on a missing exchange or vhost; vhost_not_found on PUT into a missing vhost', async () => {
    expect((await api('GET', '/api/exchanges/%2F/nope')).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('DELETE', '/api/exchanges/%2F/nope')).status).toBe(404);
    expect((await api('GET', '/api/exchanges/nope')).status).toBe(404);
    expect((await api('PUT', '/api/exchanges/nope/x', { body: {} })).body).toEqual({ error: 'not_found', reason: 'vhost_not_found' });
  });

  it('deletes with if-unused', async () => {
    const name = unique('x');
    const queue = unique('q');
    await api('PUT', `/api/exchanges/%2F/${name}`, { body: { type: 'direct' } });
    await api('PUT', `/api/queues/%2F/${queue}`);
    await api('POST', `/api/bindings/%2F/e/${name}/q/${queue}`, { body: { routing_key: 'k' } });
    const inUse = await api('DELETE', `/api/exchanges/%2F/${name}?if-unused=true`);
    expect(inUse.body).toEqual({ error: 'bad_request', reason: `exchange '${name}' in vhost '/' in use` });
    expect((await api('DELETE', `/api/exchanges/%2F/${name}`)).status).toBe(204);
    expect((await api('GET', `/api/exchanges/%2F/${name}`)).status).toBe(404);
  });

  it('lists bindings by source and destination; amq.default shows the implicit ones', async () => {
    const source = unique('src');
    const destination = unique('dst');
    const queue = unique('q');
    await api('PUT', `/api/exchanges/%2F/${source}`, { body: { type: 'fanout' } });
    await api('PUT', `/api/exchanges/%2F/${destination}`, { body: { type: 'fanout' } });
    await api('PUT', `/api/queues/%2F/${queue}`);
    await api('POST', `/api/bindings/%2F/e/${source}/e/${destination}`, { body: {} });
    await api('POST', `/api/bindings/%2F/e/${source}/q/${queue}`, { body: {} });
    const bySource = array((await api('GET', `/api/exchanges/%2F/${source}/bindings/source`)).body);
    expect(bySource.map((b) => [b.destination, b.destination_type])).toEqual([
      [destination, 'exchange'],
      [queue, 'queue'],
    ]);
    const byDestination = array((await api('GET', `/api/exchanges/%2F/${destination}/bindings/destination`)).body);
    expect(byDestination).toEqual([
      { source, vhost: '/', destination, destination_type: 'exchange', routing_key: '', arguments: {}, properties_key: '~' },
    ]);
    const implicit = array((await api('GET', '/api/exchanges/%2F/amq.default/bindings/source')).body);
    expect(implicit.find((b) => b.destination === queue)).toMatchObject({ source: '', routing_key: queue });
  });

  it('carries message_stats after activity only', async () => {
    const name = unique('x');
    await api('PUT', `/api/exchanges/%2F/${name}`, { body: { type: 'fanout' } });
    expect(record((await api('GET', `/api/exchanges/%2F/${name}`)).body).message_stats).toBeUndefined();
    await publish(name, 'k');
    const stats = record(record((await api('GET', `/api/exchanges/%2F/${name}`)).body).message_stats);
    expect(stats).toMatchObject({ publish_in: 1, publish_out: 0, publish_in_details: { rate: 0 } });
  });
});

describe('publish', () => {
  it('publishes through amq.default and reports routed', async () => {
    const queue = unique('q');
    await api('PUT', `/api/queues/%2F/${queue}`);
    expect((await publish('amq.default', queue)).body).toEqual({ routed: true });
    expect((await publish('amq.default', 'no-such-queue')).body).toEqual({ routed: false });
    expect(record((await api('GET', `/api/queues/%2F/${queue}`)).body).messages).toBe(1);
  });

  it('decodes base64 payloads and keeps properties', async () => {
    const queue = unique('q');
    await api('PUT', `/api/queues/%2F/${queue}`);
    const properties = { content_type: 'application/octet-stream', delivery_mode: 2, headers: { a: 1 }, priority: 3, expiration: '60000', message_id: 'm1', timestamp: 1700000000 };
    const payload = Buffer.from([0, 1, 2, 255]).toString('base64');
    expect((await publish('amq.default', queue, payload, { payload_encoding: 'base64', properties })).body).toEqual({ routed: true });
    const [message] = array((await api('POST', `/api/queues/%2F/${queue}/get`, { body: { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' } })).body);
    expect(message).toMatchObject({ payload, payload_encoding: 'base64', payload_bytes: 4, properties });
  });

  it('takes payloads bigger than the default 1 MiB body limit', async () => {
    const queue = unique('q');
    await api('PUT', `/api/queues/%2F/${queue}`);
    expect((await publish('amq.default', queue, 'y'.repeat(3 * 1024 * 1024))).body).toEqual({ routed: true });
    expect(record((await api('GET', `/api/queues/%2F/${queue}`)).body).message_bytes_ready).toBe(3 * 1024 * 1024);
  });

  it('requires all four keys and valid encodings', async () => {
    const missing = await api('POST', '/api/exchanges/%2F/amq.default/publish', { body: { routing_key: 'q', payload: 'x', payload_encoding: 'string' } });
    expect(missing.body).toEqual({ error: 'bad_request', reason: '[{key_missing,properties}]' });
    expect((await publish('amq.default', 'q', 'x', { payload_encoding: 'rot13' })).body).toEqual({
      error: 'bad_request',
      reason: ['unsupported_encoding', 'rot13'],
    });
    expect((await publish('amq.default', 'q', 'not base64!', { payload_encoding: 'base64' })).status).toBe(400);
    expect((await publish('amq.default', 'q', 'x', { properties: { delivery_mode: '2' } })).status).toBe(400);
    expect((await publish('amq.default', 'q', 'x', { payload: 5 })).status).toBe(400);
  });

  it('refuses a user_id that is not the authenticated user', async () => {
    const res = await publish('amq.default', 'q', 'x', { properties: { user_id: 'someone-else' } });
    expect(res.status).toBe(400);
    expect((await publish('amq.default', 'q', 'x', { properties: { user_id: 'guest' } })).status).toBe(200);
  });

  it('answers 404 for a missing exchange or vhost', async () => {
    expect((await publish('nope', 'k')).body).toEqual({ error: 'not_found', reason: 'exchange_not_found' });
    const res = await api('POST', '/api/exchanges/nope/amq.default/publish', { body: { routing_key: 'k', payload: '', payload_encoding: 'string', properties: {} } });
    expect(res.body).toEqual({ error: 'not_found', reason: 'vhost_not_found' });
  });

  it('answers 400 when a full reject-publish queue refuses the message', async () => {
    const queue = unique('q');
    await api('PUT', `/api/queues/%2F/${queue}`, { body: { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } } });
    expect((await publish('amq.default', queue)).status).toBe(200);
    expect((await publish('amq.default', queue)).body).toEqual({ error: 'bad_request', reason: 'rejected Unable to publish message. Check queue limits.' });
  });
});
