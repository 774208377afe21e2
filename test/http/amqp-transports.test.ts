import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TcpAmqpTransport } from '../../src/http/amqp-transports.js';

/** A connected pair: the server's side of the socket, and everything the client side receives until it closes. */
interface SocketPair {
  readonly server: Socket;
  readonly received: Promise<Buffer>;
}

async function socketPair(): Promise<SocketPair> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(address.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  const received = once(client, 'end').then(() => {
    client.destroy();
    return Buffer.concat(chunks);
  });
  const [server] = await accepted;
  listener.close();
  return { server, received };
}

function frame(fill: number, size: number): Buffer {
  return Buffer.alloc(size, fill);
}

/** Two connections, each a TCP transport on the server side of a real socket pair. */
async function twoConnections(): Promise<{ a: SocketPair; b: SocketPair; ta: TcpAmqpTransport; tb: TcpAmqpTransport }> {
  const a = await socketPair();
  const b = await socketPair();
  return { a, b, ta: new TcpAmqpTransport(a.server), tb: new TcpAmqpTransport(b.server) };
}

describe('TCP AMQP transport', () => {
  it('connections writing in turn, small frames and large, each receive exactly their own bytes in order', async () => {
    const { a, b, ta, tb } = await twoConnections();
    const sentA: Buffer[] = [];
    const sentB: Buffer[] = [];
    // More than one send batch's worth (256 KiB) in one turn, interleaved, with frames above the batching limit.
    for (let i = 0; i < 1200; i++) {
      const small = frame(i % 251, 100 + (i % 300));
      ta.write([small]);
      sentA.push(small);
      const pair = [frame((i + 7) % 251, 50), i % 50 === 0 ? frame(i % 13, 40_000) : frame(3, 10)];
      tb.write(pair);
      sentB.push(...pair);
    }
    ta.end(0);
    tb.end(0);
    expect((await a.received).equals(Buffer.concat(sentA))).toBe(true);
    expect((await b.received).equals(Buffer.concat(sentB))).toBe(true);
  });

  it('reserved room, small or large, filled after it was reserved, goes out in its place among the writes', async () => {
    const { a, b, ta, tb } = await twoConnections();
    const sentA: Buffer[] = [];
    const sentB: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const size = i % 100 === 0 ? 30_000 : 300 + i;
      const room = ta.reserve(size);
      if (!room) throw new Error('no room');
      expect(room.length).toBe(size);
      const other = frame(i % 7, 64);
      tb.write([other]);
      sentB.push(other);
      room.fill(i % 251);
      sentA.push(frame(i % 251, size));
      const after = frame(250, 10);
      ta.write([after]);
      sentA.push(after);
    }
    ta.end(0);
    tb.end(0);
    expect(ta.reserve(10)).toBeUndefined();
    expect((await a.received).equals(Buffer.concat(sentA))).toBe(true);
    expect((await b.received).equals(Buffer.concat(sentB))).toBe(true);
  });

  it('what is written in later turns follows what was written before', async () => {
    const a = await socketPair();
    const ta = new TcpAmqpTransport(a.server);
    const sent: Buffer[] = [];
    for (let turn = 0; turn < 5; turn++) {
      const f = frame(turn + 1, 1000 * (turn + 1));
      ta.write([f]);
      sent.push(f);
      await new Promise((resolve) => setImmediate(resolve));
    }
    ta.end(0);
    expect((await a.received).equals(Buffer.concat(sent))).toBe(true);
  });
});
