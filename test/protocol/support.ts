/**
 * Shared helpers for the protocol integration tests: unique names, round trips ("everything the server
 * pushed before this reply has arrived"), consumers that collect their deliveries, and a raw WebSocket
 * client for what the bundled client hides (exact frames, ids, close pushes, pings).
 *
 * Waits never assert timing: they resolve on an event and only carry a generous safety timeout so a
 * broken server fails a test with a useful message instead of hanging until the test timeout.
 */
import WebSocket from 'ws';
import type { Consumer, ConsumeOptions, ReceivedMessage, WarrenConnection } from '../../src/client/index.js';
import type { ConnectionEvents } from '../../src/client/index.js';

export type Frame = Record<string, unknown> & { op: string };

/** Safety net for waits; not an assertion about speed. */
export const WAIT_MS = 5_000;

let counter = 0;

/** A name no other test uses (the suites share nothing, but tests within a file share a server). */
export function uniqueName(prefix = 'q'): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A round trip on `conn`. Replies are sent in order after everything the server pushed earlier on the
 * same connection, so once this resolves every earlier delivery/return/cancelled push has been handled.
 */
export async function sync(conn: WarrenConnection): Promise<void> {
  await conn.request({ op: 'exchange.declare', exchange: 'amq.direct', passive: true });
}

export function withTimeout<T>(promise: Promise<T>, what: string | (() => string), ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next value of a connection event. */
export function once<E extends keyof ConnectionEvents>(
  conn: WarrenConnection,
  event: E,
  ms = WAIT_MS,
): Promise<ConnectionEvents[E]> {
  return withTimeout(
    new Promise<ConnectionEvents[E]>((resolve) => {
      const listener = (value: ConnectionEvents[E]): void => {
        conn.off(event, listener);
        resolve(value);
      };
      conn.on(event, listener);
    }),
    `event '${String(event)}'`,
    ms,
  );
}

/** Every value of a connection event, in order. */
export function record<E extends keyof ConnectionEvents>(conn: WarrenConnection, event: E): Array<ConnectionEvents[E]> {
  const values: Array<ConnectionEvents[E]> = [];
  conn.on(event, (value) => values.push(value));
  return values;
}

export interface Collector {
  readonly consumer: Consumer;
  readonly messages: ReceivedMessage[];
  /** Resolves once at least `count` deliveries have arrived. */
  waitFor(count: number, ms?: number): Promise<ReceivedMessage[]>;
  /** The bodies received so far, as text. */
  bodies(): string[];
}

/** Starts a consumer whose deliveries are collected in arrival order. */
export async function collect(conn: WarrenConnection, options: ConsumeOptions): Promise<Collector> {
  const messages: ReceivedMessage[] = [];
  let wake: (() => void) | undefined;
  const consumer = await conn.consume(options, (message) => {
    messages.push(message);
    wake?.();
  });
  return {
    consumer,
    messages,
    bodies: () => messages.map((m) => m.text()),
    waitFor: (count, ms = WAIT_MS) =>
      withTimeout(
        (async () => {
          while (messages.length < count) await new Promise<void>((resolve) => (wake = resolve));
          return messages;
        })(),
        () => `${count} deliveries to ${consumer.consumerTag} (got ${messages.length}: ${JSON.stringify(messages.map((m) => m.text()))})`,
        ms,
      ),
  };
}

/** Declares a fresh non-durable queue and returns its name. */
export async function freshQueue(
  conn: WarrenConnection,
  options: { arguments?: Record<string, unknown>; prefix?: string } = {},
): Promise<string> {
  const queue = uniqueName(options.prefix ?? 'q');
  await conn.queueDeclare({ queue, arguments: options.arguments });
  return queue;
}

/** Publishes text bodies to a queue through the default exchange, each with a confirm. */
export async function publishAll(conn: WarrenConnection, queue: string, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    const { routed } = await conn.publish({ routingKey: queue, body });
    if (!routed) throw new Error(`'${body}' was not routed to '${queue}'`);
  }
}

/** Ready-message count of a queue, through a passive declare. */
export async function readyCount(conn: WarrenConnection, queue: string): Promise<number> {
  return (await conn.queueDeclare({ queue, passive: true })).messageCount;
}

/** Drains a queue with `get` (noAck) and returns the bodies in queue order. */
export async function drain(conn: WarrenConnection, queue: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const message = await conn.get({ queue, noAck: true });
    if (!message) return bodies;
    bodies.push(message.text());
  }
}

const rawSockets = new Set<RawSocket>();

/** Terminates every raw socket still open (call from afterAll/afterEach). */
export function closeRawSockets(): void {
  for (const socket of rawSockets) socket.terminate();
  rawSockets.clear();
}

export interface CloseEvent {
  code: number;
  reason: string;
}

/** A WebSocket speaking raw JSON frames, recording everything the server sends. */
export class RawSocket {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<CloseEvent>;
  closeEvent: CloseEvent | undefined;
  readonly #ws: WebSocket;
  #cursor = 0;
  #nextId = 0;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        rawSockets.delete(this);
        resolve(this.closeEvent);
        this.#wake();
      });
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.#wake();
    });
    ws.on('error', () => undefined); // always followed by 'close'
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const raw = new RawSocket(ws);
      ws.once('open', () => {
        rawSockets.add(raw);
        resolve(raw);
      });
      ws.once('error', reject);
    });
  }

  /** Opens a socket and performs a successful `connect` as guest. */
  static async connected(url: string, options: WebSocket.ClientOptions = {}, connect: Record<string, unknown> = {}): Promise<RawSocket> {
    const raw = await RawSocket.open(url, options);
    raw.send({ op: 'connect', id: 'connect', username: 'guest', password: 'guest', ...connect });
    const ok = await raw.next();
    if (ok.op !== 'ok') throw new Error(`connect failed: ${JSON.stringify(ok)}`);
    return raw;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Sends an object as JSON, or a string as is. */
  send(frame: Record<string, unknown> | string): void {
    this.#ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendBinary(bytes: Uint8Array): void {
    this.#ws.send(bytes, { binary: true });
  }

  /** Sends `frame` with a fresh string id and resolves with the reply carrying that id. */
  request(frame: Record<string, unknown>, ms = WAIT_MS): Promise<Frame> {
    const id = `raw-${++this.#nextId}`;
    this.send({ ...frame, id });
    return this.waitFor((f) => f.id === id, `the reply to ${String(frame.op)} (${id})`, ms);
  }

  /** The next frame in arrival order not yet returned by `next()`. */
  next(ms = WAIT_MS): Promise<Frame> {
    return this.#until(() => (this.#cursor < this.frames.length ? this.frames[this.#cursor++] : undefined), 'the next frame', ms);
  }

  /** The first frame received (at any time, read or not) that matches. */
  waitFor(match: (frame: Frame) => boolean, what = 'a matching frame', ms = WAIT_MS): Promise<Frame> {
    return this.#until(() => this.frames.find(match), what, ms);
  }

  /** Frames received since the last `next()`, marking them read. */
  unread(): Frame[] {
    const rest = this.frames.slice(this.#cursor);
    this.#cursor = this.frames.length;
    return rest;
  }

  close(): void {
    this.#ws.close(1000);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  #until<T>(check: () => T | undefined, what: string, ms: number): Promise<T> {
    return withTimeout(
      (async () => {
        for (;;) {
          const found = check();
          if (found !== undefined) return found;
          if (this.closeEvent) {
            throw new Error(`socket closed (${this.closeEvent.code}) while waiting for ${what}; got ${JSON.stringify(this.frames)}`);
          }
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      () => `${what}; got ${JSON.stringify(this.frames)}`,
      ms,
    );
  }
}
