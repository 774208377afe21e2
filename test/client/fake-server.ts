/**
 * A scriptable stand-in for the Warren server, for testing the client before (and independently of) the
 * real one. It answers `connect` (guest/guest), answers every other frame carrying an id with a plausible
 * `ok`, records every frame, and lets a test script pushes and replies.
 */
import { WebSocketServer, type WebSocket } from 'ws';

export type Frame = Record<string, unknown>;

export interface Peer {
  socket: WebSocket;
  send(frame: Frame): void;
}

/** Return true when the frame was fully handled; otherwise the default answer follows. */
export type Handler = (frame: Frame, peer: Peer) => boolean | void;

export interface FakeServer {
  url: string;
  /** Every frame received, in order, from every connection. */
  frames: Frame[];
  peers: Peer[];
  handler: Handler | undefined;
  /** Resolves with the first received frame (past or future) matching `predicate`. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  stop(): Promise<void>;
}

function defaultOk(frame: Frame): Frame {
  switch (frame.op) {
    case 'queue.declare':
      return { queue: frame.queue || 'amq.gen-fake', messageCount: 0, consumerCount: 0 };
    case 'queue.purge':
    case 'queue.delete':
      return { messageCount: 0 };
    case 'publish':
      return { routed: true };
    case 'consume':
      return { consumerTag: frame.consumerTag || 'amq.ctag-fake' };
    case 'get':
      return { message: null };
    default:
      return {};
  }
}

export async function startFakeServer(handler?: Handler): Promise<FakeServer> {
  const wss = new WebSocketServer({ port: 0, path: '/ws' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  const server: FakeServer = {
    url: `ws://127.0.0.1:${address.port}/ws`,
    frames: [],
    peers: [],
    handler,
    async waitFor(predicate, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = server.frames.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
    stop() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };

  wss.on('connection', (socket) => {
    const peer: Peer = { socket, send: (frame) => socket.send(JSON.stringify(frame)) };
    server.peers.push(peer);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      server.frames.push(frame);
      if (server.handler?.(frame, peer) === true) return;
      const { id } = frame;
      if (frame.op === 'connect') {
        if (frame.username === 'guest' && frame.password === 'guest') {
          peer.send({ op: 'ok', id, server: 'warren', version: '0.1.0', heartbeat: 30 });
        } else {
          peer.send({ op: 'error', id, code: 530, reason: 'NOT_ALLOWED', message: 'bad credentials' });
          peer.send({ op: 'close', code: 530, reason: 'NOT_ALLOWED', message: 'bad credentials' });
          socket.close();
        }
        return;
      }
      if (id === undefined) return;
      peer.send({ op: 'ok', id, ...defaultOk(frame) });
      if (frame.op === 'close') socket.close();
    });
  });
  return server;
}
