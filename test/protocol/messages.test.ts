/**
 * Message content over the wire: text and binary bodies (utf8/base64), every message property, the
 * `persistent` shorthand, and the maximum body size.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MessageProperties, type WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, freshQueue, once, RawSocket, readyCount, record, sync } from './support.js';

describe('bodies and properties', () => {
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

  /** Publishes through the wire and returns the raw `message` of a get reply. */
  async function roundTrip(publish: Record<string, unknown>): Promise<Record<string, unknown>> {
    const queue = await freshQueue(conn);
    expect(await conn.request({ op: 'publish', routingKey: queue, ...publish })).toMatchObject({ routed: true });
    const reply = await conn.request({ op: 'get', queue, noAck: true });
    return reply.message as Record<string, unknown>;
  }

  it.each([
    ['plain text', 'hello'],
    ['an empty body', ''],
    ['non-ASCII text', 'héllo wörld ☃ 日本語 😀'],
    ['quotes, backslashes and control characters', '"quoted" \\ back\nnew\tline \u0000 nul'],
    ['JSON text', JSON.stringify({ a: [1, 2, { b: null }] })],
  ])('a utf8 body with %s arrives as the same utf8 text', async (_what, body) => {
    const message = await roundTrip({ body });
    expect(message.body).toBe(body);
    expect(message.encoding).toBe('utf8');
  });

  it('a binary body travels base64 and arrives byte for byte', async () => {
    const bytes = new Uint8Array(512);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 255) % 256;
    bytes[0] = 0xff; // never valid UTF-8
    const queue = await freshQueue(conn);
    const c = await collect(conn, { queue, noAck: true });
    expect(await conn.publish({ routingKey: queue, body: bytes })).toEqual({ routed: true });
    const [message] = await c.waitFor(1);
    expect(message?.body).toEqual(bytes);
    await c.consumer.cancel();

    const raw = await roundTrip({ body: Buffer.from(bytes).toString('base64'), encoding: 'base64' });
    expect(raw.encoding).toBe('base64');
    expect(raw.body).toBe(Buffer.from(bytes).toString('base64'));
  });

  it('every byte value survives, in a large random body as well', async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const random = new Uint8Array(randomBytes(200_000));
    random[1] = 0xc3; // an invalid UTF-8 sequence somewhere
    random[2] = 0x28;
    for (const bytes of [all, random]) {
      const queue = await freshQueue(conn);
      await conn.publish({ routingKey: queue, body: bytes });
      const message = await conn.get({ queue, noAck: true });
      expect(message?.body.length).toBe(bytes.length);
      expect(Buffer.from(message?.body ?? []).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('base64 bodies that are valid UTF-8 arrive as utf8 text', async () => {
    const text = 'ünïcødé ✓';
    const message = await roundTrip({ body: Buffer.from(text).toString('base64'), encoding: 'base64' });
    expect(message).toMatchObject({ body: text, encoding: 'utf8' });
    expect(await roundTrip({ body: '', encoding: 'base64' })).toMatchObject({ body: '' });
  });

  it('every property round trips; persistent becomes deliveryMode 2', async () => {
    const properties: MessageProperties = {
      contentType: 'application/json',
      contentEncoding: 'gzip',
      headers: { str: 's', num: 42, float: 1.5, bool: false, nil: null, list: [1, 'two', { three: 3 }], nested: { deep: { er: true } } },
      persistent: true,
      priority: 7,
      correlationId: 'corr-1',
      replyTo: 'reply-queue',
      expiration: '60000',
      messageId: 'msg-1',
      timestamp: 1_700_000_000,
      type: 'order.created',
      userId: 'guest',
      appId: 'warren-tests',
    };
    const expected = { ...properties, deliveryMode: 2, persistent: true };

    const queue = await freshQueue(conn);
    const consumerConn = await warren.connect();
    const c = await collect(consumerConn, { queue, noAck: true });
    await conn.publish({ routingKey: queue, body: 'props', properties });
    const [delivered] = await c.waitFor(1);
    expect(delivered?.properties).toEqual(expected);
    await c.consumer.cancel();

    await conn.publish({ routingKey: queue, body: 'props', properties });
    expect((await conn.get({ queue, noAck: true }))?.properties).toEqual(expected);

    const returned = once(conn, 'return');
    await conn.publish({ routingKey: `${queue}-nowhere`, body: 'props', mandatory: true, properties });
    expect((await returned).properties).toEqual(expected);
  });

  it('deliveryMode and persistent describe each other on the way out', async () => {
    expect((await roundTrip({ body: 'x', properties: { persistent: false } })).properties).toEqual({ deliveryMode: 1, persistent: false });
    expect((await roundTrip({ body: 'x', properties: { deliveryMode: 2 } })).properties).toEqual({ deliveryMode: 2, persistent: true });
    expect((await roundTrip({ body: 'x', properties: { deliveryMode: 1 } })).properties).toEqual({ deliveryMode: 1, persistent: false });
    expect((await roundTrip({ body: 'x', properties: { deliveryMode: 2, persistent: true } })).properties).toEqual({
      deliveryMode: 2,
      persistent: true,
    });
    expect((await roundTrip({ body: 'x' })).properties).toEqual({});
    expect((await roundTrip({ body: 'x', properties: { headers: {} } })).properties).toEqual({ headers: {} });
  });

  it('a message routed to several queues arrives identical in each', async () => {
    const exchange = `fan-${Date.now()}`;
    await conn.exchangeDeclare({ exchange, type: 'fanout' });
    const a = await freshQueue(conn);
    const b = await freshQueue(conn);
    await conn.queueBind({ queue: a, exchange });
    await conn.queueBind({ queue: b, exchange });
    const bytes = Uint8Array.from([0, 1, 2, 0xfe, 0xff]);
    await conn.publish({ exchange, routingKey: 'rk', body: bytes, properties: { messageId: 'same' } });
    for (const queue of [a, b]) {
      const message = await conn.get({ queue, noAck: true });
      expect(message).toMatchObject({ exchange, routingKey: 'rk', properties: { messageId: 'same' } });
      expect(message?.body).toEqual(bytes);
    }
  });
});

describe('maximum body size', () => {
  let warren: RunningWarren;
  let conn: WarrenConnection;

  beforeAll(async () => {
    warren = await startWarren({ maxBodySize: 1024 });
    conn = await warren.connect();
  });

  afterAll(async () => {
    closeRawSockets();
    await warren?.stop();
  });

  it('accepts a body of exactly the maximum', async () => {
    const queue = await freshQueue(conn);
    expect(await conn.publish({ routingKey: queue, body: 'x'.repeat(1024) })).toEqual({ routed: true });
    expect(await conn.publish({ routingKey: queue, body: new Uint8Array(1024).fill(0xff) })).toEqual({ routed: true });
    expect(await readyCount(conn, queue)).toBe(2);
  });

  it('refuses a larger body with 311 CONTENT_TOO_LARGE, and enqueues nothing', async () => {
    const queue = await freshQueue(conn);
    await expect(conn.publish({ routingKey: queue, body: 'x'.repeat(1025) })).rejects.toMatchObject({
      code: 311,
      reason: 'CONTENT_TOO_LARGE',
    });
    // Bytes count, not characters: 513 two-byte characters are 1026 bytes.
    await expect(conn.publish({ routingKey: queue, body: 'é'.repeat(513) })).rejects.toMatchObject({ code: 311 });
    // The decoded size counts for base64.
    await expect(conn.publish({ routingKey: queue, body: new Uint8Array(1025) })).rejects.toMatchObject({ code: 311 });
    expect(await readyCount(conn, queue)).toBe(0);
  });

  it('without a confirm, the 311 arrives as an error naming publish; the connection stays usable', async () => {
    const queue = await freshQueue(conn);
    const errors = record(conn, 'error');
    const returns = record(conn, 'return');
    conn.publishNoConfirm({ routingKey: queue, body: 'y'.repeat(2000), mandatory: true });
    await sync(conn);
    expect(errors.map((e) => [e.code, e.reason, e.ref])).toEqual([[311, 'CONTENT_TOO_LARGE', 'publish']]);
    expect(returns).toEqual([]);
    expect(await conn.publish({ routingKey: queue, body: 'small' })).toEqual({ routed: true });
    expect(await readyCount(conn, queue)).toBe(1);
  });

  it('answers the raw frame with the request id', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'publish', routingKey: 'q', body: 'z'.repeat(5000) })).toMatchObject({
      op: 'error',
      code: 311,
      reason: 'CONTENT_TOO_LARGE',
    });
    expect(await raw.request({ op: 'queue.declare' })).toMatchObject({ op: 'ok' });
  });
});
