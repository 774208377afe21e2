/**
 * Settling deliveries: ack (single, multiple, all), nack and reject with and without requeue, the
 * position and `redelivered` flag of requeued messages, recover, get with and without ack, unknown
 * delivery tags, and requeueing when a connection goes away.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection, WarrenError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, drain, freshQueue, once, publishAll, RawSocket, readyCount, record, sync, uniqueName } from './support.js';

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

const numbered = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i + 1}`);

/** A fresh connection that fetched every message of a fresh queue of `n` with get (tags 1..n, unacked). */
async function holding(n: number): Promise<{ queue: string; c: WarrenConnection; errors: WarrenError[] }> {
  const queue = await freshQueue(conn);
  await publishAll(conn, queue, numbered(n));
  const c = await warren.connect();
  const errors = record(c, 'error');
  for (let i = 1; i <= n; i++) {
    const message = await c.get({ queue });
    expect(message?.deliveryTag).toBe(i);
  }
  return { queue, c, errors };
}

/** Messages a queue holds, as [body, redelivered] in queue order (drains it). */
async function contents(queue: string): Promise<Array<[string, boolean]>> {
  const out: Array<[string, boolean]> = [];
  for (;;) {
    const message = await conn.get({ queue, noAck: true });
    if (!message) return out;
    out.push([message.text(), message.redelivered]);
  }
}

describe('ack', () => {
  it('acks one delivery; the others stay unacked and come back on recover', async () => {
    const { queue, c, errors } = await holding(3);
    c.ack(2);
    await c.recover();
    expect(errors).toEqual([]);
    expect(await contents(queue)).toEqual([
      ['m1', true],
      ['m3', true],
    ]);
  });

  it('multiple acks every delivery up to and including the tag', async () => {
    const { queue, c, errors } = await holding(5);
    c.ack(3, true);
    await sync(c);
    expect(errors).toEqual([]);
    await c.recover();
    expect(await contents(queue)).toEqual([
      ['m4', true],
      ['m5', true],
    ]);
  });

  it('multiple with delivery tag 0 acks everything', async () => {
    const { queue, c, errors } = await holding(4);
    c.ack(0, true);
    await c.recover();
    expect(errors).toEqual([]);
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('406 for an unknown or already acked tag, and the connection stays usable', async () => {
    const { queue, c, errors } = await holding(2);
    c.ack(1);
    c.ack(1);
    c.ack(42);
    c.ack(42, true);
    c.ack(0);
    await sync(c);
    expect(errors.map((e) => [e.code, e.reason, e.ref])).toEqual([
      [406, 'PRECONDITION_FAILED', 'ack'],
      [406, 'PRECONDITION_FAILED', 'ack'],
      [406, 'PRECONDITION_FAILED', 'ack'],
      [406, 'PRECONDITION_FAILED', 'ack'],
    ]);
    expect(errors[1]?.message).toContain('42');
    expect(c.isOpen).toBe(true);
    // The failed acks changed nothing: tag 2 is still unacked and can be acked.
    await expect(c.request({ op: 'ack', deliveryTag: 2 })).resolves.toMatchObject({ op: 'ok' });
    await expect(c.request({ op: 'ack', deliveryTag: 2 })).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    await c.recover();
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('406 for a tag that was delivered to another connection', async () => {
    const { c } = await holding(1);
    const other = await warren.connect();
    const error = once(other, 'error');
    other.ack(1);
    expect(await error).toMatchObject({ code: 406, ref: 'ack' });
    await sync(c);
    await expect(c.request({ op: 'ack', deliveryTag: 1 })).resolves.toMatchObject({ op: 'ok' });
  });

  it('acked messages do not come back when the connection closes', async () => {
    const { queue, c } = await holding(3);
    c.ack(2);
    await c.close();
    expect(await contents(queue)).toEqual([
      ['m1', true],
      ['m3', true],
    ]);
  });
});

describe('nack and reject', () => {
  it('requeued messages go back to their original position, flagged redelivered', async () => {
    const { queue, c } = await holding(4);
    c.nack(3);
    c.nack(1);
    await sync(c);
    await publishAll(conn, queue, ['m5']);
    expect(await contents(queue)).toEqual([
      ['m1', true],
      ['m3', true],
      ['m5', false],
    ]);
    await c.close();
    expect(await contents(queue)).toEqual([
      ['m2', true],
      ['m4', true],
    ]);
  });

  it('a requeued message is delivered again before later ones, with a new tag', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const c = await collect(consumerConn, { queue, prefetch: 1 });
    await publishAll(conn, queue, ['first', 'second']);
    await c.waitFor(1);
    c.messages[0]?.nack();
    await c.waitFor(2);
    expect(c.messages.map((m) => [m.text(), m.redelivered, m.deliveryTag])).toEqual([
      ['first', false, 1],
      ['first', true, 2],
    ]);
    c.messages[1]?.ack();
    await c.waitFor(3);
    expect(c.messages[2]).toMatchObject({ redelivered: false, deliveryTag: 3 });
    expect(c.messages[2]?.text()).toBe('second');
  });

  it('nack multiple with requeue puts them all back in order', async () => {
    const { queue, c, errors } = await holding(4);
    c.nack(3, { multiple: true });
    await sync(c);
    expect(errors).toEqual([]);
    expect(await contents(queue)).toEqual([
      ['m1', true],
      ['m2', true],
      ['m3', true],
    ]);
    await c.recover();
    expect(await contents(queue)).toEqual([['m4', true]]);
  });

  it('nack without requeue drops the messages', async () => {
    const { queue, c, errors } = await holding(4);
    c.nack(2, { multiple: true, requeue: false });
    c.nack(4, { requeue: false });
    await sync(c);
    expect(errors).toEqual([]);
    expect(await readyCount(conn, queue)).toBe(0);
    await c.recover();
    expect(await contents(queue)).toEqual([['m3', true]]);
  });

  it('nack multiple with tag 0 settles everything', async () => {
    const { queue, c } = await holding(3);
    c.nack(0, { multiple: true, requeue: false });
    await c.recover();
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('reject requeues one delivery, or drops it with requeue false', async () => {
    const { queue, c, errors } = await holding(3);
    c.reject(2, true);
    c.reject(3, false);
    await sync(c);
    expect(errors).toEqual([]);
    expect(await contents(queue)).toEqual([['m2', true]]);
    await c.recover();
    expect(await contents(queue)).toEqual([['m1', true]]);
  });

  it('406 for nack and reject of unknown tags; the connection stays usable', async () => {
    const { c, errors } = await holding(1);
    c.nack(7);
    c.reject(8);
    c.nack(9, { multiple: true });
    await sync(c);
    expect(errors.map((e) => [e.code, e.ref])).toEqual([
      [406, 'nack'],
      [406, 'reject'],
      [406, 'nack'],
    ]);
    await expect(c.request({ op: 'reject', deliveryTag: 1, requeue: false })).resolves.toMatchObject({ op: 'ok' });
  });
});

describe('recover', () => {
  it('redelivers every unacked delivery of the connection, in order, with new tags', async () => {
    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const c = await collect(consumerConn, { queue });
    await publishAll(conn, queue, ['a', 'b']);
    await c.waitFor(2);
    await consumerConn.recover();
    await c.waitFor(4);
    expect(c.messages.map((m) => [m.text(), m.redelivered, m.deliveryTag])).toEqual([
      ['a', false, 1],
      ['b', false, 2],
      ['a', true, 3],
      ['b', true, 4],
    ]);
    // The old tags are settled by the recover.
    const error = once(consumerConn, 'error');
    consumerConn.ack(1);
    expect(await error).toMatchObject({ code: 406, ref: 'ack' });
  });

  it('recover with requeue false is not supported: 540', async () => {
    await expect(conn.recover(false)).rejects.toMatchObject({ code: 540, reason: 'NOT_IMPLEMENTED' });
    await sync(conn);
  });
});

describe('get', () => {
  it('returns null for an empty queue and 404 for a missing one', async () => {
    const queue = await freshQueue(conn);
    expect(await conn.get({ queue })).toBeNull();
    expect(await conn.request({ op: 'get', queue })).toMatchObject({ op: 'ok', message: null });
    await expect(conn.get({ queue: uniqueName('missing') })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
  });

  it('with ack: the reply carries the message and the count left; the message must be acked', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['one', 'two', 'three']);
    const c = await warren.connect();
    const reply = await c.request({ op: 'get', queue });
    expect(reply).toEqual({
      op: 'ok',
      id: expect.anything(),
      message: {
        deliveryTag: 1,
        redelivered: false,
        exchange: '',
        routingKey: queue,
        messageCount: 2,
        body: 'one',
        encoding: 'utf8',
        properties: {},
      },
    });
    const second = await c.get({ queue });
    expect(second).toMatchObject({ deliveryTag: 2, messageCount: 1 });
    expect(await readyCount(conn, queue)).toBe(1);

    second?.ack();
    // Tag 1 was never acked: it comes back when the connection closes.
    await c.close();
    expect(await contents(queue)).toEqual([
      ['one', true],
      ['three', false],
    ]);
  });

  it('with noAck: the message is gone at once and cannot be acked', async () => {
    const queue = await freshQueue(conn);
    await publishAll(conn, queue, ['one', 'two']);
    const c = await warren.connect();
    const errors = record(c, 'error');
    const first = await c.get({ queue, noAck: true });
    expect(first).toMatchObject({ redelivered: false, messageCount: 1 });
    expect(first?.text()).toBe('one');
    c.ack(first?.deliveryTag ?? 1);
    await sync(c);
    expect(errors.map((e) => e.code)).toEqual([406]);
    const second = await c.get({ queue, noAck: true });
    expect(second).toMatchObject({ messageCount: 0 });
    expect(second?.text()).toBe('two');
    await c.close();
    expect(await readyCount(conn, queue)).toBe(0);
  });
});

describe('disconnect', () => {
  it('requeues the unacked messages of a connection that drops, in their original order', async () => {
    const queue = await freshQueue(conn);
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'consume', queue, prefetch: 3 })).toMatchObject({ op: 'ok' });
    await publishAll(conn, queue, numbered(4));
    await raw.waitFor((f) => f.op === 'deliver' && f.body === 'm3');
    raw.send({ op: 'ack', deliveryTag: 2 });
    // m4 went to the raw consumer once m2 was acked.
    await raw.waitFor((f) => f.op === 'deliver' && f.body === 'm4');

    const witnessConn = await warren.connect();
    const witness = await collect(witnessConn, { queue });
    raw.terminate();
    await witness.waitFor(3);
    expect(witness.messages.map((m) => [m.text(), m.redelivered])).toEqual([
      ['m1', true],
      ['m3', true],
      ['m4', true],
    ]);
    await sync(witnessConn);
    expect(witness.messages).toHaveLength(3);
  });

  it('requeues on a clean close too, except what was acked', async () => {
    const queue = await freshQueue(conn);
    const c = await warren.connect();
    const held = await collect(c, { queue });
    await publishAll(conn, queue, numbered(3));
    await held.waitFor(3);
    held.messages[0]?.ack();
    await c.close();
    expect(await drain(conn, queue)).toEqual(['m2', 'm3']);
  });
});
