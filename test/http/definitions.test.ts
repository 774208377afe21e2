import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitHash } from '../../src/auth/password-hash.js';
import { UserStore } from '../../src/auth/user-store.js';
import { Broker } from '../../src/broker/broker.js';
import { exportDefinitions } from '../../src/http/api/definitions-export.js';
import { importDefinitions } from '../../src/http/api/definitions-import.js';
import { Operations } from '../../src/operations/operations.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, createUser, record, type Api } from './support.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/rabbitmq-3.12-definitions.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  await api('PUT', '/api/vhosts/shop', { body: { description: 'the shop', tags: 'prod,eu' } });
  await createUser(api, 'clerk', 'management', { vhost: 'shop', configure: '^shop', write: '.*', read: '.*' });
  await api('PUT', '/api/exchanges/shop/shop.events', { body: { type: 'topic', durable: true } });
  await api('PUT', '/api/exchanges/shop/shop.headers', { body: { type: 'headers', durable: true, arguments: { 'alternate-exchange': 'amq.fanout' } } });
  await api('PUT', '/api/exchanges/shop/shop.transient', { body: { type: 'fanout', durable: false } });
  await api('PUT', '/api/queues/shop/orders', { body: { durable: true, arguments: { 'x-max-length': 1000, 'x-dead-letter-exchange': 'shop.events' } } });
  await api('PUT', '/api/queues/shop/scratch', { body: { durable: false, auto_delete: true } });
  await api('POST', '/api/bindings/shop/e/shop.events/q/orders', { body: { routing_key: 'order.#' } });
  await api('POST', '/api/bindings/shop/e/shop.headers/q/orders', { body: { arguments: { 'x-match': 'all', region: 'eu' } } });
  await api('POST', '/api/bindings/shop/e/shop.events/e/shop.headers', { body: { routing_key: 'audit.*' } });
  await api('PUT', '/api/cluster-name', { body: { name: 'warren-test-cluster' } });
  await api('PUT', '/api/policies/shop/orders-ttl', { body: { pattern: '^orders$', definition: { 'message-ttl': 60000, 'ha-mode': 'all' }, priority: 3, 'apply-to': 'queues' } });
  await api('PUT', '/api/operator-policies/shop/cap', { body: { pattern: '.*', definition: { 'max-length': 500 }, 'apply-to': 'queues' } });
});
afterAll(() => warren.stop());

describe('export', () => {
  it('has RabbitMQ’s keys in RabbitMQ’s order', async () => {
    const res = await api('GET', '/api/definitions');
    expect(res.status).toBe(200);
    expect(Object.keys(record(res.body))).toEqual([
      'rabbit_version',
      'rabbitmq_version',
      'product_name',
      'product_version',
      'users',
      'vhosts',
      'permissions',
      'topic_permissions',
      'parameters',
      'global_parameters',
      'policies',
      'queues',
      'exchanges',
      'bindings',
    ]);
  });

  it('leaves out the default and amq.* exchanges, exclusive queues and default-exchange bindings', async () => {
    const conn = await warren.connect({ vhost: 'shop' });
    await conn.queueDeclare({ queue: 'mine', exclusive: true });
    await conn.queueBind({ queue: 'mine', exchange: 'shop.events', routingKey: 'x' });
    const body = record((await api('GET', '/api/definitions')).body);
    const exchanges = array(body.exchanges).map((x) => x.name);
    expect(exchanges).toEqual(['shop.events', 'shop.headers', 'shop.transient']);
    const queues = array(body.queues).map((q) => q.name);
    expect(queues).toEqual(['orders', 'scratch']);
    expect(array(body.bindings).map((b) => [b.source, b.destination])).toEqual([
      ['shop.events', 'orders'],
      ['shop.events', 'shop.headers'],
      ['shop.headers', 'orders'],
    ]);
    expect(array(body.queues)[0]).toEqual({ name: 'orders', vhost: 'shop', durable: true, auto_delete: false, arguments: { 'x-max-length': 1000, 'x-dead-letter-exchange': 'shop.events' } });
    const clerk = array(body.users).find((u) => u.name === 'clerk');
    expect(Object.keys(record(clerk))).toEqual(['name', 'password_hash', 'hashing_algorithm', 'tags', 'limits']);
    expect(clerk).toMatchObject({ tags: ['management'], limits: {} });
    expect(array(body.vhosts).find((v) => v.name === 'shop')).toEqual({
      name: 'shop',
      description: 'the shop',
      tags: ['prod', 'eu'],
      default_queue_type: 'classic',
      metadata: { description: 'the shop', tags: ['prod', 'eu'], default_queue_type: 'classic' },
    });
    expect(body.global_parameters).toEqual([{ name: 'cluster_name', value: 'warren-test-cluster' }]);
    await conn.close();
  });

  it('exports one vhost without vhost keys; 400 for a missing vhost', async () => {
    const body = record((await api('GET', '/api/definitions/shop')).body);
    expect(Object.keys(body)).toEqual(['rabbit_version', 'parameters', 'policies', 'queues', 'exchanges', 'bindings']);
    expect(array(body.queues).every((q) => !('vhost' in q))).toBe(true);
    expect((await api('GET', '/api/definitions/nope')).body).toEqual({ error: 'bad_request', reason: 'vhost_not_found' });
  });

  it('offers the file as a download', async () => {
    const res = await api('GET', '/api/definitions?download=backup.json');
    expect(res.headers['content-disposition']).toBe('attachment; filename="backup.json"');
    expect((await api('GET', '/api/all-configuration')).status).toBe(200);
  });

  it('is for administrators only', async () => {
    const clerk = ['clerk', 'clerk-secret'] as const;
    expect((await api('GET', '/api/definitions', { as: clerk })).status).toBe(401);
    expect((await api('POST', '/api/definitions', { as: clerk, body: {} })).status).toBe(401);
  });

  it('leaves transient objects out of a durability snapshot (the default)', () => {
    const snapshot = exportDefinitions(warren.server.broker, warren.server.users, { version: 'test' });
    expect(array(snapshot.queues).map((q) => q.name)).toEqual(['orders']);
    expect(array(snapshot.exchanges).map((x) => x.name)).toEqual(['shop.events', 'shop.headers']);
  });
});

describe('import', () => {
  it('round-trips an export into a fresh broker', async () => {
    const exported = exportDefinitions(warren.server.broker, warren.server.users, { version: 'test', includeTransient: true });
    const { broker, users, ops } = memoryBroker();
    await importDefinitions(ops, broker, users, JSON.parse(JSON.stringify(exported)));
    expect(exportDefinitions(broker, users, { version: 'test', includeTransient: true })).toEqual(exported);
    expect(broker.vhost('shop').metadata.description).toBe('the shop');
    expect(await users.authenticate('clerk', 'clerk-secret', '10.0.0.1')).toMatchObject({ ok: true });
    const orders = broker.vhost('shop').queues.get('orders');
    expect(orders?.durable).toBe(true);
    expect(broker.vhost('shop').queues.get('scratch')?.autoDelete).toBe(true);
  });

  it('imports a RabbitMQ 3.12 export; its users log in over REST and WebSocket', async () => {
    const fresh = await startWarren();
    const freshApi = apiClient(fresh.server.app);
    try {
      // Everything imports, its policy and topic permission included.
      const res = await freshApi('POST', '/api/definitions', { raw: JSON.stringify(fixture) });
      expect(res.status).toBe(204);
      expect((await freshApi('GET', '/api/topic-permissions')).body).toEqual(fixture.topic_permissions);
      const ops = ['ops', 'ops-password'] as const;
      expect(record((await freshApi('GET', '/api/whoami', { as: ops, remoteAddress: '192.0.2.10' })).body)).toMatchObject({ name: 'ops', tags: ['administrator'] });
      expect(record((await freshApi('GET', '/api/whoami', { as: ['orders-app', 'app-password'] })).body).tags).toEqual(['management', 'monitoring']);
      // The imported SHA-256 hash was replaced by scrypt at the first successful login.
      const user = record((await freshApi('GET', '/api/users/ops', { as: ops })).body);
      expect(user.password_hash).not.toBe(rabbitHash('ops-password', 'rabbit_password_hashing_sha256', Buffer.from([0x9a, 0x3b, 0x11, 0x42])));
      expect(user.hashing_algorithm).toBe('warren_password_hashing_scrypt');

      const queues = array((await freshApi('GET', '/api/queues/orders', { as: ops })).body).map((q) => q.name);
      expect(queues).toEqual(['orders.created', 'orders.dead']);
      expect(record((await freshApi('GET', '/api/queues/orders/orders.created', { as: ops })).body).arguments).toEqual({
        'x-queue-type': 'classic',
        'x-dead-letter-exchange': 'orders.dlx',
        'x-message-ttl': 3600000,
      });
      // The policy applies; its TTL is longer than the queue's own argument, which therefore wins.
      expect(record((await freshApi('GET', '/api/queues/orders/orders.created', { as: ops })).body)).toMatchObject({
        policy: 'ttl',
        effective_policy_definition: { 'message-ttl': 86400000 },
      });
      expect(fresh.server.broker.vhost('orders').queues.get('orders.created')?.limits.messageTtl).toBe(3600000);
      expect(array((await freshApi('GET', '/api/bindings/orders/e/amq.topic/e/orders', { as: ops })).body)).toHaveLength(1);
      expect(record((await freshApi('GET', '/api/vhosts/orders', { as: ops })).body)).toMatchObject({ description: 'Order processing', tags: ['production'] });
      expect(record((await freshApi('GET', '/api/overview', { as: ops })).body).cluster_name).toBe('rabbit@prod-1');
      expect((await freshApi('GET', '/api/permissions/orders/orders-app', { as: ops })).body).toMatchObject({ configure: '^orders\\.' });

      const conn = await fresh.connect({ username: 'orders-app', password: 'app-password', vhost: 'orders' });
      expect(await conn.publish({ exchange: 'orders', routingKey: 'order.created.eu', body: '{}' })).toEqual({ routed: true });
      const opsConn = await fresh.connect({ username: 'ops', password: 'ops-password' });
      await opsConn.queueDeclare({ queue: 'audit', passive: true, durable: true });
    } finally {
      await fresh.stop();
    }
  });

  it('imports what it can and lists the rest: unknown sections, keys, parameters and policy keys', async () => {
    const doc = {
      rabbit_version: '4.0.5',
      explicit_section: [],
      parameters: [
        { value: { uri: 'amqp://elsewhere' }, vhost: '/', component: 'federation-upstream', name: 'up' },
        { value: { pattern: '^listed', definition: { 'max-length': 4 }, priority: 0, 'apply-to': 'queues' }, vhost: '/', component: 'operator_policy', name: 'cap' },
      ],
      global_parameters: [{ name: 'some_plugin_setting', value: 1 }],
      policies: [{ vhost: '/', name: 'listed', pattern: '^listed', 'apply-to': 'queues', definition: { 'max-length': 9, 'x-future-key': 1 }, priority: 0 }],
      queues: [{ name: 'listed.q', vhost: '/', durable: true, auto_delete: false, arguments: {}, leader: 'rabbit@a' }],
    };
    const res = await api('POST', '/api/definitions', { body: doc });
    expect(res.status).toBe(200);
    expect(record(res.body).not_imported).toEqual([
      "section 'explicit_section'",
      "queue 'listed.q': key 'leader'",
      "parameter 'up' of component 'federation-upstream' in vhost '/'",
      "global parameter 'some_plugin_setting'",
      "policy 'listed' in vhost '/': definition key 'x-future-key' (Warren does not know it)",
    ]);
    expect(record((await api('GET', '/api/queues/%2F/listed.q')).body)).toMatchObject({
      policy: 'listed',
      operator_policy: 'cap',
      effective_policy_definition: { 'max-length': 4 },
    });
    await api('DELETE', '/api/queues/%2F/listed.q');
    await api('DELETE', '/api/policies/%2F/listed');
    await api('DELETE', '/api/operator-policies/%2F/cap');
  });

  it('refuses a queue of a type Warren does not have, named beside its arguments', async () => {
    const res = await api('POST', '/api/definitions', { body: { queues: [{ name: 'qq', vhost: '/', type: 'quorum', durable: true, arguments: {} }] } });
    expect(res.status).toBe(400);
    expect(String(record(res.body).reason)).toMatch(/queue 'qq' in vhost '\/' is of type "quorum": Warren has classic queues only/);
    expect((await api('GET', '/api/queues/%2F/qq')).status).toBe(404);
  });

  it('imports into one vhost from a per-vhost export', async () => {
    const exported = (await api('GET', '/api/definitions/shop')).body;
    await api('PUT', '/api/vhosts/shop-copy');
    expect((await api('POST', '/api/definitions/shop-copy', { body: exported })).status).toBe(204);
    expect(array((await api('GET', '/api/queues/shop-copy')).body).map((q) => q.name)).toEqual(['orders', 'scratch']);
    expect(array((await api('GET', '/api/bindings/shop-copy/e/shop.headers/q/orders')).body)).toHaveLength(1);
    expect((await api('POST', '/api/definitions/nope', { body: exported })).status).toBe(404);
  });

  it('leaves existing queues and exchanges untouched', async () => {
    await api('PUT', '/api/queues/%2F/kept', { body: { durable: false } });
    const doc = { queues: [{ name: 'kept', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 1 } }] };
    expect((await api('POST', '/api/definitions', { body: doc })).status).toBe(204);
    expect(record((await api('GET', '/api/queues/%2F/kept')).body)).toMatchObject({ durable: false, arguments: {} });
  });

  it('applies RabbitMQ’s defaults for missing keys', async () => {
    const doc = { queues: [{ name: 'defaults-q', vhost: '/' }], exchanges: [{ name: 'defaults-x', vhost: '/', type: 'direct' }] };
    expect((await api('POST', '/api/definitions', { body: doc })).status).toBe(204);
    expect(record((await api('GET', '/api/queues/%2F/defaults-q')).body)).toMatchObject({ durable: true, auto_delete: false });
    expect(record((await api('GET', '/api/exchanges/%2F/defaults-x')).body)).toMatchObject({ durable: true, internal: false });
  });

  it('accepts a multipart upload with a file field', async () => {
    const boundary = 'XyZ123';
    const doc = JSON.stringify({ exchanges: [{ name: 'uploaded', vhost: '/', type: 'fanout', durable: true }] });
    const raw = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="defs.json"\r\nContent-Type: application/json\r\n\r\n${doc}\r\n--${boundary}--\r\n`;
    const res = await api('POST', '/api/definitions', { raw, contentType: `multipart/form-data; boundary=${boundary}` });
    expect(res.status).toBe(204);
    expect((await api('GET', '/api/exchanges/%2F/uploaded')).status).toBe(200);
  });

  it('refuses bad documents with 400, changing nothing when the problem shows up front', async () => {
    expect((await api('POST', '/api/definitions', { raw: '{"users": [' })).body).toEqual({ error: 'bad_request', reason: 'failed_to_parse_json' });
    expect((await api('POST', '/api/definitions', { body: { queues: 'nope' } })).status).toBe(400);
    const badUser = { users: [{ name: 'eve', password_hash: 'abcd', hashing_algorithm: 'rot13', tags: [] }], queues: [{ name: 'never', vhost: '/' }] };
    expect((await api('POST', '/api/definitions', { body: badUser })).status).toBe(400);
    expect((await api('GET', '/api/queues/%2F/never')).status).toBe(404);
    expect((await api('POST', '/api/definitions', { body: { queues: [{ name: 'q', vhost: 'no-such-vhost' }] } })).status).toBe(400);
    expect((await api('POST', '/api/definitions', { body: { queues: [{ name: 'q-without-vhost' }] } })).status).toBe(400);
    expect((await api('POST', '/api/definitions', { body: { queues: [{ name: 'bad-args', vhost: '/', arguments: { 'x-max-length': -1 } }] } })).status).toBe(400);
    const badBinding = { bindings: [{ source: 'no-such-exchange', vhost: '/', destination: 'kept', destination_type: 'queue', routing_key: '' }] };
    expect((await api('POST', '/api/definitions', { body: badBinding })).status).toBe(400);
  });

  it('reads MD5 hashes from files older than 3.6 without an algorithm', async () => {
    const { broker, users, ops } = memoryBroker();
    const password_hash = rabbitHash('old', 'rabbit_password_hashing_md5');
    await importDefinitions(ops, broker, users, { rabbit_version: '3.5.7', users: [{ name: 'old', password_hash, tags: 'administrator' }] });
    expect(users.getUser('old')?.hashingAlgorithm).toBe('rabbit_password_hashing_md5');
    expect(await users.authenticate('old', 'old', '127.0.0.1')).toMatchObject({ ok: true });
  });
});

/** A broker with nothing on disk, and the operations layer over it. */
function memoryBroker(): { broker: Broker; users: UserStore; ops: Operations } {
  const broker = new Broker();
  const users = new UserStore();
  const ops = new Operations({ broker, users, connections: { closeWhere: () => undefined, countConnections: () => 0, countChannels: () => 0 }, log: { error: () => undefined } });
  return { broker, users, ops };
}
