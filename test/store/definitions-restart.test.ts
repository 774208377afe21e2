import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HashingAlgorithms } from '../../src/auth/password-hash.js';
import { PasswordHasher } from '../../src/auth/password-hasher.js';

const hashPassword = (password: string): Promise<string> => new PasswordHasher().hash(password);
import { destinationName } from '../../src/broker/binding.js';
import { isDurableBinding } from '../../src/broker/vhost.js';
import type { WarrenServer } from '../../src/http/server.js';
import { DefinitionsLogError, encodeDefinitionRecord } from '../../src/store/definitions-codec.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { startWarren } from '../helpers/warren.js';

const { tempDir, start, stop } = useDataDirs('warren-defs-restart-');

afterEach(async () => {
});

/** Everything durable the broker and the user store hold, in a comparable form. */
function durableState(server: WarrenServer): Record<string, unknown> {
  const { broker, users } = server;
  const vhosts = [...broker.vhosts.values()].map((vhost) => ({
    name: vhost.name,
    metadata: vhost.metadata,
    exchanges: [...vhost.exchanges.values()]
      .filter((x) => x.durable && x.name !== '' && !x.name.startsWith('amq.'))
      .map((x) => ({ name: x.name, type: x.type, autoDelete: x.autoDelete, internal: x.internal, arguments: x.arguments, declaredBy: x.declaredBy })),
    queues: [...vhost.queues.values()]
      .filter((q) => q.durable && !q.exclusive)
      .map((q) => ({ name: q.name, autoDelete: q.autoDelete, arguments: q.arguments, declaredBy: q.declaredBy })),
    bindings: vhost
      .bindings()
      .filter(isDurableBinding)
      .map((b) => `${b.source.name} -> ${b.destination.kind} ${destinationName(b.destination)} '${b.routingKey}' ${JSON.stringify(b.arguments)}`)
      .sort(),
  }));
  return { clusterName: broker.clusterName, vhosts, users: users.listUsers(), permissions: users.listPermissions() };
}

const segmentFiles = (dataDir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(join(dataDir, 'messages')).map((name) => [name, readFileSync(join(dataDir, 'messages', name)).toString('base64')]));

describe('definitions across a restart', () => {
  it('keeps every kind of definition, and keeps every deleted one gone', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    const { broker, users } = warren.server;
    const shop = broker.addVhost('shop');
    shop.updateMetadata({ description: 'the shop', tags: ['prod', 'eu'], defaultQueueType: 'quorum', tracing: true });
    broker.setClusterName('warren@restart-test');
    await users.putUser('alice', { password: 's3cret', tags: ['management'] });
    users.restoreUser({ name: 'bob', passwordHash: 'c2FsdHloYXNo', hashingAlgorithm: HashingAlgorithms.sha512, tags: ['monitoring'] });
    users.setPermission({ user: 'alice', vhost: 'shop', configure: '^alice\\.', write: '.*', read: '' });
    shop.declareExchange({ exchange: 'events', type: 'topic', durable: true, arguments: { 'alternate-exchange': 'unrouted' }, declaredBy: 'alice' });
    shop.declareExchange({ exchange: 'audit', type: 'headers', durable: true, declaredBy: 'bob' });
    shop.declareExchange({ exchange: 'unrouted', type: 'fanout', durable: true, internal: true, autoDelete: false, declaredBy: 'alice' });
    shop.declareExchange({ exchange: 'scratch', type: 'fanout', durable: false });
    shop.declareQueue({ queue: 'orders', durable: true, arguments: { 'x-max-length': 10 }, declaredBy: 'alice' }, null);
    shop.declareQueue({ queue: 'transient', durable: false }, null);
    shop.bind({ source: 'events', destination: 'audit', destinationKind: 'exchange', routingKey: 'audit.#' });
    shop.bind({ source: 'audit', destination: 'orders', destinationKind: 'queue', arguments: { 'x-match': 'all', region: 'eu' } });
    shop.bind({ source: 'events', destination: 'orders', destinationKind: 'queue', routingKey: 'order.*' });
    shop.bind({ source: 'events', destination: 'transient', destinationKind: 'queue', routingKey: 'never.kept' });

    // One of each kind deleted again.
    const gone = broker.addVhost('gone');
    gone.declareQueue({ queue: 'q', durable: true }, null);
    users.setPermission({ user: 'alice', vhost: 'gone', configure: '.*', write: '.*', read: '.*' });
    broker.deleteVhost('gone');
    users.deleteVhostPermissions('gone');
    await users.putUser('carol', { password: 'x', tags: [] });
    users.setPermission({ user: 'carol', vhost: 'shop', configure: '.*', write: '.*', read: '.*' });
    users.deleteUser('carol');
    users.setPermission({ user: 'alice', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    users.deletePermission('/', 'alice');
    shop.declareExchange({ exchange: 'old.x', type: 'direct', durable: true });
    shop.bind({ source: 'old.x', destination: 'orders', destinationKind: 'queue' });
    shop.deleteExchange('old.x');
    shop.declareQueue({ queue: 'old.q', durable: true }, null);
    shop.bind({ source: 'events', destination: 'old.q', destinationKind: 'queue' });
    shop.deleteQueue('old.q');
    shop.bind({ source: 'events', destination: 'orders', destinationKind: 'queue', routingKey: 'unbound' });
    shop.unbind({ source: 'events', destination: 'orders', destinationKind: 'queue', routingKey: 'unbound' });
    await warren.server.durable.synced();
    const before = durableState(warren.server);
    await stop(warren);

    warren = await start(dataDir);
    const after = durableState(warren.server);
    expect(after).toEqual(before);
    // The comparison above is only as good as what it covers: the facts themselves.
    const restored = warren.server.broker.vhost('shop');
    expect(restored.metadata).toEqual({ description: 'the shop', tags: ['prod', 'eu'], defaultQueueType: 'quorum', tracing: true });
    expect(warren.server.broker.clusterName).toBe('warren@restart-test');
    expect(warren.server.broker.vhosts.has('gone')).toBe(false);
    expect(restored.exchanges.get('events')?.declaredBy).toBe('alice');
    expect(restored.exchanges.get('unrouted')?.internal).toBe(true);
    expect(restored.exchanges.has('old.x')).toBe(false);
    expect(restored.exchanges.has('scratch')).toBe(false);
    expect(restored.queues.get('orders')?.declaredBy).toBe('alice');
    expect(restored.queues.get('orders')?.arguments).toEqual({ 'x-max-length': 10 });
    expect([...restored.queues.keys()]).toEqual(['orders']);
    expect(after['vhosts']).toContainEqual(
      expect.objectContaining({
        name: 'shop',
        bindings: [
          `audit -> queue orders '' {"x-match":"all","region":"eu"}`,
          `events -> exchange audit 'audit.#' {}`,
          `events -> queue orders 'order.*' {}`,
        ],
      }),
    );
    expect(warren.server.users.getUser('bob')).toEqual({ name: 'bob', passwordHash: 'c2FsdHloYXNo', hashingAlgorithm: HashingAlgorithms.sha512, tags: ['monitoring'] });
    expect(warren.server.users.getUser('carol')).toBeUndefined();
    expect(warren.server.users.listPermissions({ user: 'alice' })).toEqual([
      { user: 'alice', vhost: 'shop', configure: '^alice\\.', write: '.*', read: '' },
    ]);
    // alice's scrypt hash came back: she can log in.
    const conn = await warren.connect({ username: 'alice', password: 's3cret', vhost: 'shop' });
    await expect(conn.queueDeclare({ queue: 'orders', passive: true })).resolves.toMatchObject({ queue: 'orders' });
  });

  it('keeps the default vhost deleted', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    warren.server.broker.addVhost('only');
    warren.server.broker.deleteVhost('/');
    await stop(warren);
    warren = await start(dataDir);
    expect([...warren.server.broker.vhosts.keys()]).toEqual(['only']);
  });

  it('starts after a torn last record, which is cut off', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    warren.server.broker.vhost('/').declareQueue({ queue: 'kept', durable: true }, null);
    await stop(warren);
    const path = join(dataDir, 'definitions.log');
    const good = statSync(path).size;
    const torn = encodeDefinitionRecord({ k: 'queue', v: '/', n: 'torn', d: { durable: true, autoDelete: false, arguments: {}, declaredBy: '' } });
    appendFileSync(path, torn.subarray(0, torn.length - 3));

    warren = await start(dataDir);
    expect([...warren.server.broker.vhost('/').queues.keys()]).toEqual(['kept']);
    expect(statSync(path).size).toBe(good);
  });

  it('refuses to start on a damaged record with valid ones after it, naming file and offset, and leaves the message store alone', async () => {
    const dataDir = tempDir();
    const warren = await start(dataDir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    for (let i = 0; i < 5; i++) await conn.publish({ routingKey: 'q', body: `m${i}`, properties: { persistent: true } });
    await stop(warren);
    const path = join(dataDir, 'definitions.log');
    const log = readFileSync(path);
    log.writeUInt8(log.readUInt8(20) ^ 0x01, 20); // inside the first record
    writeFileSync(path, log);
    const segments = segmentFiles(dataDir);

    const error = await startWarren({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionsLogError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('byte offset 0');
    expect(segmentFiles(dataDir)).toEqual(segments);
    expect(readFileSync(path)).toEqual(log);
  });

  it('compacts: 5,000 declare/delete cycles leave a small log, and the state survives', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    const root = warren.server.broker.vhost('/');
    root.declareQueue({ queue: 'kept', durable: true }, null);
    for (let i = 0; i < 5000; i++) {
      root.declareQueue({ queue: 'churn', durable: true }, null);
      root.bind({ source: 'amq.direct', destination: 'churn', destinationKind: 'queue', routingKey: `k${i}` });
      root.deleteQueue('churn');
      if (i % 250 === 0) await warren.server.durable.synced();
    }
    await stop(warren);
    const appended = 5000 * 3;
    const perRecord = encodeDefinitionRecord({ k: 'binding', v: '/', s: 'amq.direct', t: 'queue', n: 'churn', r: 'k4999', a: {} }).length;
    expect(statSync(join(dataDir, 'definitions.log')).size).toBeLessThan((appended / 10) * perRecord);

    warren = await start(dataDir);
    expect([...warren.server.broker.vhost('/').queues.keys()]).toEqual(['kept']);
    expect(warren.server.broker.vhost('/').bindings()).toEqual([]);
  });
});

describe('migration from definitions.json', () => {
  async function legacyDocument(): Promise<Record<string, unknown>> {
    return {
      rabbit_version: '3.13.7',
      rabbitmq_version: '3.13.7',
      product_name: 'Warren',
      product_version: '0.1.0',
      users: [
        { name: 'guest', password_hash: await hashPassword('guest'), hashing_algorithm: HashingAlgorithms.scrypt, tags: ['administrator'], limits: {} },
        { name: 'dave', password_hash: await hashPassword('d4ve'), hashing_algorithm: HashingAlgorithms.scrypt, tags: [], limits: {} },
      ],
      vhosts: [
        { name: '/', description: 'Default virtual host', tags: [], default_queue_type: 'classic', metadata: {} },
        { name: 'legacy', description: 'from before the log', tags: ['old'], default_queue_type: 'classic', metadata: {} },
      ],
      permissions: [
        { user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' },
        { user: 'dave', vhost: 'legacy', configure: '.*', write: '.*', read: '.*' },
      ],
      topic_permissions: [],
      parameters: [],
      global_parameters: [{ name: 'cluster_name', value: 'warren@legacy' }],
      policies: [],
      queues: [{ name: 'jobs', vhost: 'legacy', durable: true, auto_delete: false, arguments: { 'x-max-length': 5 } }],
      exchanges: [{ name: 'work', vhost: 'legacy', type: 'direct', durable: true, auto_delete: false, internal: false, arguments: {} }],
      bindings: [{ source: 'work', vhost: 'legacy', destination: 'jobs', destination_type: 'queue', routing_key: 'job', arguments: {} }],
    };
  }

  it('imports it once into the log, keeps it as definitions.json.migrated, and reads the log from then on', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'definitions.json'), JSON.stringify(await legacyDocument(), null, 2));
    let warren = await start(dataDir);
    const legacy = warren.server.broker.vhost('legacy');
    expect(legacy.metadata.description).toBe('from before the log');
    expect(legacy.queues.get('jobs')?.arguments).toEqual({ 'x-max-length': 5 });
    expect(legacy.bindings().map((b) => `${b.source.name} -> ${destinationName(b.destination)} ${b.routingKey}`)).toEqual(['work -> jobs job']);
    expect(warren.server.broker.clusterName).toBe('warren@legacy');
    expect(existsSync(join(dataDir, 'definitions.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'definitions.json.migrated'))).toBe(true);
    expect(existsSync(join(dataDir, 'definitions.log'))).toBe(true);
    const dave = await warren.connect({ username: 'dave', password: 'd4ve', vhost: 'legacy' });
    await dave.queueDelete({ queue: 'jobs' });
    await stop(warren);

    // Had the document been imported again, 'jobs' would be back.
    warren = await start(dataDir);
    expect(warren.server.broker.vhost('legacy').queues.has('jobs')).toBe(false);
    expect(warren.server.broker.vhost('legacy').exchanges.has('work')).toBe(true);
    expect(warren.server.users.getUser('dave')).toBeDefined();
  });

  it('refuses to start on a definitions.json that is not JSON, naming the file', async () => {
    const dataDir = tempDir();
    const path = join(dataDir, 'definitions.json');
    writeFileSync(path, '{"users": [');
    const error = await startWarren({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionsLogError);
    expect((error as Error).message).toContain(path);
    expect(existsSync(join(dataDir, 'definitions.log'))).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('{"users": [');
  });

  it('creates the default user on a first start, with neither file', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    await stop(warren);
    expect(existsSync(join(dataDir, 'definitions.log'))).toBe(true);
    warren = await start(dataDir);
    const conn = await warren.connect();
    await expect(conn.queueDeclare({ queue: 'q' })).resolves.toMatchObject({ queue: 'q' });
  });
});
