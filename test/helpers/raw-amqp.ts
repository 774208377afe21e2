// A tiny raw AMQP 0-9-1 client for protocol tests, built on Warren's own codec so that a test can send
// exactly the bytes it wants (malformed frames included) and see exactly what the broker answers. It is
// deliberately not a real client: no recovery, no flow control, heartbeats off.
import { connect as tcpConnect, type Socket } from 'node:net';
import {
  buildMethod,
  ContentAssembler,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  FrameReader,
  FRAME_HEARTBEAT,
  PROTOCOL_HEADER,
  type AmqpMethod,
  type BasicProperties,
  type FieldTable,
  type MethodName,
  type MethodOf,
} from '../../src/protocol/amqp/index.js';

export interface RawAmqpOptions {
  readonly port: number;
  readonly host?: string;
  readonly user?: string;
  readonly password?: string;
  readonly vhost?: string;
  /** frame_max to answer tune with; the server's own by default. */
  readonly frameMax?: number;
  /** Default wait for any expected frame, in ms. */
  readonly timeoutMs?: number;
}

/** What arrived from the broker, in order. */
export type RawEvent =
  | { readonly kind: 'method'; readonly channel: number; readonly method: AmqpMethod; readonly body?: Buffer }
  /** The broker sent bytes our codec refuses (or its protocol header back): the stream is lost. */
  | { readonly kind: 'garbage'; readonly detail: string }
  | { readonly kind: 'end' };

/** How a broker answered a scenario: a close method, a socket closed without one, or nothing wrong. */
export type Outcome =
  | { readonly kind: 'channel.close' | 'connection.close'; readonly replyCode: number; readonly replyText: string; readonly classId: number; readonly methodId: number }
  | { readonly kind: 'socket-closed' }
  | { readonly kind: 'ok' };

const CLIENT_PROPERTIES: FieldTable = new Map([
  ['product', { type: 'longstr', value: Buffer.from('warren raw-amqp test client') }],
  [
    'capabilities',
    {
      type: 'table',
      value: new Map([
        ['authentication_failure_close', { type: 'bool', value: true }],
        ['consumer_cancel_notify', { type: 'bool', value: true }],
        ['publisher_confirms', { type: 'bool', value: true }],
      ]),
    },
  ],
]);

export function describeEvent(e: RawEvent): string {
  if (e.kind === 'end') return 'socket closed';
  if (e.kind === 'garbage') return `undecodable bytes (${e.detail})`;
  const m = e.method;
  if (m.method === 'channel.close' || m.method === 'connection.close') {
    return `${m.method} on channel ${e.channel}: ${m.replyCode} "${m.replyText}" (${m.classId}/${m.methodId})`;
  }
  return `${m.method} on channel ${e.channel}`;
}

export class RawAmqp {
  readonly timeoutMs: number;
  /** Every event so far, for failure messages. */
  readonly history: RawEvent[] = [];
  /** The server's connection.tune, once the handshake got that far. */
  tune: MethodOf<'connection.tune'> | undefined;
  private readonly inbox: RawEvent[] = [];
  private wake: (() => void) | undefined;
  private readonly reader = new FrameReader({ expectProtocolHeader: false, frameMax: 0 });
  private readonly assemblers = new Map<number, ContentAssembler>();
  private ended = false;
  /** The broker sent connection.close (and was answered with close-ok). */
  private closedByBroker = false;

  private constructor(
    readonly socket: Socket,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // EPIPE/ECONNRESET after the broker hung up are expected in these tests; 'close' reports the end.
    socket.on('error', () => undefined);
    socket.on('close', () => this.push({ kind: 'end' }));
  }

  /** A TCP connection with nothing sent yet. */
  static async open(options: RawAmqpOptions): Promise<RawAmqp> {
    const socket = tcpConnect({ port: options.port, host: options.host ?? '127.0.0.1' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawAmqp(socket, options.timeoutMs ?? 3000);
  }

  /** Protocol header, start-ok (PLAIN), tune-ok (heartbeats off); connection.open is left to the caller. */
  static async handshake(options: RawAmqpOptions): Promise<RawAmqp> {
    const c = await RawAmqp.open(options);
    c.send(PROTOCOL_HEADER);
    await c.expect(0, 'connection.start');
    const response = Buffer.from(`\0${options.user ?? 'guest'}\0${options.password ?? 'guest'}`);
    c.sendMethod(0, buildMethod('connection.start-ok', { clientProperties: CLIENT_PROPERTIES, mechanism: 'PLAIN', response, locale: 'en_US' }));
    const tune = await c.expect(0, 'connection.tune');
    c.tune = tune;
    c.sendMethod(0, buildMethod('connection.tune-ok', { channelMax: tune.channelMax, frameMax: options.frameMax ?? tune.frameMax, heartbeat: 0 }));
    return c;
  }

  /** A running connection: handshake and connection.open of `vhost` (default `/`). */
  static async connect(options: RawAmqpOptions): Promise<RawAmqp> {
    const c = await RawAmqp.handshake(options);
    await c.call(0, buildMethod('connection.open', { virtualHost: options.vhost ?? '/' }), 'connection.open-ok');
    return c;
  }

  get closed(): boolean {
    return this.ended;
  }

  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  sendMethod(channel: number, method: AmqpMethod): void {
    this.send(encodeMethodFrame(channel, method));
  }

  /** Sends a method and waits for `reply` on the same channel; anything else there fails clearly. */
  async call<N extends MethodName>(channel: number, method: AmqpMethod, reply: N, timeoutMs = this.timeoutMs): Promise<MethodOf<N>> {
    this.sendMethod(channel, method);
    return this.expect(channel, reply, timeoutMs);
  }

  async openChannel(channel: number): Promise<void> {
    await this.call(channel, buildMethod('channel.open', {}), 'channel.open-ok');
  }

  /** basic.publish with a content header and body frames (split at the negotiated frame_max). */
  publish(channel: number, method: MethodOf<'basic.publish'>, body: Uint8Array = Buffer.alloc(0), properties: BasicProperties = {}): void {
    this.sendMethod(channel, method);
    this.send(encodeContentHeaderFrame(channel, body.byteLength, properties));
    for (const frame of encodeBodyFrames(channel, body, this.tune?.frameMax ?? 131072)) this.send(frame);
  }

  /** The next event on `channel` (or channel 0, or the end of the socket); events on other channels
   * stay queued. Fails with the whole history if nothing comes in time. */
  async next(channel: number, timeoutMs = this.timeoutMs, what = `a frame on channel ${channel}`): Promise<RawEvent> {
    return this.waitFor(() => this.take((e) => e.kind !== 'method' || e.channel === channel || e.channel === 0), timeoutMs, what);
  }

  /** Waits for method `name` on `channel`; a close, the socket's end or another method instead fails. */
  async expect<N extends MethodName>(channel: number, name: N, timeoutMs = this.timeoutMs): Promise<MethodOf<N>> {
    const e = await this.next(channel, timeoutMs, `${name} on channel ${channel}`);
    if (e.kind === 'method' && e.channel === channel && e.method.method === name) return e.method as MethodOf<N>;
    throw new Error(`raw-amqp: expected ${name} on channel ${channel}, got ${describeEvent(e)}`);
  }

  /** Waits for a method on `channel` that carries content (basic.get-ok, basic.deliver) and its body. */
  async expectContent<N extends 'basic.get-ok' | 'basic.deliver'>(channel: number, name: N, timeoutMs = this.timeoutMs): Promise<{ method: MethodOf<N>; body: Buffer }> {
    const e = await this.next(channel, timeoutMs, `${name} on channel ${channel}`);
    if (e.kind === 'method' && e.channel === channel && e.method.method === name && e.body) return { method: e.method as MethodOf<N>, body: e.body };
    throw new Error(`raw-amqp: expected ${name} with content on channel ${channel}, got ${describeEvent(e)}`);
  }

  /** How the broker reacted to what was sent: sends a harmless synchronous probe (basic.qos 0 on
   * `channel`) and takes the first close on any channel, the socket's end, or the probe's answer. */
  async outcome(channel: number, timeoutMs = this.timeoutMs): Promise<Outcome> {
    if (channel !== 0) this.sendMethod(channel, buildMethod('basic.qos', { prefetchCount: 0 }));
    const isAnswer = (e: RawEvent): boolean =>
      e.kind !== 'method' || e.method.method === 'channel.close' || e.method.method === 'connection.close' || (e.channel === channel && e.method.method === 'basic.qos-ok');
    const e = await this.waitFor(() => this.take(isAnswer), timeoutMs, 'close, end of socket or answer to the probe');
    if (e.kind === 'end') return { kind: 'socket-closed' };
    if (e.kind === 'garbage') throw new Error(`raw-amqp: ${describeEvent(e)}`);
    const m = e.method;
    if (m.method === 'channel.close' || m.method === 'connection.close') {
      return { kind: m.method, replyCode: m.replyCode, replyText: m.replyText, classId: m.classId, methodId: m.methodId };
    }
    return { kind: 'ok' };
  }

  /** Waits for the socket to end (the broker hung up), failing after the timeout. */
  async waitForEnd(timeoutMs = this.timeoutMs): Promise<void> {
    await this.waitFor(() => (this.ended ? true : undefined), timeoutMs, 'end of socket');
  }

  /** Closes politely when possible and always destroys the socket. */
  async close(): Promise<void> {
    if (!this.ended && !this.closedByBroker) {
      this.sendMethod(0, buildMethod('connection.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }));
      // close-ok, a close crossing ours, or the socket's end: the client closes the socket after that.
      await this.next(0, 1000).catch(() => undefined);
    }
    this.socket.destroy();
  }

  historyText(): string {
    return this.history.length === 0 ? 'nothing' : this.history.map(describeEvent).join('; ');
  }

  /** Removes and returns the first queued event that matches; the end of the socket stays queued, so
   * every later wait sees it too. */
  private take(match: (e: RawEvent) => boolean): RawEvent | undefined {
    const i = this.inbox.findIndex(match);
    const e = this.inbox[i];
    if (e && e.kind !== 'end') this.inbox.splice(i, 1);
    return e;
  }

  /** Polls `get` each time an event arrives; one waiter at a time, as tests drive a connection serially. */
  private async waitFor<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = get();
      if (got !== undefined) return got;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`raw-amqp: no ${what} within ${timeoutMs} ms; received: ${this.historyText()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private onData(chunk: Buffer): void {
    for (const r of this.reader.read(chunk)) {
      if (r.kind === 'bad-header') {
        this.push({ kind: 'garbage', detail: `protocol header ${r.received.toString('hex')}` });
        return;
      }
      if (r.kind === 'error') {
        this.push({ kind: 'garbage', detail: r.replyText });
        return;
      }
      if (r.type === FRAME_HEARTBEAT) continue;
      let assembler = this.assemblers.get(r.channel);
      if (!assembler) this.assemblers.set(r.channel, (assembler = new ContentAssembler()));
      const command = assembler.push(r);
      if (command === undefined) continue;
      if ('kind' in command) {
        this.push({ kind: 'garbage', detail: command.replyText });
        return;
      }
      const { method, content } = command;
      // Answer the broker's closes as a well-behaved client would, so the broker finishes cleanly.
      if (method.method === 'channel.close') this.sendMethod(r.channel, buildMethod('channel.close-ok', {}));
      if (method.method === 'connection.close') {
        this.sendMethod(0, buildMethod('connection.close-ok', {}));
        this.closedByBroker = true;
      }
      if (method.method === 'channel.close' || method.method === 'channel.close-ok') this.assemblers.delete(r.channel);
      this.push(content ? { kind: 'method', channel: r.channel, method, body: Buffer.from(content.body) } : { kind: 'method', channel: r.channel, method });
    }
  }

  private push(e: RawEvent): void {
    if (this.ended) return;
    if (e.kind === 'end') this.ended = true;
    this.history.push(e);
    this.inbox.push(e);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Sends raw bytes on a fresh socket and collects whatever comes back until the broker closes it (or
 * the timeout passes: then `closed` is false). For protocol-header cases. */
export async function exchangeRaw(port: number, bytes: Uint8Array, timeoutMs = 3000, host = '127.0.0.1'): Promise<{ received: Buffer; closed: boolean }> {
  const socket = tcpConnect({ port, host });
  const parts: Buffer[] = [];
  socket.on('data', (b: Buffer) => parts.push(b));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(bytes);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  return { received: Buffer.concat(parts), closed };
}
