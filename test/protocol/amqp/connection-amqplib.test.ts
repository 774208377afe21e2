// The state machine behind a real TCP socket with amqplib, an independent client, on the other end: the
// small driver below is what a listener will do (FrameReader in, actions out), kept in the test because
// the listener is not wired yet.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import amqplib from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionMachine } from '../../../src/protocol/amqp/connection-machine.js';
import type { ConnectionAction, ConnectionUser } from '../../../src/protocol/amqp/connection-types.js';
import { FrameReader } from '../../../src/protocol/amqp/frame-reader.js';

type Action = ConnectionAction<ConnectionUser>;

function drive(socket: Socket, log: Action[]): void {
  const reader = new FrameReader();
  const machine = new ConnectionMachine<ConnectionUser>({
    server: { version: 'test', platform: 'Node.js' },
    hooks: {
      authenticate: async ({ user, password }) => (user === 'guest' && password === 'guest' ? { ok: true, user: { name: user } } : { ok: false }),
      canOpen: async (_user, vhost) => (vhost === '/' ? { ok: true } : { ok: false }),
    },
  });
  const apply = (actions: Action[]): void => {
    for (const a of actions) {
      log.push(a);
      if (a.kind === 'send') socket.write(a.bytes);
      else if (a.kind === 'tuned') reader.frameMax = a.frameMax;
      else if (a.kind === 'close-socket') socket.end(); // lingerMs is ignored here: tests should not wait 3 s
    }
  };
  let queue = Promise.resolve();
  socket.on('data', (chunk) => {
    // Inputs are applied strictly in order: a hook's promise must settle before the next frame.
    queue = queue.then(async () => {
      reader.push(chunk);
      for (;;) {
        const result = reader.next();
        if (reader.headerAccepted && machine.state === 'awaiting-header') apply(machine.protocolHeader());
        if (!result) return;
        apply(await machine.receive(result));
        if (result.kind !== 'frame' || machine.state === 'closed') return;
      }
    });
  });
  socket.on('error', () => socket.destroy());
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(log: Action[]): Promise<number> {
  server = createServer((socket) => drive(socket, log));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('ConnectionMachine with amqplib over TCP', () => {
  it('amqplib connects, sees the server properties, and closes cleanly', async () => {
    const log: Action[] = [];
    const port = await listen(log);
    const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}/?heartbeat=5`);
    expect(conn.connection.serverProperties).toMatchObject({ product: 'Warren', version: 'test', platform: 'Node.js' });
    await conn.close();
    expect(log).toContainEqual({ kind: 'tuned', channelMax: 2047, frameMax: 131072, heartbeat: 5 });
    expect(log).toContainEqual({ kind: 'opened', user: { name: 'guest' }, vhost: '/' });
    expect(log.at(-1)).toMatchObject({ kind: 'close-socket', reason: 'client-closed' });
  });

  it('bad credentials: amqplib reports ACCESS_REFUSED (it sends authentication_failure_close)', async () => {
    const port = await listen([]);
    await expect(amqplib.connect(`amqp://guest:nope@127.0.0.1:${port}/`)).rejects.toThrow(/ACCESS_REFUSED - Login was refused/);
  });

  it('a refused vhost: amqplib gets connection.close instead of open-ok', async () => {
    const log: Action[] = [];
    const port = await listen(log);
    // amqplib names only the method it got during the handshake, not its reply text.
    await expect(amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}/other`)).rejects.toThrow(/Expected ConnectionOpenOk; got <ConnectionClose/);
    const close = log.find((a) => a.kind === 'send' && a.method?.method === 'connection.close');
    expect(close).toMatchObject({ method: { replyCode: 530, replyText: "NOT_ALLOWED - access to vhost 'other' refused for user 'guest'" } });
  });
});
