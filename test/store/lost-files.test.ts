import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type WarrenConnection } from '../../src/client/index.js';
import { Broker } from '../../src/broker/broker.js';
import { parseQueueLimits } from '../../src/broker/queue-arguments.js';
import { Queue } from '../../src/broker/queue.js';
import { encodeDefinitionRecord } from '../../src/store/definitions-codec.js';
import { SegmentMessageStore } from '../../src/store/message-store.js';
import { missingSegments } from '../../src/store/segment-inventory.js';
import { persistent, recoveredIn } from './message-store.contract.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { startWarren } from '../helpers/warren.js';
import type { RunningWarren } from '../helpers/warren.js';

const { tempDir, start, stop } = useDataDirs('warren-lost-');

const mainJs = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const children: ChildBroker[] = [];

afterEach(async () => {
  for (const { child } of children.splice(0)) {
    child.kill('SIGKILL');
    await exited(child);
  }
});

async function startChild(dataDir: string, env: Record<string, string> = {}): Promise<ChildBroker> {
  const broker = await spawnBroker(dataDir, env);
  children.push(broker);
  return broker;
}

async function stopChild(broker: ChildBroker): Promise<void> {
  children.splice(children.indexOf(broker), 1);
  broker.child.kill('SIGTERM');
  await exited(broker.child);
}

async function drain(conn: WarrenConnection, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const message = await conn.get({ queue, noAck: true });
    if (!message) return out;
    out.push(message.text());
  }
}

/** Every file under `dir` with its bytes: what "nothing changed" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path).toString('base64');
    }
  };
  walk(dir);
  return files;
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const logLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

/** A broker with messages in two vhosts: 5 in '/' orders, 3 in 'shop' invoices. */
async function dataDirWithMessages(): Promise<{ dataDir: string; exported: string }> {
  const dataDir = tempDir();
  const warren = await start(dataDir);
  warren.server.broker.addVhost('shop');
  warren.server.users.setPermission({ user: 'guest', vhost: 'shop', configure: '.*', write: '.*', read: '.*' });
  const conn = await warren.connect();
  await conn.queueDeclare({ queue: 'orders', durable: true });
  for (let i = 0; i < 5; i++) await conn.publish({ routingKey: 'orders', body: `order ${i}`, properties: { persistent: true } });
  const shop = await warren.connect({ vhost: 'shop' });
  await shop.queueDeclare({ queue: 'invoices', durable: true });
  for (let i = 0; i < 3; i++) await shop.publish({ routingKey: 'invoices', body: `invoice ${i}`, properties: { persistent: true } });
  const response = await fetch(`${warren.url}/api/definitions`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  const exported = await response.text();
  await stop(warren);
  return { dataDir, exported };
}

async function expectAllMessages(warren: RunningWarren): Promise<void> {
  const conn = await warren.connect();
  expect(await drain(conn, 'orders')).toEqual(['order 0', 'order 1', 'order 2', 'order 3', 'order 4']);
  const shop = await warren.connect({ vhost: 'shop' });
  expect(await drain(shop, 'invoices')).toEqual(['invoice 0', 'invoice 1', 'invoice 2']);
}

describe('a data dir that holds messages but no definitions', () => {
  it('does not start, says what is missing, what is there and how to restore it, and changes nothing', async () => {
    const { dataDir } = await dataDirWithMessages();
    const backup = join(tempDir(), 'definitions.log');
    renameSync(join(dataDir, 'definitions.log'), backup);
    const before = snapshot(dataDir);

    const error = await startWarren({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('LostDefinitionsError');
    const message = (error as Error).message;
    expect(message).toContain(join(dataDir, 'definitions.log'));
    expect(message).toMatch(/8 messages in 1 segment file/);
    expect(message).toContain("queue 'orders' in vhost '/' (5)");
    expect(message).toContain("queue 'invoices' in vhost 'shop' (3)");
    expect(message).toContain('from a backup');
    expect(message).toContain('definitions.json');
    expect(message).toContain('GET /api/definitions');
    expect(snapshot(dataDir)).toEqual(before);

    // The file back where it was: everything is there.
    renameSync(backup, join(dataDir, 'definitions.log'));
    await expectAllMessages(await start(dataDir));
  });

  it('starts with every message once a definitions export is put in the data dir as definitions.json', async () => {
    const { dataDir, exported } = await dataDirWithMessages();
    unlinkSync(join(dataDir, 'definitions.log'));
    await expect(startWarren({ dataDir })).rejects.toThrow(/definitions\.log/);
    writeFileSync(join(dataDir, 'definitions.json'), exported);
    await expectAllMessages(await start(dataDir));
    expect(existsSync(join(dataDir, 'definitions.json.migrated'))).toBe(true);
  });

  it('also refuses an empty definitions.log while messages are stored', async () => {
    const { dataDir } = await dataDirWithMessages();
    writeFileSync(join(dataDir, 'definitions.log'), '');
    const before = snapshot(dataDir);
    await expect(startWarren({ dataDir })).rejects.toThrow(/definitions\.log is empty.*8 messages/s);
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('the warren process prints the reason (not a stack) and exits non-zero', async () => {
    const { dataDir } = await dataDirWithMessages();
    unlinkSync(join(dataDir, 'definitions.log'));
    const child = spawn(process.execPath, [mainJs], {
      env: { ...process.env, WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_PROMETHEUS_PORT: '0', WARREN_HOST: '127.0.0.1', WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A broker that starts anyway is the failure: stop it rather than wait for the test's timeout.
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening on')) child.kill('SIGKILL');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(stderr.startsWith('warren: failed to start: ')).toBe(true);
    expect(stderr).toContain('definitions.log');
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a definitions import without users', () => {
  it('still gets the default user, so the broker is not left with nobody who can log in', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'definitions.json'), '{}');
    let warren = await start(dataDir);
    await expect(warren.connect()).resolves.toBeDefined();
    await stop(warren);
    warren = await start(dataDir);
    await expect(warren.connect()).resolves.toBeDefined();
  });

  it('in place of a lost definitions.log: the stored queues come back with their messages', async () => {
    const { dataDir } = await dataDirWithMessages();
    unlinkSync(join(dataDir, 'definitions.log'));
    writeFileSync(join(dataDir, 'definitions.json'), '{}');
    const warren = await start(dataDir);
    warren.server.users.setPermission({ user: 'guest', vhost: 'shop', configure: '.*', write: '.*', read: '.*' });
    await expectAllMessages(warren);
  });
});

describe('stored messages of a queue the definitions do not have', () => {
  it('are kept: the queue is restored as a durable classic queue declared by rmq-internal, and stays', async () => {
    const { dataDir } = await dataDirWithMessages();
    // The definitions lose the queues (an older backup of the log, say); the message store still has their messages.
    appendFileSync(join(dataDir, 'definitions.log'), encodeDefinitionRecord({ k: 'queue', v: '/', n: 'orders', del: true }));
    appendFileSync(join(dataDir, 'definitions.log'), encodeDefinitionRecord({ k: 'vhost', n: 'shop', del: true }));

    let warren = await start(dataDir);
    const orders = warren.server.broker.vhost('/').queues.get('orders');
    expect(orders).toMatchObject({ durable: true, exclusive: false, autoDelete: false, arguments: {}, declaredBy: 'rmq-internal', messageCount: 5 });
    expect(warren.server.broker.vhost('shop').queues.get('invoices')).toMatchObject({ durable: true, declaredBy: 'rmq-internal', messageCount: 3 });
    await stop(warren);

    // Restored into the definitions too: the next start has them without help.
    warren = await start(dataDir);
    warren.server.users.setPermission({ user: 'guest', vhost: 'shop', configure: '.*', write: '.*', read: '.*' });
    await expectAllMessages(warren);
  });

  it('are left in the message store, not dropped, when their queue cannot be declared again', async () => {
    const dataDir = tempDir();
    await stop(await start(dataDir));
    // A name the broker refuses today ('amq.' is reserved), as an older Warren might have stored.
    const properties = { durable: true, exclusive: false, autoDelete: false, arguments: {}, declaredBy: '' };
    const refused = new Queue('/', 'amq.reserved', properties, parseQueueLimits({}), null, new Broker().queueObserver);
    let opened = await SegmentMessageStore.open(dataDir);
    opened.store.add(persistent(1, 'kept'), [refused]);
    await opened.store.close();

    const warren = await start(dataDir);
    expect(warren.server.broker.vhost('/').queues.has('amq.reserved')).toBe(false);
    await stop(warren);
    opened = await SegmentMessageStore.open(dataDir);
    expect(await recoveredIn(opened.recovered, 'amq.reserved')).toEqual([{ id: 1, body: 'kept', redelivered: false }]);
    await opened.store.close();
  });

  it('a queue deleted by a client stays deleted: its QueueDeleted record keeps its messages from coming back', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'gone', durable: true });
    for (let i = 0; i < 3; i++) await conn.publish({ routingKey: 'gone', body: `m${i}`, properties: { persistent: true } });
    await conn.queueDelete({ queue: 'gone' });
    await stop(warren);
    warren = await start(dataDir);
    expect(warren.server.broker.vhost('/').queues.has('gone')).toBe(false);
    const again = await warren.connect();
    await expect(again.queueDeclare({ queue: 'gone', durable: true })).resolves.toMatchObject({ messageCount: 0 });
  });
});

/** Publishes `count` persistent messages of about 1 KB to `queue`: 3 fit in a 4 KiB segment. */
async function publishNumbered(conn: WarrenConnection, queue: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await conn.publish({ routingKey: queue, body: `msg-${String(i).padStart(3, '0')}|${'.'.repeat(1000)}`, properties: { persistent: true } });
  }
}

const segmentNames = (dataDir: string): string[] =>
  readdirSync(join(dataDir, 'messages'))
    .filter((name) => name.endsWith('.seg'))
    .sort();

describe('a lost segment file', () => {
  it('is named in the log at error level with what later records tell of it; every other message is recovered', async () => {
    const dataDir = tempDir();
    const warren = await start(dataDir, { segmentSize: 4096 });
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await publishNumbered(conn, 'q', 30);
    // Delivered once and requeued: Delivered records in the newest segment point back at every message.
    const reader = await warren.connect();
    for (let i = 0; i < 30; i++) await reader.get({ queue: 'q' });
    await reader.close();
    await stop(warren);

    const segments = segmentNames(dataDir);
    expect(segments.length).toBeGreaterThan(5);
    const lost = segments[2] as string;
    const lostBodies = readFileSync(join(dataDir, 'messages', lost))
      .toString('latin1')
      .match(/msg-\d{3}/g) as string[];
    expect(lostBodies.length).toBeGreaterThan(0);
    unlinkSync(join(dataDir, 'messages', lost));

    let broker = await startChild(dataDir, { WARREN_SEGMENT_SIZE: '4096' });
    const errors = logLines(broker.output()).filter((line) => line.level >= 50);
    expect(errors).toHaveLength(1);
    const report = errors[0] as LogLine;
    expect(report.msg).toContain(join(dataDir, 'messages', lost));
    expect(report.msg).toMatch(/continues with the other/);
    expect(report.msg).toMatch(new RegExp(`${lostBodies.length} delivered and not acknowledged`));

    const client = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    const left = (await drain(client, 'q')).map((text) => text.slice(0, 7));
    const expected = Array.from({ length: 30 }, (_, i) => `msg-${String(i).padStart(3, '0')}`).filter((id) => !lostBodies.includes(id));
    expect(left).toEqual(expected);
    await client.close();
    await stopChild(broker);

    // Reported once: the start that found the loss recorded the files that are there now.
    broker = await startChild(dataDir, { WARREN_SEGMENT_SIZE: '4096' });
    expect(logLines(broker.output()).filter((line) => line.level >= 50)).toEqual([]);
  });

  it('a segment the store deleted itself is not reported', async () => {
    const dataDir = tempDir();
    const warren = await start(dataDir, { segmentSize: 4096 });
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'keep', durable: true });
    await conn.queueDeclare({ queue: 'churn', durable: true });
    await conn.publish({ routingKey: 'keep', body: 'kept', properties: { persistent: true } });
    await publishNumbered(conn, 'churn', 30);
    expect(await drain(conn, 'churn')).toHaveLength(30);
    await warren.server.durable.messages.flush();
    await stop(warren);
    const segments = segmentNames(dataDir);
    // The segment with 'kept' stays; segments after it were deleted once their messages were acked.
    expect(segments[0]).toBe('0000000000000001.seg');
    expect(segments).not.toContain('0000000000000002.seg');
    expect(statSync(join(dataDir, 'messages', segments[0] as string)).size).toBeGreaterThan(0);

    const broker = await startChild(dataDir, { WARREN_SEGMENT_SIZE: '4096' });
    expect(logLines(broker.output()).filter((line) => line.level >= 50)).toEqual([]);
    const client = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    expect(await drain(client, 'keep')).toEqual(['kept']);
    await client.close();
  });
});

describe('telling a lost segment file from one the store deleted (segments.json)', () => {
  it('expects what the list names, and every number from its `next` up to the newest file there', () => {
    // 2 is gone though listed; 7 was created after the list (8 was) and the store did not delete it.
    expect(missingSegments([1, 2, 3, 5], 6, [1, 3, 5, 6, 8])).toEqual([[2, 2], [7, 7]]);
    // Written when the store had no segments: the oldest file after it is expected too.
    expect(missingSegments([], 1, [2, 3])).toEqual([[1, 1]]);
    // Numbers below `next` that the list leaves out were deleted by the store.
    expect(missingSegments([4], 9, [4, 9, 10])).toEqual([]);
    expect(missingSegments([4, 9], 10, [4])).toEqual([[9, 9]]);
  });

  it('reports nothing after a kill -9 in the middle of publishing, acking and deleting segments', async () => {
    const dataDir = tempDir();
    const env = { WARREN_SEGMENT_SIZE: '4096' };
    let broker = await startChild(dataDir, env);
    const client = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    await client.queueDeclare({ queue: 'keep', durable: true });
    await client.queueDeclare({ queue: 'churn', durable: true });
    await client.publish({ routingKey: 'keep', body: 'kept', properties: { persistent: true } });
    const until = Date.now() + 500;
    while (Date.now() < until) {
      await publishNumbered(client, 'churn', 5);
      for (let i = 0; i < 5; i++) (await client.get({ queue: 'churn' }))?.ack();
    }
    broker.child.kill('SIGKILL');
    await exited(broker.child);
    children.splice(children.indexOf(broker), 1);
    client.close().catch(() => undefined);
    // Segments were deleted out of order: there are gaps in the numbering.
    const numbers = segmentNames(dataDir).map((name) => Number(name.slice(0, 16)));
    expect(numbers.length).toBeLessThan(Math.max(...numbers) - 1);

    broker = await startChild(dataDir, env);
    expect(logLines(broker.output()).filter((line) => line.level >= 50)).toEqual([]);
    const again = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    expect(await drain(again, 'keep')).toEqual(['kept']);
    await again.close();
  });
});
