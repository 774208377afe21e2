/**
 * Queues over the wire: declaring (server-named, passive, inequivalent, reserved names, arguments),
 * exclusive and auto-delete lifecycles, delete (ifUnused/ifEmpty, cancelled consumers), purge and the
 * length limits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, drain, freshQueue, once, publishAll, RawSocket, readyCount, record, sync, uniqueName, withTimeout } from './support.js';

let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  warren = await startWarren();
  conn = await warren.connect();
});

afterEach(() => {
  closeRawSockets();
});

afterAll(async () => {
  await warren?.stop();
});

describe('queue.declare', () => {
  it('names a queue amq.gen-… when the name is empty, a fresh name each time', async () => {
    const a = await conn.queueDeclare();
    const b = await conn.queueDeclare({ queue: '' });
    expect(a.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(b.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(a.queue).not.toBe(b.queue);
    expect(a).toMatchObject({ messageCount: 0, consumerCount: 0 });
    // A server-named queue is an ordinary queue, bound to the default exchange by its name.
    expect(await conn.publish({ routingKey: a.queue, body: 'to gen' })).toEqual({ routed: true });
    expect(await conn.queueDeclare({ queue: a.queue, passive: true })).toEqual({ queue: a.queue, messageCount: 1, consumerCount: 0 });
    expect(await readyCount(conn, b.queue)).toBe(0);
  });

  it('reports ready messages and consumers, also to a re-declare by another connection', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['1', '2', '3']);
    const consumer = await collect(conn, { queue, prefetch: 1 });
    await consumer.waitFor(1);
    const other = await warren.connect();
    expect(await other.queueDeclare({ queue })).toEqual({ queue, messageCount: 2, consumerCount: 1 });
    expect(await other.queueDeclare({ queue, passive: true })).toEqual({ queue, messageCount: 2, consumerCount: 1 });
    await consumer.consumer.cancel();
    expect(await other.queueDeclare({ queue, passive: true })).toEqual({ queue, messageCount: 2, consumerCount: 0 });
  });

  it('passive: 404 for a missing queue, and creates nothing', async () => {
    const queue = uniqueName('missing');
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
    expect(await conn.publish({ routingKey: queue, body: 'x' })).toEqual({ routed: false });
  });

  it('403 for a new name starting amq.', async () => {
    await expect(conn.queueDeclare({ queue: 'amq.foo' })).rejects.toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
    await expect(conn.queueDeclare({ queue: 'amq.gen-mine' })).rejects.toMatchObject({ code: 403 });
    await expect(conn.queueDeclare({ queue: 'amq.foo', passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('406 when re-declaring with different durable, exclusive, autoDelete or arguments', async () => {
    const queue = uniqueName();
    await conn.queueDeclare({ queue, arguments: { 'x-max-length': 10, custom: 'a' } });
    const same = { queue, arguments: { 'x-max-length': 10, custom: 'a' } };
    const changes = [
      { durable: true },
      { exclusive: true },
      { autoDelete: true },
      { arguments: { 'x-max-length': 11, custom: 'a' } },
      { arguments: { 'x-max-length': 10, custom: 'b' } },
      { arguments: { 'x-max-length': 10 } },
      { arguments: { 'x-max-length': 10, custom: 'a', more: 1 } },
    ];
    for (const change of changes) {
      await expect(conn.queueDeclare({ ...same, ...change }), JSON.stringify(change)).rejects.toMatchObject({
        code: 406,
        reason: 'PRECONDITION_FAILED',
      });
    }
    expect(await conn.queueDeclare({ queue, arguments: { custom: 'a', 'x-max-length': 10 } })).toMatchObject({ queue });
    expect(conn.isOpen).toBe(true);
  });

  it.each([
    ['x-max-length', -1],
    ['x-max-length', 'ten'],
    ['x-max-length-bytes', 1.5],
    ['x-message-ttl', 'abc'],
    ['x-expires', 0],
    ['x-overflow', 'drop-tail'],
    ['x-max-priority', 256],
    ['x-single-active-consumer', 'yes'],
    ['x-queue-type', 'quorum'],
    ['x-queue-mode', 'eager'],
    ['x-queue-version', 3],
    ['x-dead-letter-exchange', 5],
    ['custom', null],
  ])('406 for an invalid %s (%j), and no queue is created', async (key, value) => {
    const queue = uniqueName();
    await expect(conn.queueDeclare({ queue, arguments: { [key]: value } })).rejects.toMatchObject({
      code: 406,
      reason: 'PRECONDITION_FAILED',
    });
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('406 for x-dead-letter-routing-key without x-dead-letter-exchange', async () => {
    const queue = uniqueName();
    await expect(conn.queueDeclare({ queue, arguments: { 'x-dead-letter-routing-key': 'k' } })).rejects.toMatchObject({ code: 406 });
    await conn.queueDeclare({ queue, arguments: { 'x-dead-letter-routing-key': 'k', 'x-dead-letter-exchange': 'dlx' } });
  });
});

describe('exclusive queues', () => {
  it('only the declaring connection may use it (405 for others)', async () => {
    const owner = await warren.connect();
    const other = await warren.connect();
    const queue = uniqueName('excl');
    await owner.queueDeclare({ queue, exclusive: true });
    await owner.queueDeclare({ queue, exclusive: true });
    await owner.queueDeclare({ queue, passive: true });

    const locked = { code: 405, reason: 'RESOURCE_LOCKED' };
    await expect(other.queueDeclare({ queue, passive: true })).rejects.toMatchObject(locked);
    await expect(other.queueDeclare({ queue, exclusive: true })).rejects.toMatchObject(locked);
    await expect(other.queueDeclare({ queue })).rejects.toMatchObject(locked);
    await expect(other.consume({ queue })).rejects.toMatchObject(locked);
    await expect(other.get({ queue })).rejects.toMatchObject(locked);
    await expect(other.queuePurge({ queue })).rejects.toMatchObject(locked);
    await expect(other.queueDelete({ queue })).rejects.toMatchObject(locked);
    await expect(other.queueBind({ queue, exchange: 'amq.fanout' })).rejects.toMatchObject(locked);

    // Publishing to it is allowed, and the owner gets the message.
    expect(await other.publish({ routingKey: queue, body: 'for the owner' })).toEqual({ routed: true });
    expect(await drain(owner, queue)).toEqual(['for the owner']);
    expect(other.isOpen).toBe(true);
  });

  it('is deleted when its connection closes; the name is then free', async () => {
    const owner = await warren.connect();
    const queue = uniqueName('excl');
    await owner.queueDeclare({ queue, exclusive: true });
    await owner.publish({ routingKey: queue, body: 'dies with the owner' });
    await owner.close();
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
    expect(await conn.queueDeclare({ queue })).toEqual({ queue, messageCount: 0, consumerCount: 0 });
  });

  it('is deleted when its connection drops without a close', async () => {
    const shared = await freshQueue(conn);
    const queue = uniqueName('excl');
    const owner = await RawSocket.connected(warren.wsUrl);
    expect(await owner.request({ op: 'queue.declare', queue, exclusive: true })).toMatchObject({ op: 'ok' });
    expect(await owner.request({ op: 'consume', queue: shared })).toMatchObject({ op: 'ok' });
    await conn.publish({ routingKey: shared, body: 'witness' });
    await owner.waitFor((f) => f.op === 'deliver');
    const witness = await collect(conn, { queue: shared });

    owner.terminate();
    // The requeued delivery proves the server has handled the disconnect.
    const [message] = await witness.waitFor(1);
    expect(message?.redelivered).toBe(true);
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
    await witness.consumer.cancel();
  });
});

describe('auto-delete queues', () => {
  it('lives until its last consumer is cancelled, once it has had one', async () => {
    const queue = uniqueName('auto');
    await conn.queueDeclare({ queue, autoDelete: true });
    await sync(conn);
    await conn.queueDeclare({ queue, passive: true });
    const first = await conn.consume({ queue });
    const second = await conn.consume({ queue });
    await first.cancel();
    expect(await conn.queueDeclare({ queue, passive: true })).toMatchObject({ consumerCount: 1 });
    await second.cancel();
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('is deleted when the connection of its last consumer closes', async () => {
    const queue = uniqueName('auto');
    await conn.queueDeclare({ queue, autoDelete: true });
    const consumerConn = await warren.connect();
    await consumerConn.consume({ queue });
    await consumerConn.close();
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('exclusive and auto-delete: deleted when its consumer is cancelled', async () => {
    const owner = await warren.connect();
    const { queue } = await owner.queueDeclare({ exclusive: true, autoDelete: true });
    const consumer = await owner.consume({ queue });
    await consumer.cancel();
    await expect(owner.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('exclusive and auto-delete: closing the owner requeues its unacked messages and deletes the queue', async () => {
    const shared = await freshQueue(conn);
    const owner = await warren.connect();
    const { queue } = await owner.queueDeclare({ exclusive: true, autoDelete: true });
    await owner.consume({ queue });
    const held = await collect(owner, { queue: shared });
    await conn.publish({ routingKey: shared, body: 'held by the owner' });
    await held.waitFor(1);

    await withTimeout(owner.close(), "the owner's close");
    expect(owner.isOpen).toBe(false);
    const message = await conn.get({ queue: shared, noAck: true });
    expect(message?.text()).toBe('held by the owner');
    expect(message?.redelivered).toBe(true);
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });
});

describe('queue.delete', () => {
  it('returns the number of ready messages; a missing queue deletes with 0', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['a', 'b', 'c']);
    expect(await conn.queueDelete({ queue })).toEqual({ messageCount: 3 });
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
    expect(await conn.queueDelete({ queue })).toEqual({ messageCount: 0 });
    expect(await conn.publish({ routingKey: queue, body: 'x' })).toEqual({ routed: false });
  });

  it('ifUnused: 406 while the queue has consumers, and nothing changes', async () => {
    const queue = await freshQueue(conn);
    const consumer = await collect(conn, { queue });
    await expect(conn.queueDelete({ queue, ifUnused: true })).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    await conn.publish({ routingKey: queue, body: 'still consumed' });
    expect((await consumer.waitFor(1)).map((m) => m.text())).toEqual(['still consumed']);
    await consumer.consumer.cancel();
    expect(await conn.queueDelete({ queue, ifUnused: true })).toEqual({ messageCount: 0 });
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('ifEmpty: 406 while the queue holds ready messages, and nothing changes', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['a', 'b']);
    await expect(conn.queueDelete({ queue, ifEmpty: true })).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    expect(await drain(conn, queue)).toEqual(['a', 'b']);
    expect(await conn.queueDelete({ queue, ifEmpty: true })).toEqual({ messageCount: 0 });
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('ifEmpty counts ready messages only, not unacked ones', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['unacked']);
    const got = await conn.get({ queue });
    expect(got?.text()).toBe('unacked');
    expect(await conn.queueDelete({ queue, ifEmpty: true })).toEqual({ messageCount: 0 });
    got?.ack();
    await sync(conn);
  });

  it('unacked deliveries of a deleted queue can still be settled, and never reach a new queue of the same name', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const errors = record(consumerConn, 'error');
    const c = await collect(consumerConn, { queue });
    await publishAll(conn, queue, ['a', 'b', 'c']);
    await c.waitFor(3);
    expect(await conn.queueDelete({ queue })).toEqual({ messageCount: 0 });
    await conn.queueDeclare({ queue });

    c.messages[0]?.ack();
    c.messages[1]?.nack({ requeue: true });
    await sync(consumerConn);
    expect(errors).toEqual([]);
    await consumerConn.close();
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('cancels the consumers of the deleted queue with a cancelled push', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const consumer = await consumerConn.consume({ queue, consumerTag: 'doomed' });
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'consume', queue, consumerTag: 'raw-doomed' })).toMatchObject({ op: 'ok', consumerTag: 'raw-doomed' });
    const cancelled = once(consumerConn, 'cancelled');
    await publishAll(conn, queue, ['x', 'y', 'z']);
    const deleted = await conn.queueDelete({ queue });

    expect(await cancelled).toBe('doomed');
    expect(consumer.active).toBe(false);
    expect(await raw.waitFor((f) => f.op === 'cancelled')).toEqual({ op: 'cancelled', consumerTag: 'raw-doomed' });
    // The consumers held the messages unacked, so none was ready.
    expect(deleted).toEqual({ messageCount: 0 });
    // The consumer tag is free again on that connection.
    const again = await freshQueue(consumerConn);
    expect((await consumerConn.consume({ queue: again, consumerTag: 'doomed' })).consumerTag).toBe('doomed');
  });
});

describe('queue.purge', () => {
  it('removes the ready messages, not the unacked ones, and says how many', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['1', '2', '3', '4']);
    const got = await conn.get({ queue });
    expect(got?.text()).toBe('1');
    expect(await conn.queuePurge({ queue })).toEqual({ messageCount: 3 });
    expect(await readyCount(conn, queue)).toBe(0);
    expect(await conn.queuePurge({ queue })).toEqual({ messageCount: 0 });

    got?.reject(true);
    await sync(conn);
    const back = await conn.get({ queue, noAck: true });
    expect(back?.text()).toBe('1');
    expect(back?.redelivered).toBe(true);
  });

  it('404 for a missing queue', async () => {
    await expect(conn.queuePurge({ queue: uniqueName('missing') })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
  });
});

describe('length limits', () => {
  it('x-max-length with the default drop-head drops the oldest messages', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-length': 2 } });
    for (const body of ['a', 'b', 'c', 'd']) expect(await conn.publish({ routingKey: queue, body })).toEqual({ routed: true });
    expect(await drain(conn, queue)).toEqual(['c', 'd']);
  });

  it('x-max-length-bytes drops from the head until the new message fits', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-length-bytes': 10, 'x-overflow': 'drop-head' } });
    await publishAll(conn, queue, ['12345', '67890', 'abc']);
    expect(await drain(conn, queue)).toEqual(['67890', 'abc']);
  });

  it('x-max-length 0 with drop-head accepts the publish and keeps nothing', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-length': 0 } });
    await expect(conn.publish({ routingKey: queue, body: 'dropped' })).resolves.toBeDefined();
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('x-overflow reject-publish refuses messages over the limit: the confirm becomes an error', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    expect(await conn.publish({ routingKey: queue, body: 'first' })).toEqual({ routed: true });
    await expect(conn.publish({ routingKey: queue, body: 'second' })).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    const errors = record(conn, 'error');
    conn.publishNoConfirm({ routingKey: queue, body: 'third' });
    await sync(conn);
    expect(errors).toEqual([]);
    expect(await drain(conn, queue)).toEqual(['first']);
    // With room again, publishes are accepted.
    expect(await conn.publish({ routingKey: queue, body: 'fourth' })).toEqual({ routed: true });
    expect(await drain(conn, queue)).toEqual(['fourth']);
    expect(conn.isOpen).toBe(true);
  });

  it('reject-publish counts ready messages only: unacked ones leave room', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    await publishAll(conn, queue, ['one']);
    const got = await conn.get({ queue });
    expect(await conn.publish({ routingKey: queue, body: 'two' })).toEqual({ routed: true });
    got?.ack();
    expect(await drain(conn, queue)).toEqual(['two']);
  });
});
