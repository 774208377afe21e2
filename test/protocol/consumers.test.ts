/**
 * Consumers: prefetch limits, round-robin, consumer tags, cancel, delivery frames and tags, exclusive
 * consumers, single-active-consumer and consumer priorities.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, freshQueue, publishAll, RawSocket, readyCount, record, sync, uniqueName } from './support.js';

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

const numbered = (n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('prefetch', () => {
  it('qos 2: exactly 2 outstanding deliveries until an ack', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    await consumerConn.qos(2);
    const c = await collect(consumerConn, { queue });
    await publishAll(conn, queue, numbered(5));
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['m1', 'm2']);
    expect(await readyCount(conn, queue)).toBe(3);

    c.messages[0]?.ack();
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['m1', 'm2', 'm3']);
    await sync(consumerConn);
    expect(c.messages).toHaveLength(3);

    c.messages[1]?.ack();
    c.messages[2]?.ack();
    await sync(consumerConn);
    expect(c.bodies()).toEqual(numbered(5));
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('a nack with requeue also frees a slot', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const c = await collect(consumerConn, { queue, prefetch: 1 });
    await publishAll(conn, queue, ['a', 'b']);
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['a']);
    c.messages[0]?.nack({ requeue: false });
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['a', 'b']);
  });

  it('consume prefetch overrides qos; qos applies to consumers started after it', async () => {
    const queueA = await freshQueue(conn);
    const queueB = await freshQueue(conn);
    const queueC = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const unlimited = await collect(consumerConn, { queue: queueA });
    await consumerConn.qos(1);
    const limited = await collect(consumerConn, { queue: queueB });
    const overridden = await collect(consumerConn, { queue: queueC, prefetch: 3 });
    await publishAll(conn, queueA, numbered(4));
    await publishAll(conn, queueB, numbered(4));
    await publishAll(conn, queueC, numbered(4));
    await sync(consumerConn);
    expect(unlimited.messages).toHaveLength(4);
    expect(limited.messages).toHaveLength(1);
    expect(overridden.messages).toHaveLength(3);
  });

  it('prefetch 0 is unlimited; noAck consumers ignore prefetch', async () => {
    const queue = await freshQueue(conn);
    const noAckQueue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const unlimited = await collect(consumerConn, { queue, prefetch: 0 });
    const noAck = await collect(consumerConn, { queue: noAckQueue, noAck: true, prefetch: 1 });
    await publishAll(conn, queue, numbered(20));
    await publishAll(conn, noAckQueue, numbered(5));
    await sync(consumerConn);
    expect(unlimited.messages).toHaveLength(20);
    expect(noAck.bodies()).toEqual(numbered(5));
    expect(await readyCount(conn, noAckQueue)).toBe(0);
  });

  it('get does not count against a consumer prefetch', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    await publishAll(conn, queue, ['got', 'delivered']);
    const got = await consumerConn.get({ queue });
    expect(got?.text()).toBe('got');
    const c = await collect(consumerConn, { queue, prefetch: 1 });
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['delivered']);
  });
});

describe('round-robin', () => {
  it('serves 3 consumers of one queue in turn', async () => {
    const queue = await freshQueue(conn);
    const collectors = [];
    for (let i = 0; i < 3; i++) collectors.push(await collect(await warren.connect(), { queue }));
    await publishAll(conn, queue, numbered(9));
    for (const c of collectors) await c.waitFor(3);
    expect(collectors.map((c) => c.bodies())).toEqual([
      ['m1', 'm4', 'm7'],
      ['m2', 'm5', 'm8'],
      ['m3', 'm6', 'm9'],
    ]);
  });

  it('skips a consumer that is at its prefetch limit', async () => {
    const queue = await freshQueue(conn);
    const full = await collect(conn, { queue, prefetch: 1 });
    const roomy = await collect(conn, { queue });
    await publishAll(conn, queue, numbered(4));
    await sync(conn);
    expect(full.bodies()).toEqual(['m1']);
    expect(roomy.bodies()).toEqual(['m2', 'm3', 'm4']);
    await full.consumer.cancel();
    await roomy.consumer.cancel();
  });
});

describe('consume and cancel', () => {
  it('404 when consuming from a missing queue; the connection stays usable', async () => {
    await expect(conn.consume({ queue: uniqueName('missing') })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
    await sync(conn);
  });

  it('chooses amq.ctag-… tags, keeps the client’s, refuses a tag in use on the connection (530)', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const chosen = await consumerConn.consume({ queue });
    expect(chosen.consumerTag).toMatch(/^amq\.ctag-[A-Za-z0-9_-]{22}$/);
    const empty = await consumerConn.consume({ queue, consumerTag: '' });
    expect(empty.consumerTag).toMatch(/^amq\.ctag-/);
    expect(empty.consumerTag).not.toBe(chosen.consumerTag);
    const mine = await consumerConn.consume({ queue, consumerTag: 'my-tag' });
    expect(mine.consumerTag).toBe('my-tag');

    await expect(consumerConn.consume({ queue, consumerTag: 'my-tag' })).rejects.toMatchObject({ code: 530, reason: 'NOT_ALLOWED' });
    expect(await readyCount(conn, queue)).toBe(0);
    expect(await conn.queueDeclare({ queue, passive: true })).toMatchObject({ consumerCount: 3 });
    // Tags are per connection.
    const elsewhere = await warren.connect();
    expect((await elsewhere.consume({ queue, consumerTag: 'my-tag' })).consumerTag).toBe('my-tag');
  });

  it('sends consume-ok before the first delivery, and delivery frames carry every field', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['waiting 1', 'waiting 2']);
    const raw = await RawSocket.connected(warren.wsUrl);
    raw.send({ op: 'consume', id: 'c1', queue, consumerTag: 'raw' });
    expect(await raw.next()).toEqual({ op: 'ok', id: 'c1', consumerTag: 'raw' });
    expect(await raw.next()).toEqual({
      op: 'deliver',
      consumerTag: 'raw',
      deliveryTag: 1,
      redelivered: false,
      exchange: '',
      routingKey: queue,
      body: 'waiting 1',
      encoding: 'utf8',
      properties: {},
    });
    expect(await raw.next()).toMatchObject({ op: 'deliver', deliveryTag: 2, body: 'waiting 2' });
  });

  it('cancel stops deliveries; unacked deliveries stay unacked and can still be acked', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const errors = record(consumerConn, 'error');
    const c = await collect(consumerConn, { queue });
    await publishAll(conn, queue, ['before']);
    await c.waitFor(1);
    await c.consumer.cancel();
    expect(c.consumer.active).toBe(false);
    await publishAll(conn, queue, ['after']);
    await sync(consumerConn);
    expect(c.bodies()).toEqual(['before']);
    expect(await conn.queueDeclare({ queue, passive: true })).toEqual({ queue, messageCount: 1, consumerCount: 0 });

    c.messages[0]?.ack();
    await sync(consumerConn);
    expect(errors).toEqual([]);
    // Acked, so closing the connection does not bring it back.
    await consumerConn.close();
    expect(await readyCount(conn, queue)).toBe(1);
  });

  it('cancelling an unknown consumer tag succeeds', async () => {
    expect(await conn.request({ op: 'cancel', consumerTag: 'never-existed' })).toEqual({ op: 'ok', id: expect.anything() });
  });
});

describe('delivery tags', () => {
  it('are per connection, start at 1 and increase by one per delivery and per get', async () => {
    const queueA = await freshQueue(conn);
    const queueB = await freshQueue(conn);
    const a = await warren.connect();
    const b = await warren.connect();
    await publishAll(conn, queueA, numbered(3));
    await publishAll(conn, queueB, numbered(5));
    const ca = await collect(a, { queue: queueA });
    const cb = await collect(b, { queue: queueB, prefetch: 2 });
    await ca.waitFor(3);
    await cb.waitFor(2);
    expect(ca.messages.map((m) => m.deliveryTag)).toEqual([1, 2, 3]);
    expect(cb.messages.map((m) => m.deliveryTag)).toEqual([1, 2]);

    await cb.consumer.cancel();
    const got = await b.get({ queue: queueB });
    expect(got?.deliveryTag).toBe(3);
    const c2 = await collect(b, { queue: queueB, prefetch: 1 });
    await c2.waitFor(1);
    expect(c2.messages[0]?.deliveryTag).toBe(4);
  });

  it('a noAck consumer gets increasing tags as well', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    await publishAll(conn, queue, numbered(3));
    const c = await collect(consumerConn, { queue, noAck: true });
    await c.waitFor(3);
    expect(c.messages.map((m) => m.deliveryTag)).toEqual([1, 2, 3]);
  });
});

describe('exclusive consumers', () => {
  it('while a consumer is exclusive, every other consume is refused with 403', async () => {
    const queue = await freshQueue(conn);
    const holder = await warren.connect();
    const other = await warren.connect();
    const exclusive = await collect(holder, { queue, exclusive: true });

    await expect(other.consume({ queue })).rejects.toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
    await expect(other.consume({ queue, exclusive: true })).rejects.toMatchObject({ code: 403 });
    await expect(holder.consume({ queue })).rejects.toMatchObject({ code: 403 });
    expect(await conn.queueDeclare({ queue, passive: true })).toMatchObject({ consumerCount: 1 });

    await publishAll(conn, queue, ['only mine']);
    await exclusive.waitFor(1);
    expect(exclusive.bodies()).toEqual(['only mine']);

    await exclusive.consumer.cancel();
    const next = await collect(other, { queue });
    await publishAll(conn, queue, ['now yours']);
    expect((await next.waitFor(1)).map((m) => m.text())).toEqual(['now yours']);
  });

  it('an exclusive consume is refused (403) when the queue already has a consumer', async () => {
    const queue = await freshQueue(conn);
    const first = await warren.connect();
    await first.consume({ queue });
    const other = await warren.connect();
    await expect(other.consume({ queue, exclusive: true })).rejects.toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
    expect(await conn.queueDeclare({ queue, passive: true })).toMatchObject({ consumerCount: 1 });
    await sync(other);
  });
});

describe('single active consumer', () => {
  it('delivers to the first consumer only; the next takes over when it goes', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-single-active-consumer': true } });
    const firstConn = await warren.connect();
    const secondConn = await warren.connect();
    const first = await collect(firstConn, { queue, prefetch: 2 });
    const second = await collect(secondConn, { queue });
    await publishAll(conn, queue, numbered(4));
    await sync(firstConn);
    await sync(secondConn);
    // The active consumer is at its prefetch; the other one still gets nothing.
    expect(first.bodies()).toEqual(['m1', 'm2']);
    expect(second.messages).toEqual([]);

    first.messages[0]?.ack();
    await sync(firstConn);
    await sync(secondConn);
    expect(first.bodies()).toEqual(['m1', 'm2', 'm3']);
    expect(second.messages).toEqual([]);

    // The active consumer's connection goes: its unacked messages and the rest go to the next in line.
    await firstConn.close();
    await second.waitFor(3);
    expect(second.bodies()).toEqual(['m2', 'm3', 'm4']);
    expect(second.messages.map((m) => m.redelivered)).toEqual([true, true, false]);
  });

  it('a cancelled active consumer hands over to the next', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-single-active-consumer': true } });
    const first = await collect(conn, { queue });
    const second = await collect(conn, { queue });
    await publishAll(conn, queue, ['a', 'b']);
    await sync(conn);
    expect(first.bodies()).toEqual(['a', 'b']);
    expect(second.messages).toEqual([]);
    await first.consumer.cancel();
    await publishAll(conn, queue, ['c']);
    await sync(conn);
    expect(second.bodies()).toEqual(['c']);
    await second.consumer.cancel();
  });
});

describe('consumer priorities', () => {
  it('serves a higher x-priority consumer first while it has capacity', async () => {
    const queue = await freshQueue(conn);
    const lowConn = await warren.connect();
    const highConn = await warren.connect();
    const low = await collect(lowConn, { queue });
    const high = await collect(highConn, { queue, prefetch: 2, arguments: { 'x-priority': 10 } });
    await publishAll(conn, queue, numbered(4));
    await sync(lowConn);
    await sync(highConn);
    expect(high.bodies()).toEqual(['m1', 'm2']);
    expect(low.bodies()).toEqual(['m3', 'm4']);

    high.messages[0]?.ack();
    await sync(highConn);
    await publishAll(conn, queue, ['m5']);
    await sync(lowConn);
    await sync(highConn);
    expect(high.bodies()).toEqual(['m1', 'm2', 'm5']);
    expect(low.bodies()).toEqual(['m3', 'm4']);
  });

  it('consumers of equal priority share round-robin', async () => {
    const queue = await freshQueue(conn);
    const a = await collect(conn, { queue, arguments: { 'x-priority': 5 } });
    const b = await collect(conn, { queue, arguments: { 'x-priority': 5 } });
    const low = await collect(conn, { queue, arguments: { 'x-priority': 1 } });
    await publishAll(conn, queue, numbered(4));
    await sync(conn);
    expect(a.bodies()).toEqual(['m1', 'm3']);
    expect(b.bodies()).toEqual(['m2', 'm4']);
    expect(low.messages).toEqual([]);
    for (const c of [a, b, low]) await c.consumer.cancel();
  });
});
