/**
 * Routing end to end: the four exchange types, exchange-to-exchange bindings (with a cycle), alternate
 * and internal exchanges, the reserved names, mandatory returns and publisher confirms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, drain, freshQueue, once, RawSocket, readyCount, record, sync, uniqueName } from './support.js';

let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  warren = await startWarren();
  conn = await warren.connect();
});

afterAll(async () => {
  closeRawSockets();
  await warren?.stop();
});

async function exchange(type: 'direct' | 'fanout' | 'topic' | 'headers', extra: { arguments?: Record<string, unknown>; internal?: boolean; autoDelete?: boolean } = {}): Promise<string> {
  const name = uniqueName(`x-${type}`);
  await conn.exchangeDeclare({ exchange: name, type, ...extra });
  return name;
}

async function queues(n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(await freshQueue(conn));
  return names;
}

/** Ready counts of the queues, in order. */
async function counts(names: string[]): Promise<number[]> {
  return Promise.all(names.map((q) => readyCount(conn, q)));
}

async function purgeAll(names: string[]): Promise<void> {
  for (const queue of names) await conn.queuePurge({ queue });
}

describe('exchange types', () => {
  it('direct routes on the exact routing key', async () => {
    const x = await exchange('direct');
    const [red1, green, red2] = (await queues(3)) as [string, string, string];
    await conn.queueBind({ queue: red1, exchange: x, routingKey: 'red' });
    await conn.queueBind({ queue: green, exchange: x, routingKey: 'green' });
    await conn.queueBind({ queue: red2, exchange: x, routingKey: 'red' });

    expect(await conn.publish({ exchange: x, routingKey: 'red', body: 'r' })).toEqual({ routed: true });
    expect(await counts([red1, green, red2])).toEqual([1, 0, 1]);
    expect(await conn.publish({ exchange: x, routingKey: 'RED', body: 'r' })).toEqual({ routed: false });
    expect(await conn.publish({ exchange: x, routingKey: 'red.x', body: 'r' })).toEqual({ routed: false });
    expect(await counts([red1, green, red2])).toEqual([1, 0, 1]);
    const [message] = [await conn.get({ queue: red1, noAck: true })];
    expect(message).toMatchObject({ exchange: x, routingKey: 'red' });
  });

  it('fanout routes to every bound queue whatever the key', async () => {
    const x = await exchange('fanout');
    const all = await queues(3);
    await conn.queueBind({ queue: all[0] as string, exchange: x, routingKey: 'a' });
    await conn.queueBind({ queue: all[1] as string, exchange: x, routingKey: 'b' });
    await conn.queueBind({ queue: all[2] as string, exchange: x });
    expect(await conn.publish({ exchange: x, routingKey: 'anything', body: 'f' })).toEqual({ routed: true });
    expect(await counts(all)).toEqual([1, 1, 1]);
  });

  it('topic matches * (one word) and # (zero or more words)', async () => {
    const x = await exchange('topic');
    const [nyse, stock, twoWords, exact] = (await queues(4)) as [string, string, string, string];
    await conn.queueBind({ queue: nyse, exchange: x, routingKey: 'stock.*.nyse' });
    await conn.queueBind({ queue: stock, exchange: x, routingKey: 'stock.#' });
    await conn.queueBind({ queue: twoWords, exchange: x, routingKey: '*.*' });
    await conn.queueBind({ queue: exact, exchange: x, routingKey: 'stock.ibm' });
    const all = [nyse, stock, twoWords, exact];

    const cases: Array<[string, number[]]> = [
      ['stock.ibm.nyse', [1, 1, 0, 0]],
      ['stock', [0, 1, 0, 0]],
      ['stock.ibm', [0, 1, 1, 1]],
      ['bond.ibm', [0, 0, 1, 0]],
      ['stock.ibm.nasdaq', [0, 1, 0, 0]],
      ['stock..nyse', [1, 1, 0, 0]],
      ['stocks.ibm.nyse', [0, 0, 0, 0]],
    ];
    for (const [key, expected] of cases) {
      await conn.publish({ exchange: x, routingKey: key, body: key });
      expect(await counts(all), key).toEqual(expected);
      await purgeAll(all);
    }
  });

  it('headers matches with x-match all and any, ignoring the routing key', async () => {
    const x = await exchange('headers');
    const [allQ, anyQ, emptyQ] = (await queues(3)) as [string, string, string];
    await conn.queueBind({ queue: allQ, exchange: x, arguments: { 'x-match': 'all', format: 'pdf', type: 'report' } });
    await conn.queueBind({ queue: anyQ, exchange: x, arguments: { 'x-match': 'any', format: 'pdf', type: 'log' } });
    await conn.queueBind({ queue: emptyQ, exchange: x, arguments: { 'x-match': 'any' } });
    const both = [allQ, anyQ, emptyQ];

    const cases: Array<[Record<string, unknown> | undefined, number[]]> = [
      [{ format: 'pdf', type: 'report' }, [1, 1, 0]],
      [{ format: 'pdf', type: 'report', extra: 1 }, [1, 1, 0]],
      [{ format: 'pdf' }, [0, 1, 0]],
      [{ type: 'log' }, [0, 1, 0]],
      [{ format: 'zip', type: 'report' }, [0, 0, 0]],
      [{ format: 'PDF' }, [0, 0, 0]],
      [undefined, [0, 0, 0]],
    ];
    for (const [headers, expected] of cases) {
      await conn.publish({ exchange: x, routingKey: 'ignored', body: 'h', properties: headers ? { headers } : {} });
      expect(await counts(both), JSON.stringify(headers)).toEqual(expected);
      await purgeAll(both);
    }
  });

  it('refuses a headers binding with an invalid x-match (406) and binds nothing', async () => {
    const x = await exchange('headers');
    const queue = await freshQueue(conn);
    await expect(
      conn.queueBind({ queue, exchange: x, arguments: { 'x-match': 'most', a: 1 } }),
    ).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    await conn.publish({ exchange: x, routingKey: '', body: 'h', properties: { headers: { a: 1 } } });
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('routes through the predeclared amq.* exchanges', async () => {
    const [d, f, t, h, m] = (await queues(5)) as [string, string, string, string, string];
    await conn.queueBind({ queue: d, exchange: 'amq.direct', routingKey: d });
    await conn.queueBind({ queue: f, exchange: 'amq.fanout' });
    await conn.queueBind({ queue: t, exchange: 'amq.topic', routingKey: `${t}.#` });
    await conn.queueBind({ queue: h, exchange: 'amq.headers', arguments: { key: h } });
    await conn.queueBind({ queue: m, exchange: 'amq.match', arguments: { key: m } });
    await conn.publish({ exchange: 'amq.direct', routingKey: d, body: '1' });
    await conn.publish({ exchange: 'amq.fanout', routingKey: 'x', body: '1' });
    await conn.publish({ exchange: 'amq.topic', routingKey: `${t}.a.b`, body: '1' });
    await conn.publish({ exchange: 'amq.headers', routingKey: '', body: '1', properties: { headers: { key: h } } });
    await conn.publish({ exchange: 'amq.match', routingKey: '', body: '1', properties: { headers: { key: m } } });
    expect(await counts([d, f, t, h, m])).toEqual([1, 1, 1, 1, 1]);
    for (const queue of [d, f, t, h, m]) await conn.queueDelete({ queue });
  });

  it('the default exchange routes to the queue named by the routing key', async () => {
    const queue = await freshQueue(conn);
    expect(await conn.publish({ routingKey: queue, body: 'direct to queue' })).toEqual({ routed: true });
    expect(await conn.publish({ exchange: '', routingKey: uniqueName('missing'), body: 'x' })).toEqual({ routed: false });
    const message = await conn.get({ queue, noAck: true });
    expect(message).toMatchObject({ exchange: '', routingKey: queue });
    expect(message?.text()).toBe('direct to queue');
  });
});

describe('bindings', () => {
  it('binding twice is a no-op, unbinding removes the binding, unbinding again is a no-op', async () => {
    const x = await exchange('direct');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x, routingKey: 'k' });
    await conn.queueBind({ queue, exchange: x, routingKey: 'k' });
    await conn.publish({ exchange: x, routingKey: 'k', body: 'once' });
    expect(await readyCount(conn, queue)).toBe(1);

    await conn.queueUnbind({ queue, exchange: x, routingKey: 'k' });
    expect(await conn.publish({ exchange: x, routingKey: 'k', body: 'gone' })).toEqual({ routed: false });
    await conn.queueUnbind({ queue, exchange: x, routingKey: 'k' });
    await conn.queueUnbind({ queue, exchange: x, routingKey: 'never-bound' });
    expect(await readyCount(conn, queue)).toBe(1);
  });

  it('bindings with different arguments are different bindings', async () => {
    const x = await exchange('headers');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x, arguments: { a: 1 } });
    await conn.queueBind({ queue, exchange: x, arguments: { b: 2 } });
    await conn.queueUnbind({ queue, exchange: x, arguments: { a: 1 } });
    await conn.publish({ exchange: x, routingKey: '', body: 'a', properties: { headers: { a: 1 } } });
    await conn.publish({ exchange: x, routingKey: '', body: 'b', properties: { headers: { b: 2 } } });
    expect(await drain(conn, queue)).toEqual(['b']);
  });

  it('404 when binding a missing queue or exchange', async () => {
    const x = await exchange('direct');
    const queue = await freshQueue(conn);
    const missing = uniqueName('missing');
    await expect(conn.queueBind({ queue: missing, exchange: x })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
    await expect(conn.queueBind({ queue, exchange: missing })).rejects.toMatchObject({ code: 404, reason: 'NOT_FOUND' });
    await expect(conn.queueUnbind({ queue, exchange: missing })).rejects.toMatchObject({ code: 404 });
    await expect(conn.exchangeBind({ destination: missing, source: x })).rejects.toMatchObject({ code: 404 });
    await expect(conn.exchangeBind({ destination: x, source: missing })).rejects.toMatchObject({ code: 404 });
  });

  it('403 when binding to or from the default exchange', async () => {
    const x = await exchange('direct');
    const queue = await freshQueue(conn);
    await expect(conn.queueBind({ queue, exchange: '', routingKey: 'k' })).rejects.toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
    await expect(conn.queueUnbind({ queue, exchange: '', routingKey: queue })).rejects.toMatchObject({ code: 403 });
    await expect(conn.exchangeBind({ destination: x, source: '' })).rejects.toMatchObject({ code: 403 });
    await expect(conn.exchangeBind({ destination: '', source: x })).rejects.toMatchObject({ code: 403 });
    await expect(conn.exchangeUnbind({ destination: x, source: '' })).rejects.toMatchObject({ code: 403 });
  });
});

describe('exchange-to-exchange', () => {
  it('routes through a chain of exchanges, each by its own type', async () => {
    const source = await exchange('direct');
    const middle = await exchange('topic');
    const queue = await freshQueue(conn);
    await conn.exchangeBind({ destination: middle, source, routingKey: 'a.b' });
    await conn.queueBind({ queue, exchange: middle, routingKey: 'a.*' });

    expect(await conn.publish({ exchange: source, routingKey: 'a.b', body: 'through' })).toEqual({ routed: true });
    expect(await conn.publish({ exchange: source, routingKey: 'a.c', body: 'stopped at source' })).toEqual({ routed: false });
    const message = await conn.get({ queue, noAck: true });
    expect(message).toMatchObject({ exchange: source, routingKey: 'a.b' });
    expect(await readyCount(conn, queue)).toBe(0);

    await conn.exchangeUnbind({ destination: middle, source, routingKey: 'a.b' });
    expect(await conn.publish({ exchange: source, routingKey: 'a.b', body: 'unbound' })).toEqual({ routed: false });
  });

  it('survives a cycle and delivers at most one copy to each queue', async () => {
    const x1 = await exchange('fanout');
    const x2 = await exchange('fanout');
    const x3 = await exchange('fanout');
    const [q1, q2, qBoth] = (await queues(3)) as [string, string, string];
    await conn.exchangeBind({ destination: x2, source: x1 });
    await conn.exchangeBind({ destination: x3, source: x2 });
    await conn.exchangeBind({ destination: x1, source: x3 });
    await conn.queueBind({ queue: q1, exchange: x1 });
    await conn.queueBind({ queue: q2, exchange: x2 });
    await conn.queueBind({ queue: qBoth, exchange: x1 });
    await conn.queueBind({ queue: qBoth, exchange: x3 });

    expect(await conn.publish({ exchange: x1, routingKey: '', body: 'loop' })).toEqual({ routed: true });
    expect(await conn.publish({ exchange: x2, routingKey: '', body: 'loop' })).toEqual({ routed: true });
    expect(await counts([q1, q2, qBoth])).toEqual([2, 2, 2]);
    await sync(conn);
    expect(conn.isOpen).toBe(true);
  });

  it('a self-binding does not duplicate', async () => {
    const x = await exchange('fanout');
    const queue = await freshQueue(conn);
    await conn.exchangeBind({ destination: x, source: x });
    await conn.queueBind({ queue, exchange: x });
    await conn.publish({ exchange: x, routingKey: '', body: 'self' });
    expect(await readyCount(conn, queue)).toBe(1);
  });

  it('deleting an exchange removes the bindings it is the destination of', async () => {
    const source = await exchange('fanout');
    const destination = await exchange('fanout');
    const queue = await freshQueue(conn);
    await conn.exchangeBind({ destination, source });
    await conn.queueBind({ queue, exchange: destination });
    await conn.exchangeDelete({ exchange: destination });
    // Source now has no binding left; re-declaring the destination must not revive the old one.
    await conn.exchangeDeclare({ exchange: destination, type: 'fanout' });
    await conn.queueBind({ queue, exchange: destination });
    expect(await conn.publish({ exchange: source, routingKey: '', body: 'x' })).toEqual({ routed: false });
    await conn.exchangeDelete({ exchange: source, ifUnused: true });
  });
});

describe('alternate and internal exchanges', () => {
  it('sends what an exchange cannot route to its alternate exchange', async () => {
    const ae = await exchange('fanout');
    const x = await exchange('direct', { arguments: { 'alternate-exchange': ae } });
    const [routed, unrouted] = (await queues(2)) as [string, string];
    await conn.queueBind({ queue: routed, exchange: x, routingKey: 'known' });
    await conn.queueBind({ queue: unrouted, exchange: ae });

    expect(await conn.publish({ exchange: x, routingKey: 'known', body: 'k' })).toEqual({ routed: true });
    expect(await counts([routed, unrouted])).toEqual([1, 0]);
    const returns = record(conn, 'return');
    expect(await conn.publish({ exchange: x, routingKey: 'unknown', body: 'u', mandatory: true })).toEqual({ routed: true });
    expect(await counts([routed, unrouted])).toEqual([1, 1]);
    expect(returns).toEqual([]);
    const message = await conn.get({ queue: unrouted, noAck: true });
    expect(message).toMatchObject({ exchange: x, routingKey: 'unknown' });
  });

  it('a missing alternate exchange just leaves the message unrouted', async () => {
    const x = await exchange('direct', { arguments: { 'alternate-exchange': uniqueName('not-declared') } });
    expect(await conn.publish({ exchange: x, routingKey: 'k', body: 'u' })).toEqual({ routed: false });
  });

  it('refuses an alternate-exchange that is not a string (406)', async () => {
    const name = uniqueName('x');
    await expect(
      conn.exchangeDeclare({ exchange: name, type: 'direct', arguments: { 'alternate-exchange': 42 } }),
    ).rejects.toMatchObject({ code: 406 });
    await expect(conn.exchangeDeclare({ exchange: name, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('an internal exchange refuses publishes (403) but routes what reaches it through a binding', async () => {
    const internal = await exchange('fanout', { internal: true });
    const front = await exchange('direct');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: internal });
    await conn.exchangeBind({ destination: internal, source: front, routingKey: 'in' });

    await expect(conn.publish({ exchange: internal, routingKey: '', body: 'direct' })).rejects.toMatchObject({
      code: 403,
      reason: 'ACCESS_REFUSED',
    });
    expect(await readyCount(conn, queue)).toBe(0);
    expect(await conn.publish({ exchange: front, routingKey: 'in', body: 'via binding' })).toEqual({ routed: true });
    expect(await drain(conn, queue)).toEqual(['via binding']);
  });
});

describe('exchange declare and delete', () => {
  it('403 for new amq.* names, the default exchange and deleting amq.* exchanges', async () => {
    await expect(conn.exchangeDeclare({ exchange: 'amq.foo', type: 'direct' })).rejects.toMatchObject({
      code: 403,
      reason: 'ACCESS_REFUSED',
    });
    await expect(conn.exchangeDeclare({ exchange: 'amq.foo', passive: true })).rejects.toMatchObject({ code: 404 });
    await expect(conn.exchangeDeclare({ exchange: '', type: 'direct' })).rejects.toMatchObject({ code: 403 });
    await expect(conn.exchangeDelete({ exchange: 'amq.direct' })).rejects.toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
    await expect(conn.exchangeDelete({ exchange: '' })).rejects.toMatchObject({ code: 403 });
    // amq.direct is still there and still routes.
    await conn.exchangeDeclare({ exchange: 'amq.direct', passive: true });
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: 'amq.direct', routingKey: queue });
    expect(await conn.publish({ exchange: 'amq.direct', routingKey: queue, body: 'x' })).toEqual({ routed: true });
  });

  it('re-declaring an amq.* exchange with its own properties succeeds', async () => {
    await conn.exchangeDeclare({ exchange: 'amq.direct', type: 'direct', durable: true });
    await conn.exchangeDeclare({ exchange: 'amq.topic', type: 'topic', durable: true });
    await expect(conn.exchangeDeclare({ exchange: 'amq.direct', type: 'direct' })).rejects.toMatchObject({ code: 406 });
  });

  it('passive declare: 404 for a missing exchange, other fields ignored for an existing one', async () => {
    await expect(conn.exchangeDeclare({ exchange: uniqueName('x'), passive: true })).rejects.toMatchObject({
      code: 404,
      reason: 'NOT_FOUND',
    });
    const x = await exchange('direct');
    await conn.exchangeDeclare({ exchange: x, type: 'fanout', durable: true, passive: true });
  });

  it('406 when re-declaring with a different type, durable, autoDelete, internal or arguments', async () => {
    const x = uniqueName('x');
    await conn.exchangeDeclare({ exchange: x, type: 'direct', arguments: { a: 1 } });
    const differing = [
      { type: 'topic' as const },
      { durable: true },
      { autoDelete: true },
      { internal: true },
      { arguments: { a: 2 } },
      { arguments: {} },
    ];
    for (const change of differing) {
      await expect(
        conn.exchangeDeclare({ exchange: x, type: 'direct', arguments: { a: 1 }, ...change }),
        JSON.stringify(change),
      ).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    }
    await conn.exchangeDeclare({ exchange: x, type: 'direct', arguments: { a: 1 } });
  });

  it('delete with ifUnused: 406 while the exchange has bindings, then deletes it', async () => {
    const x = await exchange('direct');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x, routingKey: 'k' });
    await expect(conn.exchangeDelete({ exchange: x, ifUnused: true })).rejects.toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    expect(await conn.publish({ exchange: x, routingKey: 'k', body: 'still bound' })).toEqual({ routed: true });

    await conn.queueUnbind({ queue, exchange: x, routingKey: 'k' });
    await conn.exchangeDelete({ exchange: x, ifUnused: true });
    await expect(conn.exchangeDeclare({ exchange: x, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('delete removes the exchange and its bindings; deleting a missing exchange succeeds', async () => {
    const x = await exchange('fanout');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x });
    await conn.exchangeDelete({ exchange: x });
    await expect(conn.publish({ exchange: x, routingKey: '', body: 'x' })).rejects.toMatchObject({ code: 404 });
    await conn.exchangeDelete({ exchange: x });
    await conn.exchangeDeclare({ exchange: x, type: 'fanout' });
    expect(await conn.publish({ exchange: x, routingKey: '', body: 'x' })).toEqual({ routed: false });
  });

  it('an auto-delete exchange goes when its last binding is removed, not before it had one', async () => {
    const x = await exchange('direct', { autoDelete: true });
    const queue = await freshQueue(conn);
    await conn.exchangeDeclare({ exchange: x, passive: true });
    await conn.queueBind({ queue, exchange: x, routingKey: 'a' });
    await conn.queueBind({ queue, exchange: x, routingKey: 'b' });
    await conn.queueUnbind({ queue, exchange: x, routingKey: 'a' });
    await conn.exchangeDeclare({ exchange: x, passive: true });
    await conn.queueUnbind({ queue, exchange: x, routingKey: 'b' });
    await expect(conn.exchangeDeclare({ exchange: x, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('an auto-delete exchange goes when the queue of its last binding is deleted', async () => {
    const x = await exchange('fanout', { autoDelete: true });
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x });
    await conn.queueDelete({ queue });
    await expect(conn.exchangeDeclare({ exchange: x, passive: true })).rejects.toMatchObject({ code: 404 });
  });
});

describe('publish: 404, mandatory returns and confirms', () => {
  it('404 when publishing to a missing exchange, with or without confirm', async () => {
    const missing = uniqueName('missing');
    await expect(conn.publish({ exchange: missing, routingKey: 'k', body: 'x' })).rejects.toMatchObject({
      code: 404,
      reason: 'NOT_FOUND',
    });
    const error = once(conn, 'error');
    conn.publishNoConfirm({ exchange: missing, routingKey: 'k', body: 'x' });
    expect(await error).toMatchObject({ code: 404, reason: 'NOT_FOUND', ref: 'publish' });
    await sync(conn);
  });

  it('confirms with routed true, or routed false for a dropped unroutable message', async () => {
    const x = await exchange('direct');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange: x, routingKey: 'k' });
    const returns = record(conn, 'return');
    expect(await conn.request({ op: 'publish', exchange: x, routingKey: 'k', body: 'r' })).toMatchObject({ op: 'ok', routed: true });
    expect(await conn.request({ op: 'publish', exchange: x, routingKey: 'nope', body: 'd' })).toMatchObject({ op: 'ok', routed: false });
    await sync(conn);
    expect(returns).toEqual([]);
    expect(await drain(conn, queue)).toEqual(['r']);
  });

  it('returns an unroutable mandatory message (312 NO_ROUTE) before its confirm', async () => {
    const x = await exchange('direct');
    const raw = await RawSocket.connected(warren.wsUrl);
    raw.send({
      op: 'publish',
      id: 'p1',
      exchange: x,
      routingKey: 'nowhere',
      body: 'bounce',
      mandatory: true,
      properties: { messageId: 'm-1', headers: { h: 'v' } },
    });
    expect(await raw.next()).toEqual({
      op: 'return',
      replyCode: 312,
      replyText: 'NO_ROUTE',
      exchange: x,
      routingKey: 'nowhere',
      body: 'bounce',
      encoding: 'utf8',
      properties: { messageId: 'm-1', headers: { h: 'v' } },
    });
    expect(await raw.next()).toEqual({ op: 'ok', id: 'p1', routed: false });
    raw.close();
  });

  it('the client hands out the returned message and then resolves the confirm with routed false', async () => {
    const x = await exchange('direct');
    const returned = once(conn, 'return');
    expect(await conn.publish({ exchange: x, routingKey: 'nowhere', body: 'bounce', mandatory: true })).toEqual({ routed: false });
    const message = await returned;
    expect(message.replyCode).toBe(312);
    expect(message.replyText).toBe('NO_ROUTE');
    expect(message).toMatchObject({ exchange: x, routingKey: 'nowhere' });
    expect(message.text()).toBe('bounce');
  });

  it('returns an unroutable mandatory message published without a confirm', async () => {
    const queue = uniqueName('no-such-queue');
    const returned = once(conn, 'return');
    conn.publishNoConfirm({ routingKey: queue, body: 'no confirm', mandatory: true });
    const message = await returned;
    expect(message).toMatchObject({ replyCode: 312, exchange: '', routingKey: queue });
  });

  it('does not return a mandatory message that was routed', async () => {
    const queue = await freshQueue(conn);
    const returns = record(conn, 'return');
    expect(await conn.publish({ routingKey: queue, body: 'ok', mandatory: true })).toEqual({ routed: true });
    await sync(conn);
    expect(returns).toEqual([]);
  });

  it('a return goes to the publishing connection only', async () => {
    const other = await warren.connect();
    const otherReturns = record(other, 'return');
    const mine = once(conn, 'return');
    await conn.publish({ routingKey: uniqueName('none'), body: 'mine', mandatory: true });
    await mine;
    await sync(other);
    expect(otherReturns).toEqual([]);
  });
});
