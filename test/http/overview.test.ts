import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

describe('overview', () => {
  it('has what rabbitmqadmin and consoles read, plus Warren extras', async () => {
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'ov-q' });
    await conn.publish({ routingKey: 'ov-q', body: 'x' });
    const body = record((await api('GET', '/api/overview')).body);
    expect(body).toMatchObject({
      management_version: '3.13.7',
      rabbitmq_version: '3.13.7',
      product_name: 'Warren',
      product_version: '0.1.0',
      rates_mode: 'basic',
      disable_stats: false,
      queue_totals: { messages: 1, messages_ready: 1, messages_unacknowledged: 0, messages_details: { rate: 0 } },
      object_totals: { connections: 1, channels: 1, queues: 1, exchanges: 7, consumers: 0 },
      node_version: process.version,
    });
    expect(array(body.exchange_types).map((t) => t.name)).toEqual(['direct', 'fanout', 'headers', 'topic', 'x-delayed-message']);
    expect(array(body.exchange_types)[0]).toMatchObject({ description: expect.any(String), enabled: true });
    expect(body.node).toMatch(/^warren@/);
    expect(body.cluster_name).toBe(body.node);
    expect(body.uptime).toBeTypeOf('number');
    expect(record(body.memory).rss).toBeTypeOf('number');
    const listeners = array(body.listeners);
    const httpPort = Number(new URL(warren.url).port);
    expect(listeners.map((l) => [l.protocol, l.port])).toEqual([
      ['amqp', warren.amqpPort],
      ['http', httpPort],
      ['warren-ws', httpPort],
      ['http/web-amqp', httpPort],
      ['http/prometheus', warren.prometheusPort],
    ]);
    expect(record(body.message_stats)).toMatchObject({ publish: 1, confirm: 1, publish_details: { rate: 0 } });
    expect(record(body.sample_retention_policies).basic).toEqual([600, 3600]);
    await conn.close();
  });

  it('renames the cluster (administrators), shown in the overview', async () => {
    expect((await api('PUT', '/api/cluster-name', { body: { name: 'my-cluster' } })).status).toBe(204);
    expect((await api('GET', '/api/cluster-name')).body).toEqual({ name: 'my-cluster' });
    expect(record((await api('GET', '/api/overview')).body).cluster_name).toBe('my-cluster');
    expect((await api('PUT', '/api/cluster-name', { body: {} })).status).toBe(400);
    expect((await api('GET', '/api/global-parameters/cluster_name')).body).toEqual({ name: 'cluster_name', value: 'my-cluster' });
  });

  it('describes the node (monitoring) and has no UI extensions', async () => {
    const [node] = array((await api('GET', '/api/nodes?columns=name,type,mem_used')).body);
    expect(Object.keys(record(node))).toEqual(['name', 'type', 'mem_used']);
    expect(node?.type).toBe('disc');
    expect((await api('GET', `/api/nodes/${encodeURIComponent(String(node?.name))}`)).status).toBe(200);
    expect((await api('GET', '/api/nodes/rabbit@elsewhere')).status).toBe(404);
    expect((await api('GET', '/api/extensions')).body).toEqual([]);
  });
});

describe('health checks', () => {
  it('runs the aliveness test: declares aliveness-test, publishes and gets back', async () => {
    expect((await api('GET', '/api/aliveness-test/%2F')).body).toEqual({ status: 'ok' });
    expect(record((await api('GET', '/api/queues/%2F/aliveness-test')).body)).toMatchObject({ durable: false, messages: 0 });
    expect((await api('GET', '/api/aliveness-test/nope')).status).toBe(404);
  });

  it('answers 503 when the aliveness queue cannot be declared', async () => {
    await api('PUT', '/api/vhosts/broken');
    await api('PUT', '/api/queues/broken/aliveness-test', { body: { durable: true } });
    const res = await api('GET', '/api/aliveness-test/broken');
    expect(res.status).toBe(503);
    expect(record(res.body)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/inequivalent/) });
  });

  it('answers the node health checks', async () => {
    for (const url of ['/api/health/checks/alarms', '/api/health/checks/local-alarms', '/api/health/checks/virtual-hosts', '/api/health/checks/node-is-quorum-critical', '/api/health/checks/certificate-expiration/1/months', '/api/health/checks/protocol-listener/http', '/api/healthchecks/node']) {
      expect((await api('GET', url)).body, url).toEqual({ status: 'ok' });
    }
    expect((await api('GET', `/api/health/checks/port-listener/${new URL(warren.url).port}`)).status).toBe(200);
    expect((await api('GET', `/api/health/checks/port-listener/${warren.amqpPort}`)).status).toBe(200);
    expect((await api('GET', `/api/health/checks/port-listener/${warren.prometheusPort}`)).status).toBe(200);
    expect((await api('GET', '/api/health/checks/port-listener/1')).status).toBe(503);
    for (const protocol of ['amqp', 'amqp091', 'warren-ws', 'http/web-amqp', 'prometheus']) {
      expect((await api('GET', `/api/health/checks/protocol-listener/${encodeURIComponent(protocol)}`)).body, protocol).toEqual({ status: 'ok' });
    }
    // No TLS here, and no MQTT ever.
    expect(record((await api('GET', '/api/health/checks/protocol-listener/amqps')).body).status).toBe('failed');
    expect(record((await api('GET', '/api/health/checks/protocol-listener/mqtt')).body).status).toBe('failed');
  });

  it('lets any management user run them', async () => {
    const user = await createUser(api, 'watcher', 'management', { configure: '', write: '', read: '' });
    expect((await api('GET', '/api/health/checks/alarms', { as: user })).status).toBe(200);
    expect((await api('GET', '/api/aliveness-test/%2F', { as: user })).status).toBe(200);
  });
});

describe('stubs for what Warren does not have', () => {
  it('lists nothing and refuses writes with a reason', async () => {
    for (const url of ['/api/policies', '/api/policies/%2F', '/api/operator-policies', '/api/parameters', '/api/parameters/federation-upstream/%2F', '/api/feature-flags', '/api/deprecated-features/used', '/api/auth/attempts/x']) {
      expect((await api('GET', url)).body, url).toEqual([]);
    }
    expect(record((await api('GET', '/api/auth')).body).oauth_enabled).toBe(false);
    expect((await api('POST', '/api/rebalance/queues')).status).toBe(204);
  });

  it('hashes a password the way definitions files store it', async () => {
    const hash = String(record((await api('GET', '/api/auth/hash_password/hunter2')).body).ok);
    expect(Buffer.from(hash, 'base64')).toHaveLength(36);
    await api('PUT', '/api/users/hashed', { body: { password_hash: hash, tags: 'management' } });
    expect((await api('GET', '/api/whoami', { as: ['hashed', 'hunter2'] })).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('is generated from the route schemas', async () => {
    const doc = record((await api('GET', '/api/openapi.json')).body);
    expect(doc.openapi).toBe('3.0.3');
    const paths = record(doc.paths);
    for (const path of ['/api/overview', '/api/queues/{vhost}/{name}', '/api/queues/{vhost}/{name}/peek', '/api/bindings/{vhost}/e/{source}/q/{destination}/{props}', '/api/definitions']) {
      expect(paths[path], path).toBeDefined();
    }
    const put = record(record(paths['/api/queues/{vhost}/{name}']).put);
    expect(JSON.stringify(put.requestBody)).toContain('auto_delete');
    expect(paths['/api/openapi.json']).toBeUndefined();
    expect(paths['/api/*']).toBeUndefined();
  });
});
