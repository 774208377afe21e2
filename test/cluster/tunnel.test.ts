/**
 * Client connections through a follower's tunnel front to a real Warren as leader: AMQP (amqplib), the
 * JSON WebSocket client, REST, HTTPS and AMQPS end to end, with the client's own address on the leader.
 * Clients connect from 127.0.0.2 (any 127/8 address is loopback on Linux) while the tunnel runs from
 * 127.0.0.1, so the leader's view of the peer shows which of the two it sees.
 */
import amqp from 'amqplib';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as warrenConnect } from '../../src/client/index.js';
import { encodeFrame, FrameReader, HandshakeFrameTypes } from '../../src/cluster/cluster-frames.js';
import { makeHello, parseChallenge } from '../../src/cluster/cluster-handshake.js';
import { ClusterPortListener, connectClusterPort } from '../../src/cluster/cluster-port.js';
import { TunnelFront, type LeaderAddress, type TunnelFrontOptions } from '../../src/cluster/tunnel-front.js';
import type { Logger } from '../../src/protocol/session-context.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { TestPki } from '../http/tls/pki.js';
import { httpsRequest, startTlsWarren, type TlsWarren } from '../http/tls/support.js';

const SECRET = Buffer.from('tunnel-test-secret-0123456789abcdef');
const CLIENT_ADDRESS = '127.0.0.2';
const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

function get(port: number, path: string, auth = 'guest:guest'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, auth, localAddress: CLIENT_ADDRESS, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A leader: a real Warren and a cluster port whose tunnels it serves. */
async function startLeader(warren: { server: { acceptTunnel: RunningWarren['server']['acceptTunnel'] } }): Promise<{ listener: ClusterPortListener; address: LeaderAddress }> {
  const listener = new ClusterPortListener({
    nodeId: 'leader',
    secret: SECRET,
    epoch: () => '1',
    log: silent,
    onReplica: (socket) => socket.destroy(),
    onTunnel: (socket, target, leftover) => warren.server.acceptTunnel(socket, target, leftover),
  });
  const port = await listener.listen('127.0.0.1', 0);
  return { listener, address: { host: '127.0.0.1', port, nodeId: 'leader' } };
}

async function startFront(leader: () => LeaderAddress | undefined, ports: TunnelFrontOptions['ports'], extra: Partial<TunnelFrontOptions> = {}) {
  const front = new TunnelFront({ host: '127.0.0.1', ports, leader, nodeId: 'follower', secret: SECRET, log: silent, ...extra });
  return { front, ports: await front.listen() };
}

type Listing = Array<Record<string, unknown>>;

async function connectionsOnLeader(url: string): Promise<Listing> {
  const response = await fetch(`${url}/api/connections`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  return (await response.json()) as Listing;
}

async function connectionNamed(url: string, name: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await expect
    .poll(async () => {
      found = (await connectionsOnLeader(url)).find((c) => c.user_provided_name === name);
      return found !== undefined;
    })
    .toBe(true);
  return found ?? {};
}

describe('tunnels from a follower to a plain leader', () => {
  let warren: RunningWarren;
  let leader: { listener: ClusterPortListener; address: LeaderAddress };
  let front: TunnelFront;
  let ports: { http: number; amqp?: number; amqps?: number };

  beforeAll(async () => {
    warren = await startWarren();
    leader = await startLeader(warren);
    ({ front, ports } = await startFront(() => leader.address, { http: 0, amqp: 0, amqps: 0 }));
  });
  afterAll(async () => {
    await front?.close();
    await leader?.listener.close();
    await warren?.stop();
  });

  it('carries amqplib: publish and consume, and the leader lists the client address and port, not the tunnel', async () => {
    const options = { localAddress: CLIENT_ADDRESS, clientProperties: { connection_name: 'through-tunnel' } };
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`, options);
    try {
      const channel = await conn.createChannel();
      const { queue } = await channel.assertQueue('tunnelled', { durable: false });
      const received = new Promise<string>((resolve) => void channel.consume(queue, (m) => m && resolve(m.content.toString()), { noAck: true }));
      channel.sendToQueue(queue, Buffer.from('via follower'));
      expect(await received).toBe('via follower');
      const stream = (conn as unknown as { connection: { stream: Socket } }).connection.stream;
      const listed = await connectionNamed(warren.url, 'through-tunnel');
      expect(listed).toMatchObject({ peer_host: CLIENT_ADDRESS, peer_port: stream.localPort, protocol: 'AMQP 0-9-1' });
      await channel.deleteQueue(queue);
    } finally {
      await conn.close();
    }
  });

  it('carries the JSON WebSocket client and REST (guest from loopback)', async () => {
    const conn = await warrenConnect(`ws://127.0.0.1:${ports.http}/ws`, { username: 'guest', password: 'guest' });
    try {
      const { queue } = await conn.queueDeclare({ queue: 'ws-tunnelled', exclusive: true });
      await conn.publish({ routingKey: queue, body: 'hello over ws' });
      const got = await conn.get({ queue, noAck: true });
      expect(got?.text()).toBe('hello over ws');
    } finally {
      await conn.close();
    }
    const overview = await get(ports.http, '/api/overview');
    expect(overview.status).toBe(200);
    expect(JSON.parse(overview.text)).toMatchObject({ management_version: expect.any(String) });
  });

  it('the loopback rule sees the tunnel target: guest from another address is refused, a real user is not', async () => {
    const put = await fetch(`${warren.url}/api/users/remote-admin`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'secret-pass', tags: 'administrator' }),
    });
    expect(put.status).toBeLessThan(300);
    const ask = async (auth: string): Promise<string> => {
      const { socket, leftover } = await connectClusterPort({
        host: '127.0.0.1',
        port: leader.address.port,
        nodeId: 'follower',
        secret: SECRET,
        purpose: 'tunnel',
        tunnel: { protocol: 'http', remoteAddress: '192.0.2.7', remotePort: 4321 },
      });
      socket.resume();
      const chunks: Buffer[] = [leftover];
      socket.on('data', (c: Buffer) => chunks.push(c));
      // No half-close: Node's HTTP server drops a request whose client sent FIN (httpAllowHalfOpen).
      socket.write(`GET /api/whoami HTTP/1.1\r\nhost: x\r\nauthorization: Basic ${Buffer.from(auth).toString('base64')}\r\nconnection: close\r\n\r\n`);
      await once(socket, 'close');
      return Buffer.concat(chunks).toString();
    };
    expect(await ask('guest:guest')).toMatch(/^HTTP\/1\.1 401 /);
    expect(await ask('remote-admin:secret-pass')).toMatch(/^HTTP\/1\.1 200 [\s\S]*"name":"remote-admin"/);
  });

  it('serves bytes that arrived together with the hello (leftover), for HTTP and AMQP', async () => {
    const open = async (protocol: 'http' | 'amqp', first: string): Promise<string> => {
      const socket = netConnect({ host: '127.0.0.1', port: leader.address.port });
      socket.on('error', () => undefined);
      const reader = new FrameReader(1 << 16);
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      const challenge = reader.read(chunk).next().value;
      const nonce = parseChallenge(challenge?.payload ?? Buffer.alloc(0)).nonce;
      const hello = makeHello(SECRET, nonce, 'follower', 'tunnel', { protocol, remoteAddress: CLIENT_ADDRESS, remotePort: 999 });
      socket.write(Buffer.concat([encodeFrame(HandshakeFrameTypes.hello, JSON.stringify(hello)), Buffer.from(first, 'latin1')]));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await new Promise<void>((resolve) => {
        const check = (): void => {
          // welcome (5 + 2 bytes) then the server's first answer
          if (Buffer.concat(chunks).length > 7) resolve();
        };
        socket.on('data', check);
      });
      socket.destroy();
      return Buffer.concat(chunks).subarray(7).toString('latin1');
    };
    expect(await open('http', 'GET /api/overview HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 401 /);
    // AMQP's protocol header answered by connection.start (frame type 1, channel 0, class 10 method 10).
    expect(Buffer.from(await open('amqp', 'AMQP\x00\x00\x09\x01'), 'latin1').subarray(0, 3)).toEqual(Buffer.from([1, 0, 0]));
  });

  it('drops a tunnel for a protocol the leader does not serve (AMQPS without TLS)', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: ports.amqps ?? 0 });
    socket.on('error', () => undefined);
    socket.write('AMQP\x00\x00\x09\x01');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    expect(Buffer.concat(chunks).length).toBe(0);
  });

  it('closeTunnels closes the clients connected through it', async () => {
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`);
    conn.on('error', () => undefined);
    // Not events.once: amqplib emits 'error' (Unexpected close) before 'close', which would reject it.
    const amqpClosed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
    const ws = await warrenConnect(`ws://127.0.0.1:${ports.http}/ws`, { username: 'guest', password: 'guest' });
    front.closeTunnels('leader changed');
    await amqpClosed;
    await ws.closed;
    expect(ws.isOpen).toBe(false);
    // The leader notices its side went too.
    await expect.poll(async () => (await connectionsOnLeader(warren.url)).length).toBe(0);
  });
});

describe('a tunnel as a byte pipe', () => {
  it('carries 16 MiB each way intact, with backpressure, and the client\'s end travels to the leader and back', async () => {
    // The "leader" echoes: what the client sends comes back through both pipes.
    const echo = new ClusterPortListener({
      nodeId: 'echo',
      secret: SECRET,
      epoch: () => '1',
      log: silent,
      onReplica: (socket) => socket.destroy(),
      onTunnel: (socket, _target, leftover) => {
        if (leftover.length > 0) socket.write(leftover);
        socket.pipe(socket);
      },
    });
    const port = await echo.listen('127.0.0.1', 0);
    const { front, ports } = await startFront(() => ({ host: '127.0.0.1', port, nodeId: 'echo' }), { http: 0 });
    try {
      const sent = randomBytes(16 * 1024 * 1024);
      const client = netConnect({ host: '127.0.0.1', port: ports.http });
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      const ended = once(client, 'end');
      await once(client, 'connect');
      client.end(sent);
      await ended;
      const received = Buffer.concat(chunks);
      expect(received.length).toBe(sent.length);
      expect(createHash('sha256').update(received).digest('hex')).toBe(createHash('sha256').update(sent).digest('hex'));
    } finally {
      await front.close();
      await echo.close();
    }
  });
});

describe('a follower without a leader', () => {
  let front: TunnelFront;
  let ports: { http: number; amqp?: number };
  let unreachable: TunnelFront;
  let unreachablePorts: { http: number; amqp?: number };
  const infos: string[] = [];
  const unreachableLog: Logger = { ...silent, info: (_o, msg) => void infos.push(msg ?? '') };

  beforeAll(async () => {
    ({ front, ports } = await startFront(() => undefined, { http: 0, amqp: 0 }));
    // A leader whose cluster port is gone: a port that was free a moment ago.
    const probe = netConnect({ host: '127.0.0.1', port: ports.http });
    await once(probe, 'connect');
    const gone = probe.localPort ?? 1;
    probe.destroy();
    ({ front: unreachable, ports: unreachablePorts } = await startFront(() => ({ host: '127.0.0.1', port: gone, nodeId: 'ghost' }), { http: 0, amqp: 0 }, { log: unreachableLog }));
  });
  afterAll(async () => {
    await front?.close();
    await unreachable?.close();
  });

  it('answers HTTP with 503 and a JSON body naming the reason', async () => {
    const answer = await get(ports.http, '/api/overview');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.text)).toEqual({ error: 'no_leader', reason: expect.stringMatching(/no leader/) });
  });

  it('closes AMQP connections', async () => {
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)).rejects.toThrow();
  });

  it('answers 503 too when the leader cannot be reached', async () => {
    const answer = await get(unreachablePorts.http, '/api/overview');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.text)).toEqual({ error: 'no_leader', reason: expect.stringMatching(/ghost unreachable/) });
    await expect(amqp.connect(`amqp://guest:guest@127.0.0.1:${unreachablePorts.amqp}`)).rejects.toThrow();
    // One line for the outage, not one per client.
    expect(infos.filter((line) => line.startsWith('tunnel: cannot reach leader ghost'))).toHaveLength(1);
  });
});

describe('tunnels to a TLS leader: TLS end to end', () => {
  let pki: TestPki;
  let warren: TlsWarren;
  let leader: { listener: ClusterPortListener; address: LeaderAddress };
  let front: TunnelFront;
  let ports: { http: number; amqp?: number; amqps?: number };

  beforeAll(async () => {
    pki = new TestPki();
    warren = await startTlsWarren(pki, pki.issue('localhost', { server: true }));
    leader = await startLeader(warren);
    ({ front, ports } = await startFront(() => leader.address, { http: 0, amqp: 'off', amqps: 0 }, { tls: true }));
  });
  afterAll(async () => {
    await front?.close();
    await leader?.listener.close();
    await warren?.stop();
    pki?.remove();
  });

  it('carries AMQPS and HTTPS; the leader sees the TLS session and the client address', async () => {
    // Not a literal: amqplib's types do not name net.connect's localAddress, which it passes on.
    const options = { ca: [pki.ca.cert], servername: 'localhost', localAddress: CLIENT_ADDRESS, clientProperties: { connection_name: 'amqps-through-tunnel' } };
    const conn = await amqp.connect(`amqps://guest:guest@127.0.0.1:${ports.amqps}`, options);
    try {
      const channel = await conn.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('secret'));
      await expect.poll(async () => (await channel.get(queue, { noAck: true })) !== false).toBe(true);
      const stream = (conn as unknown as { connection: { stream: Socket } }).connection.stream;
      const listing = (await httpsRequest(`https://127.0.0.1:${ports.http}/api/connections`, { ca: pki.ca.cert })).body as Listing;
      const listed = listing.find((c) => c.user_provided_name === 'amqps-through-tunnel');
      expect(listed).toMatchObject({ ssl: true, peer_host: CLIENT_ADDRESS, peer_port: stream.localPort });
    } finally {
      await conn.close();
    }
  });
});
