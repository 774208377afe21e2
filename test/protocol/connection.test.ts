/**
 * Connection lifecycle over a real server: the `connect` handshake and its failures, heartbeats, the
 * `close` operation, and a clean broker shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarrenError, type CloseInfo } from '../../src/client/index.js';
import { VERSION } from '../../src/version.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, freshQueue, once, RawSocket, sync, uniqueName } from './support.js';

describe('connect handshake', () => {
  let warren: RunningWarren;

  beforeAll(async () => {
    warren = await startWarren();
  });

  afterAll(async () => {
    closeRawSockets();
    await warren?.stop();
  });

  it('answers connect with the server, its version and the heartbeat', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'connect', id: 1, username: 'guest', password: 'guest' });
    expect(await raw.next()).toEqual({ op: 'ok', id: 1, server: 'warren', version: VERSION, heartbeat: 30 });
    raw.close();
  });

  it('negotiates the heartbeat: the lower non-zero value, 0 only if both are 0', async () => {
    expect((await warren.connect({ heartbeat: 10 })).serverInfo.heartbeat).toBe(10);
    expect((await warren.connect({ heartbeat: 60 })).serverInfo.heartbeat).toBe(30);
    expect((await warren.connect({ heartbeat: 0 })).serverInfo.heartbeat).toBe(30);
  });

  it('answers any frame before connect with 530, sends a close push and closes the socket', async () => {
    const queue = uniqueName();
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'queue.declare', id: 'early', queue });
    expect(await raw.next()).toMatchObject({ op: 'error', id: 'early', code: 530, reason: 'NOT_ALLOWED' });
    expect(await raw.next()).toMatchObject({ op: 'close', code: 530, reason: 'NOT_ALLOWED' });
    await raw.closed;
    expect(raw.frames).toHaveLength(2);

    // Nothing happened on the broker.
    const conn = await warren.connect();
    await expect(conn.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('names the operation of an id-less frame sent before connect', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'publish', routingKey: 'x', body: 'early' });
    expect(await raw.next()).toMatchObject({ op: 'error', ref: 'publish', code: 530, reason: 'NOT_ALLOWED' });
    expect(await raw.next()).toMatchObject({ op: 'close', code: 530 });
    await raw.closed;
  });

  it('answers a malformed frame before connect with an error and closes the connection', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send('{"op":"connect"');
    expect(await raw.next()).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(await raw.next()).toMatchObject({ op: 'close' });
    await raw.closed;
  });

  it('answers a binary frame before connect with an error and closes the connection', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.sendBinary(new TextEncoder().encode('{"op":"connect","username":"guest","password":"guest"}'));
    expect(await raw.next()).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(await raw.next()).toMatchObject({ op: 'close' });
    await raw.closed;
  });

  it('refuses bad credentials with 403 ACCESS_REFUSED and closes the connection', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'connect', id: 1, username: 'guest', password: 'wrong' });
    expect(await raw.next()).toMatchObject({ op: 'error', id: 1, code: 403, reason: 'ACCESS_REFUSED' });
    expect(await raw.next()).toMatchObject({ op: 'close', code: 403, reason: 'ACCESS_REFUSED' });
    await raw.closed;
  });

  it('refuses an unknown user through the bundled client', async () => {
    const error = await warren.connect({ username: 'nobody', password: 'guest' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WarrenError);
    expect(error).toMatchObject({ code: 403, reason: 'ACCESS_REFUSED' });
  });

  it('refuses an unknown vhost with 530 and closes the connection', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'connect', id: 'c', vhost: 'no-such-vhost', username: 'guest', password: 'guest' });
    expect(await raw.next()).toMatchObject({ op: 'error', id: 'c', code: 530, reason: 'NOT_ALLOWED' });
    expect(await raw.next()).toMatchObject({ op: 'close', code: 530, reason: 'NOT_ALLOWED' });
    await raw.closed;
  });

  it('refuses a second connect with 530 and keeps the connection open', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'connect', username: 'guest', password: 'guest' })).toMatchObject({
      op: 'error',
      code: 530,
      reason: 'NOT_ALLOWED',
    });
    expect(await raw.request({ op: 'queue.declare' })).toMatchObject({ op: 'ok', messageCount: 0 });
    expect(raw.isOpen).toBe(true);
    raw.close();
  });

  it('handles frames sent right behind connect after it, in order', async () => {
    const queue = uniqueName();
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'connect', id: 1, username: 'guest', password: 'guest' });
    raw.send({ op: 'queue.declare', id: 2, queue });
    raw.send({ op: 'publish', id: 3, routingKey: queue, body: 'behind connect' });
    raw.send({ op: 'get', id: 4, queue, noAck: true });
    expect(await raw.next()).toMatchObject({ op: 'ok', id: 1, server: 'warren' });
    expect(await raw.next()).toEqual({ op: 'ok', id: 2, queue, messageCount: 0, consumerCount: 0 });
    expect(await raw.next()).toEqual({ op: 'ok', id: 3, routed: true });
    expect(await raw.next()).toMatchObject({ op: 'ok', id: 4, message: { body: 'behind connect', messageCount: 0 } });
    raw.close();
  });

  it('close: replies ok, then the server closes the socket', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    raw.send({ op: 'close', id: 'bye' });
    expect(await raw.next()).toEqual({ op: 'ok', id: 'bye' });
    const event = await raw.closed;
    expect(event.code).toBe(1000);
  });

  it('close: requeues unacked deliveries and deletes exclusive queues', async () => {
    const other = await warren.connect();
    const shared = await freshQueue(other);
    const closing = await warren.connect();
    const exclusive = uniqueName('excl');
    await closing.queueDeclare({ queue: exclusive, exclusive: true });
    await other.publish({ routingKey: shared, body: 'held' });
    const held = await collect(closing, { queue: shared });
    await held.waitFor(1);

    await closing.close();
    const again = await other.get({ queue: shared, noAck: true });
    expect(again?.text()).toBe('held');
    expect(again?.redelivered).toBe(true);
    await expect(other.queueDeclare({ queue: exclusive, passive: true })).rejects.toMatchObject({ code: 404 });
  });
});

describe('heartbeat', () => {
  let warren: RunningWarren;

  beforeAll(async () => {
    warren = await startWarren({ heartbeat: 1 });
  });

  afterAll(async () => {
    closeRawSockets();
    await warren?.stop();
  });

  it('disconnects a peer silent for two intervals and requeues its unacked messages', async () => {
    const checker = await warren.connect();
    expect(checker.serverInfo.heartbeat).toBe(1);
    const queue = await freshQueue(checker);

    // A peer that never answers pings: it consumes one message and then says nothing at all.
    const silent = await RawSocket.connected(warren.wsUrl, { autoPong: false });
    expect(await silent.request({ op: 'consume', queue, consumerTag: 'silent' })).toMatchObject({ op: 'ok' });
    await checker.publish({ routingKey: queue, body: 'stuck' });
    expect(await silent.waitFor((f) => f.op === 'deliver')).toMatchObject({ body: 'stuck', redelivered: false });

    // The checker answers pings (the ws package does), so it must survive the same silence.
    const waiting = await collect(checker, { queue });
    const [message] = await waiting.waitFor(1, 15_000);
    expect(message?.text()).toBe('stuck');
    expect(message?.redelivered).toBe(true);

    const event = await silent.closed;
    expect(event.code).not.toBe(1000);
    expect(silent.frames.some((f) => f.op === 'close')).toBe(false);
    expect(checker.isOpen).toBe(true);
    await sync(checker);
  }, 20_000);
});

describe('shutdown', () => {
  it('server.close() sends every client a close push with 320 CONNECTION_FORCED', async () => {
    const warren = await startWarren();
    try {
      const a = await warren.connect();
      const b = await warren.connect();
      const raw = await RawSocket.connected(warren.wsUrl);
      const closes: Array<Promise<CloseInfo | undefined>> = [once(a, 'close'), once(b, 'close')];

      await warren.server.close();

      for (const info of await Promise.all(closes)) {
        expect(info).toMatchObject({ code: 320, reason: 'CONNECTION_FORCED' });
      }
      await raw.closed;
      expect(raw.frames.at(-1)).toMatchObject({ op: 'close', code: 320, reason: 'CONNECTION_FORCED' });
      expect(a.isOpen).toBe(false);
      expect(b.isOpen).toBe(false);
    } finally {
      closeRawSockets();
      await warren.stop();
    }
  });
});
