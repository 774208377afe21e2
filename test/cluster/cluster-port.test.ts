import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/cluster-errors.js';
import { encodeFrame, FrameError, FrameReader, HandshakeFrameTypes, type Frame } from '../../src/cluster/cluster-frames.js';
import { makeHello, parseChallenge, type TunnelTarget } from '../../src/cluster/cluster-handshake.js';
import { ClusterPortListener, connectClusterPort, readClusterSecret, type ClusterPortListenerOptions } from '../../src/cluster/cluster-port.js';
import type { Logger } from '../../src/protocol/session-context.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');

/** Records info lines: the refusals a harness or an operator sees. */
function recordingLog(): Logger & { readonly infos: string[] } {
  const infos: string[] = [];
  return { infos, info: (_o, msg) => void infos.push(msg ?? ''), warn: () => undefined, error: () => undefined, debug: () => undefined };
}

interface Handed {
  readonly kind: 'replica' | 'tunnel';
  readonly socket: Socket;
  readonly leftover: Buffer;
  readonly peerNodeId?: string;
  readonly target?: TunnelTarget;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startListener(overrides: Partial<ClusterPortListenerOptions> = {}) {
  const log = recordingLog();
  const handed: Handed[] = [];
  const arrived: Array<(h: Handed) => void> = [];
  const deliver = (h: Handed): void => {
    cleanups.push(() => void h.socket.destroy());
    const waiter = arrived.shift();
    if (waiter) waiter(h);
    else handed.push(h);
  };
  const listener = new ClusterPortListener({
    nodeId: 'node-a',
    secret: SECRET,
    epoch: () => '7',
    log,
    onReplica: (socket, peerNodeId, leftover) => deliver({ kind: 'replica', socket, peerNodeId, leftover }),
    onTunnel: (socket, target, leftover) => deliver({ kind: 'tunnel', socket, target, leftover }),
    ...overrides,
  });
  const port = await listener.listen('127.0.0.1', 0);
  cleanups.push(() => listener.close());
  const next = (): Promise<Handed> => {
    const first = handed.shift();
    return first ? Promise.resolve(first) : new Promise((resolve) => arrived.push(resolve));
  };
  return { listener, port, log, next };
}

/** A raw TCP peer that collects frames from the cluster port and notices when it is closed. */
async function rawPeer(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  cleanups.push(() => void socket.destroy());
  await once(socket, 'connect');
  const reader = new FrameReader(1 << 20);
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.read(chunk)) frames.push(frame);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const frame = async (index: number): Promise<Frame> => {
    while (frames.length <= index) await new Promise<void>((resolve) => waiters.push(resolve));
    const f = frames[index];
    if (!f) throw new Error('unreachable');
    return f;
  };
  return { socket, frames, frame, closed };
}

describe('FrameReader', () => {
  it('reassembles frames split anywhere and several frames in one chunk', () => {
    const wire = Buffer.concat([encodeFrame(16, 'first'), encodeFrame(17, Buffer.alloc(3000, 7)), encodeFrame(18)]);
    for (const step of [1, 2, 5, 4096]) {
      const reader = new FrameReader(1 << 16);
      const got: Frame[] = [];
      for (let i = 0; i < wire.length; i += step) for (const f of reader.read(wire.subarray(i, i + step))) got.push(f);
      expect(got.map((f) => f.type)).toEqual([16, 17, 18]);
      expect(got[0]?.payload.toString()).toBe('first');
      expect(got[1]?.payload.equals(Buffer.alloc(3000, 7))).toBe(true);
      expect(got[2]?.payload.length).toBe(0);
      expect(reader.buffered).toBe(0);
    }
  });

  it('refuses a length over the limit before its payload arrives, and a zero length', () => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(1025, 0);
    expect(() => [...new FrameReader(1024).read(header)]).toThrow(FrameError);
    expect(() => [...new FrameReader(1024).read(Buffer.alloc(4))]).toThrow(FrameError);
  });

  it('leaves what follows the frames read to takeRest', () => {
    const reader = new FrameReader(1024);
    const it = reader.read(Buffer.concat([encodeFrame(2, 'x'), Buffer.from('rest')]));
    expect(it.next().value?.type).toBe(2);
    expect(reader.takeRest().toString()).toBe('rest');
  });
});

describe('the cluster port handshake', () => {
  it('accepts a node holding the secret and hands over the socket, both ways usable', async () => {
    const { port, next, log } = await startListener();
    const connecting = connectClusterPort({ host: '127.0.0.1', port, nodeId: 'node-b', secret: SECRET, purpose: 'replicate' });
    const handed = await next();
    expect(handed).toMatchObject({ kind: 'replica', peerNodeId: 'node-b' });
    expect(handed.leftover.length).toBe(0);
    // The leader may write at once: those bytes reach the client as leftover or on the socket.
    handed.socket.write('from-leader');
    const client = await connecting;
    cleanups.push(() => void client.socket.destroy());
    expect(client.server).toEqual({ nodeId: 'node-a', epoch: '7' });
    let received = client.leftover.toString();
    while (received.length < 'from-leader'.length) {
      client.socket.resume();
      const [chunk] = (await once(client.socket, 'data')) as [Buffer];
      received += chunk.toString();
    }
    expect(received).toBe('from-leader');
    client.socket.write('from-follower');
    handed.socket.resume();
    const [chunk] = (await once(handed.socket, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('from-follower');
    expect(log.infos).toEqual([]);
  });

  it('tells a tunnel its target: the client protocol and address', async () => {
    const { port, next } = await startListener();
    const tunnel: TunnelTarget = { protocol: 'amqps', remoteAddress: '192.0.2.10', remotePort: 40000 };
    const client = await connectClusterPort({ host: '127.0.0.1', port, nodeId: 'node-c', secret: SECRET, purpose: 'tunnel', tunnel });
    cleanups.push(() => void client.socket.destroy());
    const handed = await next();
    expect(handed).toMatchObject({ kind: 'tunnel', target: tunnel });
  });

  it('passes bytes sent right after the hello on as leftover', async () => {
    const { port, next } = await startListener();
    const peer = await rawPeer(port);
    const challenge = parseChallenge((await peer.frame(0)).payload);
    const hello = makeHello(SECRET, challenge.nonce, 'node-b', 'tunnel', { protocol: 'http', remoteAddress: '127.0.0.1', remotePort: 1234 });
    peer.socket.write(Buffer.concat([encodeFrame(HandshakeFrameTypes.hello, JSON.stringify(hello)), Buffer.from('GET / HTTP/1.1\r\n')]));
    const handed = await next();
    expect(handed.leftover.toString()).toBe('GET / HTTP/1.1\r\n');
    expect((await peer.frame(1)).type).toBe(HandshakeFrameTypes.welcome);
  });

  it('refuses a wrong secret with a reason, one info line, and closes', async () => {
    const { port, log } = await startListener();
    const error = await connectClusterPort({ host: '127.0.0.1', port, nodeId: 'node-b', secret: Buffer.from('another-secret-of-32-bytes------'), purpose: 'replicate' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: 'cluster-port-refused' });
    expect(String((error as Error).message)).toMatch(/bad mac/);
    expect(log.infos).toHaveLength(1);
    expect(log.infos[0]).toMatch(/^cluster port: refused 127\.0\.0\.1:\d+: bad mac/);
  });

  it('refuses garbage (an HTTP request) without waiting for 1 GiB to arrive', async () => {
    const { port, log } = await startListener();
    const peer = await rawPeer(port);
    peer.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await peer.closed;
    expect(peer.frames.map((f) => f.type)).toEqual([HandshakeFrameTypes.challenge, HandshakeFrameTypes.refused]);
    expect(JSON.parse(peer.frames[1]?.payload.toString() ?? '')).toMatchObject({ reason: expect.stringMatching(/exceeds the limit/) });
    expect(log.infos).toHaveLength(1);
  });

  it('refuses a frame over 64 KiB, a non-hello frame, a hello that is not JSON', async () => {
    const { port, log } = await startListener();
    const header = Buffer.alloc(5);
    header.writeUInt32BE(64 * 1024 + 2, 0);
    header.writeUInt8(HandshakeFrameTypes.hello, 4);
    for (const [wire, reason] of [
      [header, /exceeds the limit of 65536/],
      [encodeFrame(HandshakeFrameTypes.welcome, '{}'), /expected hello/],
      [encodeFrame(HandshakeFrameTypes.hello, '{not json'), /not JSON/],
      [encodeFrame(HandshakeFrameTypes.hello, '[1,2]'), /not a JSON object/],
    ] as const) {
      const peer = await rawPeer(port);
      peer.socket.write(wire);
      await peer.closed;
      expect(JSON.parse(peer.frames[1]?.payload.toString() ?? '').reason).toMatch(reason);
    }
    expect(log.infos).toHaveLength(4);
  });

  it('refuses a tunnel whose target is not an address, even with a valid mac', async () => {
    const { port, log } = await startListener();
    const peer = await rawPeer(port);
    const challenge = parseChallenge((await peer.frame(0)).payload);
    const hello = makeHello(SECRET, challenge.nonce, 'node-b', 'tunnel', { protocol: 'http', remoteAddress: 'not-an-ip', remotePort: 1 });
    peer.socket.write(encodeFrame(HandshakeFrameTypes.hello, JSON.stringify(hello)));
    await peer.closed;
    expect(JSON.parse(peer.frames[1]?.payload.toString() ?? '').reason).toMatch(/IP address/);
    expect(log.infos).toHaveLength(1);
  });

  it('refuses a hello replayed against a new challenge', async () => {
    const { port } = await startListener();
    const first = await rawPeer(port);
    const nonce = parseChallenge((await first.frame(0)).payload).nonce;
    const hello = encodeFrame(HandshakeFrameTypes.hello, JSON.stringify(makeHello(SECRET, nonce, 'node-b', 'replicate')));
    const second = await rawPeer(port);
    await second.frame(0);
    second.socket.write(hello);
    await second.closed;
    expect(second.frames[1]?.type).toBe(HandshakeFrameTypes.refused);
  });

  it('refuses a peer that sends no hello in time (slow loris)', async () => {
    const { port, log } = await startListener({ helloTimeoutMs: 200 });
    const peer = await rawPeer(port);
    peer.socket.write(Buffer.from([0, 0])); // half a length prefix, then nothing
    await peer.closed;
    expect(JSON.parse(peer.frames[1]?.payload.toString() ?? '').reason).toMatch(/no hello/);
    expect(log.infos).toHaveLength(1);
  });

  it('close() drops connections still in the handshake', async () => {
    const { port, listener } = await startListener();
    const peer = await rawPeer(port);
    await peer.frame(0);
    await listener.close();
    await peer.closed;
  });
});

describe('connectClusterPort', () => {
  it('fails with CLUSTER_PORT_FAILED on a port that speaks something else', async () => {
    const other = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => other.close(() => resolve())));
    const address = other.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const error = await connectClusterPort({ host: '127.0.0.1', port, nodeId: 'n', secret: SECRET, purpose: 'replicate' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cluster-port-failed' });
  });

  it('fails with CLUSTER_PORT_FAILED when nothing listens', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const address = other.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => other.close(() => resolve()));
    const error = await connectClusterPort({ host: '127.0.0.1', port, nodeId: 'n', secret: SECRET, purpose: 'replicate' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cluster-port-failed' });
  });

  it('times out on a server that never sends its challenge', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      silent.close(() => resolve());
    }));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const error = await connectClusterPort({ host: '127.0.0.1', port, nodeId: 'n', secret: SECRET, purpose: 'replicate', timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cluster-port-failed', message: expect.stringMatching(/timed out/) });
  });
});

describe('readClusterSecret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-secret-'));
  it('reads the file without its trailing newline', async () => {
    const path = join(dir, 'ok');
    writeFileSync(path, 'abcdefghijklmnopqrstuvwxyz012345\n');
    expect((await readClusterSecret(path)).toString()).toBe('abcdefghijklmnopqrstuvwxyz012345');
  });

  it('refuses a short, an empty and a missing file, naming it', async () => {
    const short = join(dir, 'short');
    writeFileSync(short, 'tooshort\n');
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    for (const path of [short, empty, join(dir, 'missing')]) {
      const error = await readClusterSecret(path).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'bad-cluster-secret', message: expect.stringContaining(path) });
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
