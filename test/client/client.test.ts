import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connect,
  ConnectionClosedError,
  type CloseInfo,
  type ReceivedMessage,
  type ReturnedMessage,
  type WarrenConnection,
  WarrenError,
} from '../../src/client/index.js';
import { type FakeServer, type Frame, startFakeServer } from './fake-server.js';

let server: FakeServer;
let conn: WarrenConnection;

const credentials = { username: 'guest', password: 'guest' };

function deliver(consumerTag: string, deliveryTag: number, body: string, encoding = 'utf8'): Frame {
  return {
    op: 'deliver',
    consumerTag,
    deliveryTag,
    redelivered: false,
    exchange: 'ex',
    routingKey: 'rk',
    body,
    encoding,
    properties: { contentType: 'text/plain' },
  };
}

/** A promise of the next value `subscribe` hands to its callback. */
function next<T>(subscribe: (callback: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => subscribe(resolve));
}

beforeEach(async () => {
  server = await startFakeServer();
  conn = await connect(server.url, { ...credentials, WebSocket, clientProperties: { product: 'test' } });
});

afterEach(async () => {
  await conn.close();
  await server.stop();
});

describe('connect', () => {
  it('performs the handshake and exposes the server info', () => {
    expect(conn.isOpen).toBe(true);
    expect(conn.serverInfo).toEqual({ server: 'warren', version: '0.1.0', heartbeat: 30 });
    expect(server.frames[0]).toEqual({
      op: 'connect',
      id: 1,
      vhost: '/',
      username: 'guest',
      password: 'guest',
      clientProperties: { product: 'test' },
    });
  });

  it('without a WebSocket option, uses the global one, else the ws package', async () => {
    const other = await connect(server.url, { ...credentials, vhost: 'v1', heartbeat: 5 });
    expect(other.isOpen).toBe(true);
    expect(server.frames.at(-1)).toMatchObject({ op: 'connect', vhost: 'v1', heartbeat: 5 });
    await other.close();

    const holder = globalThis as { WebSocket?: unknown };
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    let constructed = 0;
    holder.WebSocket = class extends WebSocket {
      constructor(url: string) {
        super(url);
        constructed++;
      }
    };
    try {
      const viaGlobal = await connect(server.url, credentials);
      expect(constructed).toBe(1);
      await viaGlobal.close();
    } finally {
      if (saved) Object.defineProperty(globalThis, 'WebSocket', saved);
      else delete holder.WebSocket;
    }
  });

  it('rejects with a WarrenError when the connect reply is an error', async () => {
    const failure = connect(server.url, { username: 'guest', password: 'wrong', WebSocket });
    await expect(failure).rejects.toBeInstanceOf(WarrenError);
    await expect(failure).rejects.toMatchObject({ code: 530, reason: 'NOT_ALLOWED', message: 'bad credentials' });
  });

  it('rejects with ConnectionClosedError when nothing listens', async () => {
    const url = server.url;
    await server.stop();
    await expect(connect(url, { ...credentials, WebSocket })).rejects.toBeInstanceOf(ConnectionClosedError);
    server = await startFakeServer();
  });
});

describe('requests', () => {
  it('sends each operation with increasing ids and maps the replies', async () => {
    await conn.exchangeDeclare({ exchange: 'ex', type: 'topic', durable: true });
    await conn.exchangeBind({ destination: 'ex2', source: 'ex', routingKey: 'a.#' });
    await conn.exchangeUnbind({ destination: 'ex2', source: 'ex' });
    await conn.exchangeDelete({ exchange: 'ex', ifUnused: true });
    expect(await conn.queueDeclare()).toEqual({ queue: 'amq.gen-fake', messageCount: 0, consumerCount: 0 });
    expect(await conn.queueDeclare({ queue: 'q', exclusive: true })).toMatchObject({ queue: 'q' });
    await conn.queueBind({ queue: 'q', exchange: 'ex', routingKey: 'k', arguments: { 'x-match': 'any' } });
    await conn.queueUnbind({ queue: 'q', exchange: 'ex' });
    expect(await conn.queuePurge({ queue: 'q' })).toEqual({ messageCount: 0 });
    expect(await conn.queueDelete({ queue: 'q', ifEmpty: true })).toEqual({ messageCount: 0 });
    await conn.qos(10);
    await conn.recover();
    expect(await conn.get({ queue: 'q' })).toBeNull();

    expect(server.frames.slice(1)).toEqual([
      { op: 'exchange.declare', id: 2, exchange: 'ex', type: 'topic', durable: true },
      { op: 'exchange.bind', id: 3, destination: 'ex2', source: 'ex', routingKey: 'a.#' },
      { op: 'exchange.unbind', id: 4, destination: 'ex2', source: 'ex' },
      { op: 'exchange.delete', id: 5, exchange: 'ex', ifUnused: true },
      { op: 'queue.declare', id: 6 },
      { op: 'queue.declare', id: 7, queue: 'q', exclusive: true },
      { op: 'queue.bind', id: 8, queue: 'q', exchange: 'ex', routingKey: 'k', arguments: { 'x-match': 'any' } },
      { op: 'queue.unbind', id: 9, queue: 'q', exchange: 'ex' },
      { op: 'queue.purge', id: 10, queue: 'q' },
      { op: 'queue.delete', id: 11, queue: 'q', ifEmpty: true },
      { op: 'qos', id: 12, prefetch: 10 },
      { op: 'recover', id: 13, requeue: true },
      { op: 'get', id: 14, queue: 'q' },
    ]);
  });

  it('rejects with a WarrenError on an error reply', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'queue.declare') return false;
      peer.send({ op: 'error', id: frame.id, code: 404, reason: 'NOT_FOUND', message: "no queue 'x' in vhost '/'" });
      return true;
    };
    const error = await conn.queueDeclare({ queue: 'x', passive: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarrenError);
    expect(error).toMatchObject({ code: 404, reason: 'NOT_FOUND', message: "no queue 'x' in vhost '/'" });
    expect((error as WarrenError).ref).toBeUndefined();
    expect(conn.isOpen).toBe(true);
  });

  it('request() assigns an id and resolves with the ok frame', async () => {
    const ok = await conn.request({ op: 'queue.declare', queue: 'raw', id: 'ignored' });
    expect(ok).toEqual({ op: 'ok', id: 2, queue: 'raw', messageCount: 0, consumerCount: 0 });
  });

  it('sendRaw() sends text as is; id-less errors arrive as error events', async () => {
    const errors: WarrenError[] = [];
    conn.on('error', (e) => errors.push(e));
    server.handler = (frame, peer) => {
      if (frame.op !== 'bogus') return false;
      peer.send({ op: 'error', code: 503, reason: 'COMMAND_INVALID', message: 'unknown op' });
      peer.send({ op: 'error', id: 'theirs', code: 502, reason: 'SYNTAX_ERROR', message: '/x is unknown' });
      return true;
    };
    conn.sendRaw('{"op":"bogus"}');
    await expect.poll(() => errors.length).toBe(2);
    expect(errors[0]).toMatchObject({ code: 503, reason: 'COMMAND_INVALID' });
    expect(errors[1]).toMatchObject({ code: 502, id: 'theirs' });
  });
});

describe('publish', () => {
  it('sends strings as utf8 and bytes as base64, and resolves with the confirm', async () => {
    expect(await conn.publish({ routingKey: 'q', body: 'héllo', properties: { persistent: true } })).toEqual({
      routed: true,
    });
    await conn.publish({ exchange: 'ex', routingKey: 'k', body: new Uint8Array([0, 1, 255]), mandatory: true });
    expect(server.frames.slice(1)).toEqual([
      { op: 'publish', id: 2, routingKey: 'q', body: 'héllo', properties: { persistent: true } },
      { op: 'publish', id: 3, exchange: 'ex', routingKey: 'k', body: 'AAH/', encoding: 'base64', mandatory: true },
    ]);
  });

  it('settles many pipelined confirms by id', async () => {
    const results = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => conn.publish({ routingKey: 'q', body: String(i) })),
    );
    expect(results.every((r) => r.routed)).toBe(true);
    expect(server.frames.at(-1)).toMatchObject({ id: 2001, body: '1999' });
  });

  it('publishNoConfirm sends without id; a failure is an error event with ref', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'publish') return false;
      peer.send({ op: 'error', ref: 'publish', code: 404, reason: 'NOT_FOUND', message: "no exchange 'nope'" });
      return true;
    };
    const error = next<WarrenError>((cb) => conn.on('error', cb));
    conn.publishNoConfirm({ exchange: 'nope', routingKey: 'k', body: 'x' });
    expect(await error).toMatchObject({ code: 404, ref: 'publish' });
    expect(server.frames[1]).toEqual({ op: 'publish', exchange: 'nope', routingKey: 'k', body: 'x' });
  });

  it('emits return pushes as ReturnedMessage before the confirm', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'publish') return false;
      peer.send({
        op: 'return',
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: '',
        routingKey: 'nowhere',
        body: 'AP8=',
        encoding: 'base64',
        properties: {},
      });
      peer.send({ op: 'ok', id: frame.id, routed: false });
      return true;
    };
    const returned: ReturnedMessage[] = [];
    conn.on('return', (m) => returned.push(m));
    expect(await conn.publish({ routingKey: 'nowhere', body: 'x', mandatory: true })).toEqual({ routed: false });
    expect(returned).toHaveLength(1);
    expect(returned[0]).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', routingKey: 'nowhere' });
    expect(returned[0]?.body).toEqual(new Uint8Array([0, 255]));
  });
});

describe('consume', () => {
  it('iterates deliveries pushed right after the consume reply, and settles them without id', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'consume') return false;
      peer.send({ op: 'ok', id: frame.id, consumerTag: 'c1' });
      peer.send(deliver('c1', 1, 'one'));
      peer.send(deliver('c1', 2, '{"n":2}'));
      peer.send(deliver('c1', 3, 'AAEC', 'base64'));
      return true;
    };
    const consumer = await conn.consume({ queue: 'q', prefetch: 5 });
    expect(consumer.consumerTag).toBe('c1');
    const got: ReceivedMessage[] = [];
    for await (const m of consumer) {
      got.push(m);
      if (got.length === 3) break;
    }
    expect(got.map((m) => m.deliveryTag)).toEqual([1, 2, 3]);
    const [first, second, third] = got as [ReceivedMessage, ReceivedMessage, ReceivedMessage];
    expect(first).toMatchObject({ consumerTag: 'c1', redelivered: false, exchange: 'ex', routingKey: 'rk' });
    expect(first.properties).toEqual({ contentType: 'text/plain' });
    expect(first.text()).toBe('one');
    expect(first.body).toEqual(new TextEncoder().encode('one'));
    expect(second.json<{ n: number }>()).toEqual({ n: 2 });
    expect(third.body).toEqual(new Uint8Array([0, 1, 2]));
    expect(first.messageCount).toBeUndefined();

    first.ack();
    second.nack({ requeue: false });
    third.reject(false);
    conn.ack(3, true);
    conn.nack(0, { multiple: true });
    await server.waitFor((f) => f.op === 'nack' && f.multiple === true);
    const settles = server.frames.filter((f) => ['ack', 'nack', 'reject'].includes(String(f.op)));
    expect(settles).toEqual([
      { op: 'ack', deliveryTag: 1 },
      { op: 'nack', deliveryTag: 2, requeue: false },
      { op: 'reject', deliveryTag: 3, requeue: false },
      { op: 'ack', deliveryTag: 3, multiple: true },
      { op: 'nack', deliveryTag: 0, multiple: true },
    ]);
    // Leaving the loop cancelled the consumer.
    expect(server.frames.find((f) => f.op === 'cancel')).toMatchObject({ consumerTag: 'c1' });
    expect(consumer.active).toBe(false);
  });

  it('leaving the loop early requeues the deliveries still buffered', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'consume') return false;
      peer.send({ op: 'ok', id: frame.id, consumerTag: 'c2' });
      for (let tag = 1; tag <= 3; tag++) peer.send(deliver('c2', tag, `m${tag}`));
      return true;
    };
    const consumer = await conn.consume({ queue: 'q' });
    await expect.poll(() => consumer.buffered).toBe(3);
    for await (const m of consumer) {
      m.ack();
      break;
    }
    await server.waitFor((f) => f.op === 'reject' && f.deliveryTag === 3);
    expect(server.frames.filter((f) => f.op === 'reject').map((f) => f.deliveryTag)).toEqual([2, 3]);
  });

  it('delivers to a callback', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'consume') return false;
      peer.send({ op: 'ok', id: frame.id, consumerTag: frame.consumerTag });
      peer.send(deliver('mine', 1, 'hi'));
      return true;
    };
    const received: ReceivedMessage[] = [];
    const consumer = await conn.consume({ queue: 'q', consumerTag: 'mine', noAck: true }, (m) => received.push(m));
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]?.text()).toBe('hi');
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(TypeError);
    await consumer.cancel();
    expect(consumer.active).toBe(false);
    expect(server.frames.at(-1)).toEqual({ op: 'cancel', id: 3, consumerTag: 'mine' });
    await consumer.cancel(); // already ended: no frame
    expect(server.frames.filter((f) => f.op === 'cancel')).toHaveLength(1);
  });

  it('a cancelled push ends the iterator after the buffered deliveries and emits cancelled', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'consume') return false;
      peer.send({ op: 'ok', id: frame.id, consumerTag: 'c3' });
      peer.send(deliver('c3', 1, 'last'));
      peer.send({ op: 'cancelled', consumerTag: 'c3' });
      return true;
    };
    const cancelled = next<string>((cb) => conn.on('cancelled', cb));
    const consumer = await conn.consume({ queue: 'q' });
    const bodies: string[] = [];
    for await (const m of consumer) bodies.push(m.text());
    expect(bodies).toEqual(['last']);
    expect(await cancelled).toBe('c3');
    expect(server.frames.some((f) => f.op === 'cancel')).toBe(false);
  });

  it('get returns a ReceivedMessage with messageCount', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'get') return false;
      const message = { deliveryTag: 7, redelivered: true, exchange: '', routingKey: 'q', messageCount: 4, body: 'g' };
      peer.send({ op: 'ok', id: frame.id, message: { ...message, encoding: 'utf8', properties: {} } });
      return true;
    };
    const m = await conn.get({ queue: 'q', noAck: false });
    expect(m).toMatchObject({ deliveryTag: 7, redelivered: true, messageCount: 4, routingKey: 'q' });
    expect(m?.consumerTag).toBeUndefined();
    expect(m?.text()).toBe('g');
    m?.ack();
    await server.waitFor((f) => f.op === 'ack' && f.deliveryTag === 7);
  });
});

describe('closing', () => {
  it('close() sends close, waits for the socket, and is idempotent', async () => {
    const closeEvent = next<CloseInfo | undefined>((cb) => conn.on('close', cb));
    const first = conn.close();
    const second = conn.close();
    expect(second).toBe(first);
    expect(conn.isOpen).toBe(false);
    await first;
    await conn.closed;
    expect(await closeEvent).toBeUndefined();
    expect(server.frames.at(-1)).toEqual({ op: 'close', id: 2 });
    await conn.close();
    await expect(conn.queueDeclare()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(() => conn.ack(1)).toThrow(ConnectionClosedError);
  });

  it('a close push is emitted as close; pending requests and iterators end', async () => {
    server.handler = (frame, peer) => {
      if (frame.op === 'consume') {
        peer.send({ op: 'ok', id: frame.id, consumerTag: 'c4' });
        return true;
      }
      if (frame.op !== 'queue.declare') return false;
      peer.send({ op: 'close', code: 320, reason: 'CONNECTION_FORCED', message: 'broker shutting down' });
      peer.socket.close();
      return true;
    };
    const consumer = await conn.consume({ queue: 'q' });
    const iteration = (async () => {
      for await (const m of consumer) m.ack();
      return 'ended';
    })();
    const closeEvent = next<CloseInfo | undefined>((cb) => conn.on('close', cb));
    const pending = conn.queueDeclare({ queue: 'q' });
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(pending).rejects.toMatchObject({ code: 320, reason: 'CONNECTION_FORCED' });
    expect(await closeEvent).toEqual({ code: 320, reason: 'CONNECTION_FORCED', message: 'broker shutting down' });
    expect(await iteration).toBe('ended');
    expect(conn.isOpen).toBe(false);
    await conn.closed;
  });

  it('an abrupt close emits close with undefined and rejects pending requests', async () => {
    server.handler = (frame, peer) => {
      if (frame.op !== 'publish') return false;
      peer.socket.terminate();
      return true;
    };
    const closeEvent = next<CloseInfo | undefined>((cb) => conn.on('close', cb));
    const error = await conn.publish({ routingKey: 'q', body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toMatchObject({ code: 0, reason: 'CONNECTION_CLOSED' });
    expect(await closeEvent).toBeUndefined();
  });
});

describe('events', () => {
  it('off() removes a listener', async () => {
    const seen: number[] = [];
    const listener = (e: WarrenError): void => {
      seen.push(e.code);
    };
    conn.on('error', listener);
    server.peers[0]?.send({ op: 'error', code: 406, reason: 'PRECONDITION_FAILED', message: 'a', ref: 'ack' });
    await expect.poll(() => seen.length).toBe(1);
    conn.off('error', listener);
    const other = next<WarrenError>((cb) => conn.on('error', cb));
    server.peers[0]?.send({ op: 'error', code: 406, reason: 'PRECONDITION_FAILED', message: 'b', ref: 'ack' });
    expect((await other).message).toBe('b');
    expect(seen).toEqual([406]);
  });
});
