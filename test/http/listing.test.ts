import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTerms, parseColumns, pick } from '../../src/http/api/listing.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  await api('PUT', '/api/vhosts/paging');
  for (const name of ['alpha', 'Beta', 'gamma', 'delta', 'epsilon']) await api('PUT', `/api/queues/paging/${name}`);
  for (let i = 0; i < 3; i++) {
    await api('POST', '/api/exchanges/paging/amq.default/publish', { body: { routing_key: 'gamma', payload: 'x', payload_encoding: 'string', properties: {} } });
  }
});
afterAll(() => warren.stop());

describe('pagination', () => {
  it('wraps a page in RabbitMQ’s object', async () => {
    const res = await api('GET', '/api/queues/paging?page=2&page_size=2&columns=name');
    expect(res.body).toEqual({
      filtered_count: 5,
      item_count: 2,
      items: [{ name: 'delta' }, { name: 'epsilon' }],
      page: 2,
      page_count: 3,
      page_size: 2,
      total_count: 5,
    });
  });

  it('filters by name (substring, case-insensitive) or regex', async () => {
    const substring = record((await api('GET', '/api/queues/paging?page=1&name=TA&columns=name')).body);
    expect(substring).toMatchObject({ filtered_count: 2, total_count: 5, items: [{ name: 'Beta' }, { name: 'delta' }] });
    const regex = record((await api('GET', '/api/queues/paging?page=1&name=%5E(a|g)&use_regex=true&columns=name')).body);
    expect(regex.items).toEqual([{ name: 'alpha' }, { name: 'gamma' }]);
    expect((await api('GET', '/api/queues/paging?page=1&name=(&use_regex=true')).status).toBe(400);
  });

  it('ignores name without page, and returns items: [] for page 1 of an empty list', async () => {
    expect(array((await api('GET', '/api/queues/paging?name=zzz')).body)).toHaveLength(5);
    await api('PUT', '/api/vhosts/empty');
    expect(record((await api('GET', '/api/queues/empty?page=1')).body)).toMatchObject({ items: [], page: 1, page_count: 0, total_count: 0 });
  });

  it('refuses invalid pagination with RabbitMQ’s errors', async () => {
    expect((await api('GET', '/api/queues?page=abc')).body).toEqual({ error: 'bad_request', reason: 'Pagination parameters are invalid' });
    expect(record((await api('GET', '/api/queues?page=-1')).body).error).toBe('invalid_pagination_parameters');
    expect(record((await api('GET', '/api/queues?page=1&page_size=501')).body).error).toBe('invalid_pagination_parameters');
    expect(record((await api('GET', '/api/queues?page=1&page_size=0')).body).error).toBe('invalid_pagination_parameters');
    const past = await api('GET', '/api/queues?page=1000');
    expect(past.status).toBe(400);
    expect(record(past.body).error).toBe('page_out_of_range');
  });

  it('pages exchanges, vhosts, users, connections and channels too', async () => {
    for (const url of ['/api/exchanges', '/api/vhosts', '/api/users', '/api/connections', '/api/channels']) {
      const res = await api('GET', `${url}?page=1&page_size=1`);
      expect(res.status, url).toBe(200);
      expect(record(res.body).page_size, url).toBe(1);
    }
  });
});

describe('sort and columns', () => {
  it('sorts by a field (sort key first, then vhost,name) and reverses', async () => {
    const byName = array((await api('GET', '/api/queues/paging?sort=name&columns=name')).body).map((q) => q.name);
    expect(byName).toEqual(['Beta', 'alpha', 'delta', 'epsilon', 'gamma']);
    const reversed = array((await api('GET', '/api/queues/paging?sort=name&sort_reverse=true&columns=name')).body).map((q) => q.name);
    expect(reversed).toEqual([...byName].reverse());
    const byMessages = array((await api('GET', '/api/queues/paging?sort=messages&sort_reverse=true&columns=name,messages')).body);
    expect(byMessages[0]).toEqual({ name: 'gamma', messages: 3 });
  });

  it('sorts by a dotted path, missing values as 0', async () => {
    const res = array((await api('GET', '/api/queues/paging?sort=message_stats.publish&sort_reverse=true&columns=name')).body);
    expect(res[0]).toEqual({ name: 'gamma' });
  });

  it('keeps dotted columns, on single objects too', async () => {
    const overview = await api('GET', '/api/overview?columns=rabbitmq_version,cluster_name,queue_totals.messages,object_totals.queues');
    const body = record(overview.body);
    expect(Object.keys(body).sort()).toEqual(['cluster_name', 'object_totals', 'queue_totals', 'rabbitmq_version']);
    expect(Object.keys(record(body.queue_totals))).toEqual(['messages']);
    expect(Object.keys(record(body.object_totals))).toEqual(['queues']);
    const queue = record((await api('GET', '/api/queues/paging/gamma?columns=name,messages')).body);
    expect(queue).toEqual({ name: 'gamma', messages: 3 });
  });

  it('orders values like Erlang terms: numbers < booleans < strings', () => {
    const values: unknown[] = ['b', true, 2, 'a', false, null, 1, 0.5];
    expect(values.sort(compareTerms)).toEqual([0.5, 1, 2, false, null, true, 'a', 'b']);
    expect(compareTerms(undefined, 1)).toBeLessThan(0);
    expect(compareTerms(undefined, 0)).toBe(0);
    expect(pick({ a: 1, b: { c: 2, d: 3 }, e: 4 }, parseColumns('b.c,e'))).toEqual({ b: { c: 2 }, e: 4 });
  });
});

describe('a broker with 10,000 queues', () => {
  it('lists a page quickly, formatting only that page', async () => {
    const vhost = warren.server.broker.addVhost('big');
    for (let i = 0; i < 10_000; i++) vhost.declareQueue({ queue: `q-${String(i).padStart(5, '0')}` }, null);
    await api('GET', '/api/queues/big?page=1&page_size=10');
    const started = performance.now();
    const page = record((await api('GET', '/api/queues/big?page=500&page_size=20&sort=name&sort_reverse=true')).body);
    const byMessages = record((await api('GET', '/api/queues?page=3&page_size=100&sort=messages')).body);
    const elapsed = performance.now() - started;
    expect(page).toMatchObject({ total_count: 10_000, page_count: 500, item_count: 20 });
    expect(record(array(page.items)[0]).name).toBe('q-00019');
    expect(byMessages.item_count).toBe(100);
    expect(elapsed).toBeLessThan(1000);
    const filtered = record((await api('GET', '/api/queues/big?page=1&name=q-0999&columns=name')).body);
    expect(filtered.filtered_count).toBe(10);
    warren.server.broker.deleteVhost('big');
  });
});
