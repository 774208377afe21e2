/**
 * One Warren connection: a WebSocket carrying JSON frames (docs/protocol.md). Requests get increasing
 * numeric ids and a pending entry in a Map; replies settle them, pushes go to consumers and listeners.
 */
import { decodeUtf8 } from './codec.js';
import { Consumer } from './consumer.js';
import { Emitter, type Listener } from './emitter.js';
import { ConnectionClosedError, WarrenError, type CloseInfo } from './errors.js';
import type { ClientFrame, ConnectOk, ConsumeOk, FrameId, OkReply, ServerFrame } from './frames.js';
import { ReceivedMessage, ReturnedMessage, type Settler } from './message.js';
import type * as O from './options.js';
import * as R from './requests.js';
import type { Mapper } from './requests.js';
import { OPEN, openSocket, resolveWebSocket } from './socket.js';
import { TokenRefresher } from './token.js';
import type { CloseEventLike, MessageEventLike, WebSocketLike } from './socket.js';

export interface ConnectionEvents {
  /** A mandatory message that could not be routed. */
  return: ReturnedMessage;
  /** An error frame answering a frame sent without `id` (or with an id this client did not send). */
  error: WarrenError;
  /** The connection closed: the server's `close` push, or undefined when there was none. */
  close: CloseInfo | undefined;
  /**
   * The broker cancelled this consumer tag: its queue was deleted, or a delivery was not acked within the
   * consumer timeout (then the Consumer's `cancelReason` says so, set before this fires).
   */
  cancelled: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(reason: Error): void;
  map: Mapper | undefined;
}

type State = 'connecting' | 'open' | 'closing' | 'closed';

export async function connect(url: string, options: O.ConnectOptions): Promise<WarrenConnection> {
  return WarrenConnection.connect(url, options);
}

export class WarrenConnection implements Settler {
  serverInfo: O.ServerInfo = { server: '', version: '', heartbeat: 0 };
  /** Resolves when the socket has closed, for whatever reason. Never rejects. */
  readonly closed: Promise<void>;
  #socket: WebSocketLike;
  #state: State = 'connecting';
  #nextId = 0;
  #pending = new Map<FrameId, Pending>();
  #consumers = new Map<string, Consumer>();
  #events = new Emitter<ConnectionEvents>();
  #closeInfo: CloseInfo | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  #refresher: TokenRefresher | undefined;

  /** Opens the socket and performs the `connect` handshake. */
  static async connect(url: string, options: O.ConnectOptions): Promise<WarrenConnection> {
    const socket = await openSocket(url, await resolveWebSocket(options.WebSocket, options.tls), options.tls);
    const connection = new WarrenConnection(socket);
    const { username, password, vhost = '/', heartbeat, clientProperties, token: tokenOption } = options;
    try {
      const token = typeof tokenOption === 'function' ? await tokenOption() : tokenOption;
      const credentials = token === undefined ? { username, password } : { token };
      const ok = await connection.#call<OkReply & ConnectOk>({ op: 'connect', vhost, ...credentials, heartbeat, clientProperties }, undefined);
      connection.serverInfo = { server: ok.server, version: ok.version, heartbeat: ok.heartbeat };
      connection.#state = 'open';
      if (typeof tokenOption === 'function' && token !== undefined) {
        connection.#refresher = new TokenRefresher(
          tokenOption,
          (next) => connection.updateToken(next),
          (error) => connection.#events.emit('error', error instanceof WarrenError ? error : new WarrenError(403, 'ACCESS_REFUSED', `token refresh failed: ${error.message}`)),
        );
        connection.#refresher.schedule(token);
      }
      return connection;
    } catch (err) {
      if (socket.readyState === OPEN) socket.close(1000);
      throw err;
    }
  }

  private constructor(socket: WebSocketLike) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    socket.onmessage = (event: MessageEventLike) => this.#onData(event.data);
    socket.onclose = (event: CloseEventLike) => this.#onClose(event);
    socket.onerror = () => {}; // always followed by close
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  on<E extends keyof ConnectionEvents>(event: E, listener: Listener<ConnectionEvents[E]>): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends keyof ConnectionEvents>(event: E, listener: Listener<ConnectionEvents[E]>): this {
    this.#events.off(event, listener);
    return this;
  }

  exchangeDeclare(o: O.ExchangeDeclareOptions): Promise<void> {
    const { exchange, type, durable, autoDelete, internal, passive, arguments: args } = o;
    const frame = { exchange, type, durable, autoDelete, internal, passive, arguments: args };
    return this.#call({ op: 'exchange.declare', ...frame }, R.toVoid);
  }

  exchangeDelete(o: O.ExchangeDeleteOptions): Promise<void> {
    return this.#call({ op: 'exchange.delete', exchange: o.exchange, ifUnused: o.ifUnused }, R.toVoid);
  }

  exchangeBind(o: O.ExchangeBindOptions): Promise<void> {
    return this.#bind('exchange.bind', o);
  }

  exchangeUnbind(o: O.ExchangeBindOptions): Promise<void> {
    return this.#bind('exchange.unbind', o);
  }

  #bind(op: 'exchange.bind' | 'exchange.unbind', o: O.ExchangeBindOptions): Promise<void> {
    const { destination, source, routingKey } = o;
    return this.#call({ op, destination, source, routingKey, arguments: o.arguments }, R.toVoid);
  }

  queueDeclare(o: O.QueueDeclareOptions = {}): Promise<O.QueueDeclareResult> {
    const { queue, durable, exclusive, autoDelete, passive, arguments: args } = o;
    const frame = { queue, durable, exclusive, autoDelete, passive, arguments: args };
    return this.#call({ op: 'queue.declare', ...frame }, R.toQueueDeclare);
  }

  queueBind(o: O.QueueBindOptions): Promise<void> {
    return this.#call({ op: 'queue.bind', ...R.bindingFields(o) }, R.toVoid);
  }

  queueUnbind(o: O.QueueBindOptions): Promise<void> {
    return this.#call({ op: 'queue.unbind', ...R.bindingFields(o) }, R.toVoid);
  }

  queuePurge(o: { queue: string }): Promise<O.MessageCountResult> {
    return this.#call({ op: 'queue.purge', queue: o.queue }, R.toMessageCount);
  }

  queueDelete(o: O.QueueDeleteOptions): Promise<O.MessageCountResult> {
    const frame = { queue: o.queue, ifUnused: o.ifUnused, ifEmpty: o.ifEmpty };
    return this.#call({ op: 'queue.delete', ...frame }, R.toMessageCount);
  }

  /** Publishes with a publisher confirm: resolves when the broker has taken responsibility for it. */
  publish(o: O.PublishOptions): Promise<O.PublishResult> {
    return this.#call(R.publishFrame(o), R.toPublishResult);
  }

  /** Publishes without a confirm; a failure arrives as an 'error' event (with `ref: 'publish'`). */
  publishNoConfirm(o: O.PublishOptions): void {
    this.#post(R.publishFrame(o));
  }

  qos(prefetch: number): Promise<void> {
    return this.#call({ op: 'qos', prefetch }, R.toVoid);
  }

  consume(o: O.ConsumeOptions, onMessage?: (message: ReceivedMessage) => void): Promise<Consumer> {
    const { queue, consumerTag, noAck, exclusive, prefetch, arguments: args } = o;
    // The consumer is registered synchronously with the reply, before any delivery can be dispatched.
    const register: Mapper = (ok) => {
      const tag = (ok as OkReply & ConsumeOk).consumerTag;
      const consumer = new Consumer(this, tag, queue, noAck === true, onMessage);
      this.#consumers.set(consumer.consumerTag, consumer);
      return consumer;
    };
    return this.#call({ op: 'consume', queue, consumerTag, noAck, exclusive, prefetch, arguments: args }, register);
  }

  async cancel(consumerTag: string): Promise<void> {
    await this.#call({ op: 'cancel', consumerTag }, R.toVoid);
    this.#consumers.get(consumerTag)?._end(false);
    this.#consumers.delete(consumerTag);
  }

  ack(deliveryTag: number, multiple = false): void {
    this.#post(multiple ? { op: 'ack', deliveryTag, multiple } : { op: 'ack', deliveryTag });
  }

  nack(deliveryTag: number, options: O.NackOptions = {}): void {
    this.#post({ op: 'nack', deliveryTag, multiple: options.multiple, requeue: options.requeue });
  }

  reject(deliveryTag: number, requeue = true): void {
    this.#post({ op: 'reject', deliveryTag, requeue });
  }

  recover(requeue = true): Promise<void> {
    return this.#call({ op: 'recover', requeue }, R.toVoid);
  }

  /** Fetches one message; null when the queue is empty. */
  get(o: O.GetOptions): Promise<ReceivedMessage | null> {
    return this.#call({ op: 'get', queue: o.queue, noAck: o.noAck }, R.toGetResult);
  }

  /**
   * Hands the broker a refreshed token before the current one expires (a connection opened with a token
   * provider does this by itself). Refused when the token is invalid or for another user.
   */
  updateToken(token: string): Promise<void> {
    return this.#call({ op: 'update-token', token }, R.toVoid);
  }

  /** Low level: sends `frame` with a fresh id; resolves with the `ok` frame, rejects with a WarrenError. */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.#call({ ...frame, id: undefined } as unknown as ClientFrame, undefined);
  }

  /** Low level: sends a text frame as is. */
  sendRaw(text: string): void {
    this.#assertOpen();
    this.#socket.send(text);
  }

  /** Closes the connection (the broker requeues unacked messages). Idempotent. */
  close(): Promise<void> {
    this.#refresher?.stop();
    if (this.#closing) return this.#closing;
    if (this.#state === 'closed') return this.closed;
    const reply = this.#state === 'open' ? this.#call({ op: 'close' }, R.toVoid) : Promise.resolve();
    this.#state = 'closing';
    this.#closing = reply.then(
      () => this.#finishClose(),
      () => this.#finishClose(),
    );
    return this.#closing;
  }

  #finishClose(): Promise<void> {
    if (this.#socket.readyState === OPEN) this.#socket.close(1000);
    return this.closed;
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new ConnectionClosedError(this.#closeInfo);
  }

  #call<T>(frame: ClientFrame, map: Mapper | undefined): Promise<T> {
    if (this.#state !== 'open' && !(this.#state === 'connecting' && frame.op === 'connect')) {
      return Promise.reject(new ConnectionClosedError(this.#closeInfo));
    }
    const id = ++this.#nextId;
    frame.id = id;
    const text = JSON.stringify(frame);
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, map });
      this.#socket.send(text);
    });
  }

  #post(frame: ClientFrame): void {
    this.#assertOpen();
    this.#socket.send(JSON.stringify(frame));
  }

  #onData(data: unknown): void {
    let frame: ServerFrame;
    try {
      const text = typeof data === 'string' ? data : decodeUtf8(new Uint8Array(data as ArrayBuffer));
      frame = JSON.parse(text) as ServerFrame;
      if (typeof frame !== 'object' || frame === null) throw new TypeError('not an object');
    } catch {
      this.#events.emit('error', new WarrenError(502, 'SYNTAX_ERROR', 'unparseable frame from the server'));
      return;
    }
    switch (frame.op) {
      case 'ok': {
        const pending = this.#pending.get(frame.id);
        if (!pending) return;
        this.#pending.delete(frame.id);
        pending.resolve(pending.map ? pending.map(frame, this) : frame);
        return;
      }
      case 'deliver':
        this.#consumers.get(frame.consumerTag)?._deliver(new ReceivedMessage(this, frame));
        return;
      case 'error': {
        const pending = frame.id === undefined ? undefined : this.#pending.get(frame.id);
        const error = new WarrenError(frame.code, frame.reason, frame.message, frame.ref, pending ? undefined : frame.id);
        if (!pending) return this.#events.emit('error', error);
        this.#pending.delete(frame.id as FrameId);
        pending.reject(error);
        return;
      }
      case 'return':
        this.#events.emit('return', new ReturnedMessage(frame));
        return;
      case 'cancelled':
        this.#consumers
          .get(frame.consumerTag)
          ?._end(false, frame.reason === undefined ? undefined : { reason: frame.reason, message: frame.message ?? '' });
        this.#consumers.delete(frame.consumerTag);
        this.#events.emit('cancelled', frame.consumerTag);
        return;
      case 'close':
        this.#closeInfo = { code: frame.code, reason: frame.reason, message: frame.message };
        if (this.#state !== 'closed') this.#state = 'closing';
        return;
    }
  }

  #onClose(event: CloseEventLike): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#refresher?.stop();
    this.#socket.onmessage = this.#socket.onclose = this.#socket.onerror = null;
    const error = new ConnectionClosedError(
      this.#closeInfo,
      this.#closeInfo ? undefined : `connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`,
    );
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
    const consumers = [...this.#consumers.values()];
    this.#consumers.clear();
    for (const consumer of consumers) consumer._end(true);
    this.#events.emit('close', this.#closeInfo);
    this.#resolveClosed();
  }
}
