/**
 * `/api/policies` and `/api/operator-policies` through the real API: RabbitMQ's shapes and errors, who may
 * set them, what queue and exchange objects report, live application, and a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(async () => warren.stop());

const put = (path: string, body: unknown) => api('PUT', path, { body });

describe('policies over REST', () => {
  it('creates (201), updates (204), lists highest priority first, gets and deletes (204, then 404)', async () => {
    expect((await put('/api/policies/%2F/low', { pattern: '^low', definition: { 'max-length': 1 } })).status).toBe(201);
    expect((await put('/api/policies/%2F/high', { pattern: '^high', definition: { 'max-length': 2 }, priority: 7, 'apply-to': 'queues' })).status).toBe(201);
    expect((await put('/api/policies/%2F/high', { pattern: '^high', definition: { 'max-length': 3 }, priority: 7, 'apply-to': 'queues' })).status).toBe(204);
    expect(array((await api('GET', '/api/policies/%2F')).body).map((p) => p.name)).toEqual(['high', 'low']);
    expect((await api('GET', '/api/policies/%2F/high')).body).toEqual({
      vhost: '/',
      name: 'high',
      pattern: '^high',
      'apply-to': 'queues',
      definition: { 'max-length': 3 },
      priority: 7,
      inert_keys: [],
    });
    expect(array((await api('GET', '/api/policies')).body).map((p) => p.name)).toEqual(['high', 'low']);
    expect((await api('DELETE', '/api/policies/%2F/high')).status).toBe(204);
    expect((await api('DELETE', '/api/policies/%2F/high')).status).toBe(404);
    expect((await api('GET', '/api/policies/%2F/high')).status).toBe(404);
    await api('DELETE', '/api/policies/%2F/low');
  });

  it('refuses bad policies with 400 in RabbitMQ’s shape, naming the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ pattern: '(', definition: { 'message-ttl': 1 } }, /pattern should be regular expression but is invalid/],
      [{ pattern: '.*', definition: { 'message-ttl': 1 }, 'apply-to': 'topics' }, /apply-to 'topics' unrecognised/],
      [{ pattern: '.*', definition: { 'message-ttl': 'soon' } }, /<<"soon">> is not a valid message TTL/],
      [{ pattern: '.*', definition: { 'max-priority': 5 } }, /\[\{<<"max-priority">>,5\}\] are not recognised policy settings/],
      [{ pattern: '.*', definition: { bogus: true } }, /\[\{<<"bogus">>,true\}\] are not recognised policy settings/],
      // It would be matched against every queue name on the event loop: one bad pattern could stall the broker.
      [{ pattern: '^(a+)+$', definition: { 'max-length': 1 } }, /may take exponential time to match/],
    ];
    for (const [body, reason] of cases) {
      const res = await put('/api/policies/%2F/bad', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(record(res.body).error).toBe('bad_request');
      expect(String(record(res.body).reason)).toMatch(reason);
    }
    expect((await api('GET', '/api/policies/%2F/bad')).status).toBe(404);
    expect((await put('/api/policies/nowhere/p', { pattern: '.*', definition: { 'max-length': 1 } })).status).toBe(404);
  });

  it('accepts keys Warren has no use for and reports them as inert', async () => {
    expect((await put('/api/policies/%2F/ha', { pattern: '^ha\\.', definition: { 'ha-mode': 'all', 'queue-mode': 'lazy' } })).status).toBe(201);
    expect(record((await api('GET', '/api/policies/%2F/ha')).body).inert_keys).toEqual(['ha-mode', 'queue-mode']);
    await api('DELETE', '/api/policies/%2F/ha');
  });

  it('lets policymakers set policies, only administrators set operator policies, and management users read them', async () => {
    const none = { configure: '', write: '', read: '' };
    const maker = await createUser(api, 'maker', 'policymaker', none);
    const outsider = await createUser(api, 'outsider', 'policymaker');
    const plain = await createUser(api, 'plain', 'management', none);
    const body = { pattern: '^x', definition: { 'max-length': 1 } };
    expect((await api('PUT', '/api/policies/%2F/by-maker', { body, as: maker })).status).toBe(201);
    expect((await api('PUT', '/api/policies/%2F/by-plain', { body, as: plain })).status).toBe(401);
    // A policymaker works only in the vhosts it has permissions in.
    expect((await api('PUT', '/api/policies/%2F/by-outsider', { body, as: outsider })).status).toBe(401);
    expect((await api('PUT', '/api/operator-policies/%2F/by-maker', { body, as: maker })).status).toBe(401);
    expect((await api('PUT', '/api/operator-policies/%2F/by-admin', { body })).status).toBe(201);
    // Reading is for any management user with access to the vhost, as in RabbitMQ.
    expect(array((await api('GET', '/api/policies/%2F', { as: plain })).body).map((p) => p.name)).toEqual(['by-maker']);
    expect(array((await api('GET', '/api/operator-policies', { as: plain })).body).map((p) => p.name)).toEqual(['by-admin']);
    expect((await api('GET', '/api/policies/%2F', { as: outsider })).status).toBe(401);
    await api('DELETE', '/api/policies/%2F/by-maker');
    await api('DELETE', '/api/operator-policies/%2F/by-admin');
  });

  it('shows on queues and exchanges, applies live, and combines with operator policies by the stricter value', async () => {
    await put('/api/queues/%2F/jobs', { durable: true, arguments: { 'x-max-length': 100 } });
    await put('/api/exchanges/%2F/jobs-in', { type: 'direct', durable: true });
    const queue = async () => record((await api('GET', '/api/queues/%2F/jobs')).body);
    expect(await queue()).toMatchObject({ policy: null, operator_policy: null, effective_policy_definition: {} });

    await put('/api/policies/%2F/jobs', { pattern: '^jobs', definition: { 'max-length': 2, 'alternate-exchange': 'amq.fanout' } });
    await put('/api/operator-policies/%2F/cap', { pattern: '.*', definition: { 'max-length': 5, 'message-ttl': 60000 }, 'apply-to': 'queues' });
    expect(await queue()).toMatchObject({
      policy: 'jobs',
      operator_policy: 'cap',
      effective_policy_definition: { 'max-length': 2, 'message-ttl': 60000, 'alternate-exchange': 'amq.fanout' },
    });
    expect(record((await api('GET', '/api/exchanges/%2F/jobs-in')).body).policy).toBe('jobs');

    // The lowest of argument (100), policy (2) and operator policy (5): a third message drops the head.
    for (const payload of ['a', 'b', 'c']) {
      await api('POST', '/api/exchanges/%2F/amq.default/publish', { body: { routing_key: 'jobs', payload, payload_encoding: 'string', properties: {} } });
    }
    expect(record(await queue()).messages_ready).toBe(2);
    const got = await api('POST', '/api/queues/%2F/jobs/get', { body: { count: 5, ackmode: 'ack_requeue_true', encoding: 'auto' } });
    expect(array(got.body).map((m) => m.payload)).toEqual(['b', 'c']);

    await api('DELETE', '/api/policies/%2F/jobs');
    await api('DELETE', '/api/operator-policies/%2F/cap');
    expect(await queue()).toMatchObject({ policy: null, operator_policy: null, effective_policy_definition: {} });
    expect(record((await api('GET', '/api/exchanges/%2F/jobs-in')).body)).not.toHaveProperty('policy');
  });
});

describe('policies across a restart', () => {
  const dirs = useDataDirs('warren-policies-');

  it('come back and apply to the queues they applied to', async () => {
    const dataDir = dirs.tempDir();
    const first = await dirs.start(dataDir);
    const firstApi = apiClient(first.server.app);
    await firstApi('PUT', '/api/queues/%2F/kept', { body: { durable: true } });
    await firstApi('PUT', '/api/policies/%2F/dlx', { body: { pattern: '^kept$', definition: { 'dead-letter-exchange': 'amq.fanout', 'max-length': 1 }, priority: 2 } });
    await firstApi('PUT', '/api/operator-policies/%2F/ttl', { body: { pattern: '.*', definition: { 'message-ttl': 1000 } } });
    await firstApi('PUT', '/api/policies/%2F/gone', { body: { pattern: '.*', definition: { 'max-length': 9 } } });
    await firstApi('DELETE', '/api/policies/%2F/gone');
    await dirs.stop(first);

    const second = await dirs.start(dataDir);
    const secondApi = apiClient(second.server.app);
    expect(array((await secondApi('GET', '/api/policies')).body).map((p) => p.name)).toEqual(['dlx']);
    expect(array((await secondApi('GET', '/api/operator-policies')).body).map((p) => p.name)).toEqual(['ttl']);
    expect(record((await secondApi('GET', '/api/queues/%2F/kept')).body)).toMatchObject({
      policy: 'dlx',
      operator_policy: 'ttl',
      effective_policy_definition: { 'dead-letter-exchange': 'amq.fanout', 'max-length': 1, 'message-ttl': 1000 },
    });
    const limits = second.server.broker.vhost('/').queues.get('kept')?.limits;
    expect(limits).toMatchObject({ maxLength: 1, messageTtl: 1000, deadLetter: { exchange: 'amq.fanout' } });
  });
});
