/**
 * Sockets held open by clients that never finish what they started: a WebSocket that never sends
 * `connect` (and never answers the close handshake), HTTP headers sent half-way, and a flood of broken
 * frames that must not flood the log.
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

const running: RunningWarren[] = [];
const children: ChildBroker[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const warren of running.splice(0)) await warren.stop();
  for (const child of children.splice(0)) child.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a client that never logs in', () => {
  it('is dropped after the handshake timeout even if it ignores the close handshake', async () => {
    const warren = await startWarren({ handshakeTimeout: 200 });
    running.push(warren);
    // A raw upgrade, so nothing on this side answers the server's close frame.
    const raw = net.connect(Number(new URL(warren.url).port), '127.0.0.1');
    raw.write(
      'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let received = '';
    raw.on('data', (chunk: Buffer) => void (received += chunk.toString('latin1')));
    // Without the grace period `ws` would hold the socket for 30 s: this waits far less (the test's timeout).
    await new Promise<void>((resolve) => raw.once('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 101/);
    // The server said why before it hung up: a close push naming the handshake timeout.
    expect(received).toMatch(/no 'connect' within 200 ms/);
  });
});

describe('half-sent HTTP headers', () => {
  it('are answered 408 and the socket closed (Node would hold them up to 90 s)', async () => {
    const warren = await startWarren();
    running.push(warren);
    const port = Number(new URL(warren.url).port);
    const socket = net.connect(port, '127.0.0.1');
    socket.write('GET /api/overview HTTP/1.1\r\nHost: localhost\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => void (answer += chunk.toString()));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  }, 30_000);
});

describe('broken WebSocket frames', () => {
  it('close their connection without an error-level log line each', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-hostile-'));
    dirs.push(dataDir);
    const broker = await spawnBroker(dataDir);
    children.push(broker);
    const errorLines = (): number => broker.output().split('\n').filter((line) => line.includes('"level":50')).length;
    const before = errorLines();
    for (let i = 0; i < 20; i++) {
      const socket = new WebSocket(broker.wsUrl);
      await new Promise((resolve) => socket.once('open', resolve));
      const raw = (socket as unknown as { _socket: net.Socket })._socket;
      // A masked text frame whose payload is not UTF-8.
      const mask = Buffer.from([1, 2, 3, 4]);
      const payload = Buffer.from([0xff ^ 1, 0xfe ^ 2]);
      raw.write(Buffer.concat([Buffer.from([0x81, 0x82]), mask, payload]));
      const code = await new Promise<number>((resolve) => socket.once('close', (c: number) => resolve(c)));
      expect(code).toBe(1007);
    }
    // Still serving, and the log holds no error line for the client's mistakes.
    const ok = await fetch(`${broker.url}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    expect(ok.status).toBe(200);
    expect(errorLines() - before).toBe(0);
  });
});
