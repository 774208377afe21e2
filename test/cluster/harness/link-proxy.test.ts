// The link proxy against a real echo server on loopback: it forwards, cuts, black-holes and heals.
// No timing: "nothing arrived" is asserted once the proxy has counted the bytes as dropped.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinkProxy } from './link-proxy.js';

interface Peer {
  readonly socket: Socket;
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
  /** Resolves once `text` has arrived (cumulative). */
  until(text: string): Promise<void>;
}

function peer(socket: Socket): Peer {
  let data = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('error', () => undefined);
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  return {
    socket,
    received: () => data,
    closed: closedPromise,
    isClosed: () => closed,
    until: async (text) => {
      while (!data.includes(text)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

let server: Server;
let serverPort: number;
let serverPeers: Peer[];
let proxy: LinkProxy;
let newServerPeer: (() => void)[];

beforeEach(async () => {
  serverPeers = [];
  newServerPeer = [];
  server = createServer((socket) => {
    const p = peer(socket);
    socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString()}`));
    serverPeers.push(p);
    for (const wake of newServerPeer.splice(0)) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  serverPort = address.port;
  proxy = await LinkProxy.start({ host: '127.0.0.1', port: serverPort });
});

afterEach(async () => {
  await proxy.close();
  for (const p of serverPeers) p.socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function dial(): Promise<Peer> {
  const socket = createConnection({ host: proxy.host, port: proxy.port });
  const p = peer(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return p;
}

async function serverPeerCount(count: number): Promise<Peer> {
  while (serverPeers.length < count) await new Promise<void>((resolve) => newServerPeer.push(resolve));
  const p = serverPeers[count - 1];
  if (!p) throw new Error('no server peer');
  return p;
}

async function dropped(bytes: number): Promise<void> {
  while (proxy.droppedBytes < bytes) await new Promise((resolve) => setImmediate(resolve));
}

describe('the link proxy', () => {
  it('forwards both ways to its target, and to a new target after retarget', async () => {
    const client = await dial();
    client.socket.write('hello');
    await client.until('echo:hello');

    const other = createServer((socket) => socket.end('other'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const address = other.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy.retarget('127.0.0.1', address.port);
    const second = await dial();
    await second.until('other');
    client.socket.write('again');
    await client.until('echo:again');
    client.socket.destroy();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });

  it("passes a clean close through: the other side's last bytes arrive, then the end", async () => {
    const closing = createServer((socket) => socket.end('last words'));
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    const address = closing.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy.retarget('127.0.0.1', address.port);
    const client = await dial();
    await client.closed;
    expect(client.received()).toBe('last words');
    expect(proxy.connections).toBe(0);
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  });

  it('without a target, connections are reset until one is set', async () => {
    const bare = await LinkProxy.start();
    try {
      const socket = createConnection({ host: bare.host, port: bare.port });
      const p = peer(socket);
      await p.closed;
      expect(p.received()).toBe('');
      bare.retarget('127.0.0.1', serverPort);
      const again = peer(createConnection({ host: bare.host, port: bare.port }));
      again.socket.write('x');
      await again.until('echo:x');
      again.socket.destroy();
    } finally {
      await bare.close();
    }
  });

  it('cut: open connections are reset on both sides, new ones are refused; heal lets new ones through', async () => {
    const client = await dial();
    client.socket.write('a');
    await client.until('echo:a');
    const upstream = await serverPeerCount(1);

    proxy.cut();
    await Promise.all([client.closed, upstream.closed]);
    expect(proxy.connections).toBe(0);

    const refused = peer(createConnection({ host: proxy.host, port: proxy.port }));
    refused.socket.write('b');
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(serverPeers).toHaveLength(1);

    proxy.heal();
    const healed = await dial();
    healed.socket.write('c');
    await healed.until('echo:c');
    healed.socket.destroy();
  });

  it('blackhole: bytes vanish both ways while the sockets stay open; heal resets the holed ones', async () => {
    const client = await dial();
    client.socket.write('a');
    await client.until('echo:a');
    const upstream = await serverPeerCount(1);

    proxy.blackhole();
    client.socket.write('lost-up');
    await dropped('lost-up'.length);
    upstream.socket.write('lost-down');
    await dropped('lost-up'.length + 'lost-down'.length);
    expect(upstream.received()).toBe('a');
    expect(client.received()).toBe('echo:a');
    expect(client.isClosed()).toBe(false);
    expect(upstream.isClosed()).toBe(false);

    // A new connection in the black hole is accepted and goes nowhere.
    const late = await dial();
    late.socket.write('nowhere');
    await dropped('lost-up'.length + 'lost-down'.length + 'nowhere'.length);
    expect(serverPeers).toHaveLength(1);
    expect(late.isClosed()).toBe(false);

    proxy.heal();
    await Promise.all([client.closed, upstream.closed, late.closed]);
    const healed = await dial();
    healed.socket.write('b');
    await healed.until('echo:b');
    healed.socket.destroy();
  });
});
