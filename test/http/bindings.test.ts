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

async function setup(type = 'direct'): Promise<{ exchange: string; queue: string }> {
  const exchange = unique('x');
  const queue = unique('q');
  await api('PUT', `/api/exchanges/%2F/${exchange}`, { body: { type } });
  await api('PUT', `/api/queues/%2F/${queue}`);
  return { exchange, queue };
}

describe('bindings', () => {
  it('creates with 201 and a relative Location; a duplicate is 201 again', async () => {
    const { exchange, queue } = await setup();
    const body = { source: exchange, destination: queue, destination_type: 'queue', routing_key: 'a key+x', arguments: {}, vhost: '/' };
    const created = await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body });
    expect(created.status).toBe(201);
    expect(created.text).toBe('');
    expect(created.headers.location).toBe(`${queue}/a%2Bkey%252Bx`);
    expect((await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body })).status).toBe(201);
    const list = array((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}`)).body);
    expect(list).toEqual([
      { source: exchange, vhost: '/', destination: queue, destination_type: 'queue', routing_key: 'a key+x', arguments: {}, properties_key: 'a+key%2Bx' },
    ]);
  });

  it('follows the Location to GET and DELETE the binding', async () => {
    const { exchange, queue } = await setup();
    const created = await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: { routing_key: 'r.k' } });
    const url = `/api/bindings/%2F/e/${exchange}/q/${created.headers.location}`;
    expect(record((await api('GET', url)).body)).toMatchObject({ routing_key: 'r.k', properties_key: 'r.k' });
    expect((await api('DELETE', url)).status).toBe(204);
    expect((await api('GET', url)).status).toBe(404);
    expect((await api('DELETE', url)).status).toBe(404);
  });

  it('uses ~ for the empty key and a hash for arguments', async () => {
    const { exchange, queue } = await setup('headers');
    await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: {} });
    const withArgs = await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: { arguments: { 'x-match': 'any', a: 1 } } });
    const props = decodeURIComponent(String(withArgs.headers.location).split('/')[1] ?? '');
    expect(props).toMatch(/^~[A-Za-z0-9_-]+$/);
    const list = array((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}`)).body);
    expect(list.map((b) => b.properties_key).sort()).toEqual([props, '~'].sort());
    expect((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}/~`)).status).toBe(200);
    expect(record((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}/${encodeURIComponent(props)}`)).body).arguments).toEqual({ 'x-match': 'any', a: 1 });
    expect((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}/~nohash`)).status).toBe(404);
    expect((await api('DELETE', `/api/bindings/%2F/e/${exchange}/q/${queue}/~`)).status).toBe(204);
    expect(array((await api('GET', `/api/bindings/%2F/e/${exchange}/q/${queue}`)).body)).toHaveLength(1);
  });

  it('binds exchange to exchange', async () => {
    const source = unique('x');
    const destination = unique('x');
    await api('PUT', `/api/exchanges/%2F/${source}`, { body: { type: 'topic' } });
    await api('PUT', `/api/exchanges/%2F/${destination}`, { body: { type: 'fanout' } });
    const created = await api('POST', `/api/bindings/%2F/e/${source}/e/${destination}`, { body: { routing_key: 'routing' } });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${destination}/routing`);
    const list = array((await api('GET', `/api/bindings/%2F/e/${source}/e/${destination}`)).body);
    expect(list[0]).toMatchObject({ destination_type: 'exchange', routing_key: 'routing' });
    expect((await api('DELETE', `/api/bindings/%2F/e/${source}/e/${destination}/routing`)).status).toBe(204);
  });

  it('lists every binding, implicit default-exchange ones included (sort source puts them first)', async () => {
    const { exchange, queue } = await setup();
    await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: { routing_key: 'k' } });
    const all = array((await api('GET', '/api/bindings/%2F?sort=source&columns=source,destination,routing_key')).body);
    expect(all).toContainEqual({ source: '', destination: queue, routing_key: queue });
    expect(all).toContainEqual({ source: exchange, destination: queue, routing_key: 'k' });
    expect(all[0]?.source).toBe('');
    expect(array((await api('GET', '/api/bindings')).body).length).toBeGreaterThanOrEqual(all.length);
    const implicit = await api('GET', `/api/bindings/%2F/e/amq.default/q/${queue}/${queue}`);
    expect(record(implicit.body)).toMatchObject({ source: '', routing_key: queue });
  });

  it('refuses the default exchange with 401, missing ends with 404, bad x-match with 400', async () => {
    const { exchange, queue } = await setup('headers');
    expect((await api('POST', `/api/bindings/%2F/e/amq.default/q/${queue}`, { body: { routing_key: 'k' } })).status).toBe(401);
    expect((await api('DELETE', `/api/bindings/%2F/e/amq.default/q/${queue}/${queue}`)).status).toBe(401);
    const missingQueue = await api('POST', `/api/bindings/%2F/e/${exchange}/q/nope`, { body: {} });
    expect(missingQueue.status).toBe(404);
    expect(record(missingQueue.body).error).toBe('not_found');
    expect((await api('POST', `/api/bindings/%2F/e/nope/q/${queue}`, { body: {} })).status).toBe(404);
    expect((await api('GET', `/api/bindings/%2F/e/nope/q/${queue}`)).body).toEqual({ error: 'Object Not Found', reason: 'Not Found' });
    expect((await api('GET', '/api/bindings/nope')).status).toBe(404);
    expect((await api('POST', `/api/bindings/%2F/e/${exchange}/q/${queue}`, { body: { arguments: { 'x-match': 'some' } } })).status).toBe(400);
  });
});
