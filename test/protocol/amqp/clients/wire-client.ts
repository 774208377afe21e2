/**
 * A minimal AMQP 0-9-1 client built on Warren's own codec (src/protocol/amqp), for what no library
 * client can do: publish all 14 basic properties (amqplib never sends cluster-id, pika cannot encode
 * floats) and read headers back with their exact wire types (every library folds int8…int64 into one
 * number). It runs over TCP to either broker, so RabbitMQ checks what it expects. Only what the
 * cross-protocol test needs: one channel, publish, get, queue declare/delete, close.
 */
import { connect, type Socket } from 'node:net';
import {
  ContentAssembler,
  FRAME_HEARTBEAT,
  FrameReader,
  PROTOCOL_HEADER,
  buildMethod,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  type AmqpMethod,
  type BasicProperties,
  type Command,
  type FieldTable,
} from '../../../../src/protocol/amqp/index.js';

const FRAME_MAX = 131072;

export interface WireMessage {
  readonly properties: BasicProperties;
  readonly body: Buffer;
  readonly redelivered: boolean;
}

export class WireClient {
  readonly #socket: Socket;
  readonly #reader = new FrameReader({ expectProtocolHeader: false });
  readonly #assembler = new ContentAssembler();
  #waiting: { resolve(c: Command): void; reject(e: Error): void } | undefined;
  #queued: Command[] = [];
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('socket closed')));
  }

  /** Connects as the URL's user to vhost `/` and opens channel 1. */
  static async open(amqpUrl: string): Promise<WireClient> {
    const url = new URL(amqpUrl);
    const socket = connect(Number(url.port || 5672), url.hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new WireClient(socket);
    socket.write(PROTOCOL_HEADER);
    await client.#expect(0, 'connection.start');
    const clientProperties: FieldTable = new Map([['product', { type: 'longstr', value: Buffer.from('warren wire-client') }]]);
    const response = Buffer.from(`\0${decodeURIComponent(url.username)}\0${decodeURIComponent(url.password)}`);
    client.#send(0, buildMethod('connection.start-ok', { clientProperties, mechanism: 'PLAIN', response, locale: 'en_US' }));
    const tune = await client.#expect(0, 'connection.tune');
    client.#send(0, buildMethod('connection.tune-ok', { channelMax: tune.channelMax, frameMax: FRAME_MAX, heartbeat: 0 }));
    client.#send(0, buildMethod('connection.open', { virtualHost: '/' }));
    await client.#expect(0, 'connection.open-ok');
    client.#send(1, buildMethod('channel.open', {}));
    await client.#expect(1, 'channel.open-ok');
    return client;
  }

  publish(exchange: string, routingKey: string, properties: BasicProperties, body: Uint8Array): void {
    this.#socket.write(encodeMethodFrame(1, buildMethod('basic.publish', { exchange, routingKey })));
    this.#socket.write(encodeContentHeaderFrame(1, body.byteLength, properties));
    for (const frame of encodeBodyFrames(1, body, FRAME_MAX)) this.#socket.write(frame);
  }

  async declareQueue(queue: string): Promise<string> {
    this.#send(1, buildMethod('queue.declare', { queue, exclusive: true }));
    return (await this.#expect(1, 'queue.declare-ok')).queue;
  }

  /** basic.get with no-ack; null on get-empty. */
  async get(queue: string): Promise<WireMessage | null> {
    this.#send(1, buildMethod('basic.get', { queue, noAck: true }));
    const command = await this.#next();
    if (command.method.method === 'basic.get-empty') return null;
    if (command.method.method !== 'basic.get-ok' || !command.content) throw new Error(`expected basic.get-ok, got ${command.method.method}`);
    return { properties: command.content.properties, body: Buffer.from(command.content.body), redelivered: command.method.redelivered };
  }

  async close(): Promise<void> {
    this.#send(0, buildMethod('connection.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }));
    await this.#expect(0, 'connection.close-ok').catch(() => undefined);
    this.#socket.destroy();
  }

  #send(channel: number, method: AmqpMethod): void {
    this.#socket.write(encodeMethodFrame(channel, method));
  }

  async #expect<N extends AmqpMethod['method']>(channel: number, name: N): Promise<Extract<AmqpMethod, { method: N }>> {
    const command = await this.#next();
    const m = command.method;
    if (m.method !== name) {
      const detail = m.method === 'connection.close' || m.method === 'channel.close' ? ` ${m.replyCode} ${m.replyText}` : '';
      throw new Error(`expected ${name} on channel ${channel}, got ${m.method}${detail}`);
    }
    return m as Extract<AmqpMethod, { method: N }>;
  }

  #next(): Promise<Command> {
    const queued = this.#queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  #onData(chunk: Buffer): void {
    for (const result of this.#reader.read(chunk)) {
      if (result.kind !== 'frame') return this.#fail(new Error(`unreadable frame from the broker: ${JSON.stringify(result)}`));
      if (result.type === FRAME_HEARTBEAT) continue;
      const command = this.#assembler.push(result);
      if (command === undefined) continue;
      if ('kind' in command) return this.#fail(new Error(`bad command from the broker: ${command.replyText}`));
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting.resolve(command);
      else this.#queued.push(command);
    }
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(e);
  }
}
