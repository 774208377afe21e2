/**
 * A client that sends without ever reading what comes back. Whatever it sends, the broker stops reading
 * it once its replies back up, so its memory stays bounded and is released when the client goes; other
 * clients are served throughout.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { spawnBroker, type ChildBroker } from '../helpers/child-broker.js';

const children: ChildBroker[] = [];
const dirs: string[] = [];
const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const child of children.splice(0)) child.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** A masked WebSocket text frame, as a client must send it. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x81, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 255])
        : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), (() => {
            const b = Buffer.alloc(8);
            b.writeBigUInt64BE(BigInt(length));
            return b;
          })()]);
  return Buffer.concat([header, mask, payload]);
}

/** A raw client that upgrades, connects as guest, and from then on never reads a byte. */
async function deafClient(url: string): Promise<net.Socket> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise((resolve) => socket.once('data', resolve));
  socket.write(textFrame(JSON.stringify({ op: 'connect', id: 1, username: 'guest', password: 'guest', heartbeat: 0 })));
  await new Promise((resolve) => socket.once('data', resolve));
  socket.pause();
  return socket;
}

/** Writes frames until 300 MiB were sent or the broker stopped taking them (the local buffer fills). */
async function flood(socket: net.Socket, frame: Buffer): Promise<{ sentMiB: number }> {
  let sent = 0;
  while (sent < 300 * 1024 * 1024) {
    if (!socket.write(frame)) {
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
      ]);
      // Nothing more is being read: the broker has stopped reading this client.
      if (!drained) break;
    }
    sent += frame.length;
  }
  return { sentMiB: sent / 1024 / 1024 };
}

describe('a client that never reads', () => {
  it.each([
    ['1 MiB frames with an unknown op', () => textFrame(JSON.stringify({ op: 'x'.repeat(1024 * 1024) }))],
    ['1 MiB mandatory publishes that nothing routes (each comes back as a return)', () =>
      textFrame(JSON.stringify({ op: 'publish', exchange: 'amq.direct', routingKey: 'nowhere', mandatory: true, body: 'y'.repeat(1024 * 1024) }))],
  ])('%s: broker memory stays bounded, other clients are served, memory is released when it goes', async (_what, makeFrame) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-deaf-'));
    dirs.push(dataDir);
    const broker = await spawnBroker(dataDir);
    children.push(broker);
    const pid = broker.child.pid as number;
    const baseline = rssMiB(pid);
    const deaf = await deafClient(broker.url);
    await flood(deaf, makeFrame());
    const during = rssMiB(pid);
    // Another client is served meanwhile.
    const good = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    await good.queueDeclare({ queue: 'still-working' });
    expect(await good.publish({ routingKey: 'still-working', body: 'hello' })).toEqual({ routed: true });
    expect((await good.get({ queue: 'still-working', noAck: true }))?.text()).toBe('hello');
    await good.close();
    // Bounded: far below the hundreds of MiB the client tried to make the broker hold.
    expect(during - baseline).toBeLessThan(120);
    // When it goes, the broker lets go of its connection, and with it whatever was buffered for it.
    deaf.destroy();
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    let connections = -1;
    for (let i = 0; i < 100 && connections !== 0; i++) {
      const overview = (await (await fetch(`${broker.url}/api/overview`, { headers: auth })).json()) as { object_totals: { connections: number } };
      connections = overview.object_totals.connections;
      if (connections !== 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(connections).toBe(0);
  }, 60_000);
});
