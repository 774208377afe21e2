import type { AuthenticatedUser } from '../auth/authenticator.js';
import { Channel, type CancelReason, type DeliverySink } from '../broker/channel.js';
import type { Consumer } from '../broker/consumer.js';
import { BrokerError, isBrokerError, type ErrorName } from '../broker/errors.js';
import type { Message } from '../broker/message.js';
import { serverName } from '../broker/names.js';
import type { QueueEntry } from '../broker/queue.js';
import type { VHost } from '../broker/vhost.js';
import { providedName, type Alarm, type ChannelView, type ClientConnection, type Peer, type Traffic } from './client-connection.js';
import type { ConnectFrame, FrameId } from './frames.js';
import type { Caller } from '../operations/caller.js';
import type { Operations } from '../operations/operations.js';
import { dispatch, type Reply } from './handlers/index.js';
import { OrderedReplies } from './ordered-replies.js';
import { messageContentJson } from './wire-message.js';
import { ReplySubscription, type ReplyConsumer } from '../operations/direct-reply-to.js';
import { login, refreshToken, TokenExpiry } from './token-login.js';
import type { SessionContext, Transport } from './session-context.js';

/** awaiting-connect → authenticating → open → closed; nothing goes back. */
export type SessionState = 'awaiting-connect' | 'authenticating' | 'open' | 'closed';

/**
 * One WebSocket connection speaking the JSON protocol: parses and validates frames, runs them against
 * the broker through the dispatch table, and turns the broker's deliveries into pushes.
 */
export class Session implements DeliverySink, ClientConnection, ReplyConsumer {
  readonly id = serverName('conn-');
  readonly protocol = 'Warren JSON over WebSocket';
  readonly transport = 'websocket';
  get authMechanism(): string {
    return this.user?.grants ? 'OAUTH2' : 'PLAIN';
  }
  /** One channel, numbered 1 as an AMQP connection's first. */
  readonly channelMax = 1;
  readonly connectedAt = Date.now();
  state: SessionState = 'awaiting-connect';
  user: AuthenticatedUser | undefined;
  clientProperties: Record<string, unknown> = {};
  heartbeat = 0;
  /** Whether the client has published: under a memory alarm, publishers are not read. */
  hasPublished = false;
  private blocked = false;
  private currentChannel: Channel | undefined;
  private currentCaller: Caller | undefined;
  /** Frames that arrived while `connect` was being authenticated, handled in order afterwards. */
  private backlog: string[] = [];
  private lastHeard = Date.now();
  /** Work a handler asked to run once its reply is sent (a consumer starts delivering after consume-ok). */
  private pendingAfterReply: (() => void) | undefined;
  private readonly replies = new OrderedReplies(
    (text) => this.socket.send(text),
    () => this.state === 'closed',
  );
  private closeRequested = false;
  /** Its consumer on `amq.rabbitmq.reply-to` (direct reply-to), if it started one. */
  readonly replyConsumer: ReplySubscription;
  private timer: NodeJS.Timeout | undefined;
  private readonly tokenExpiry = new TokenExpiry((at) =>
    this.close('ACCESS_REFUSED', `token expired at ${new Date(at).toISOString()}: connection closed (send update-token before it expires)`),
  );

  constructor(
    private readonly context: SessionContext,
    private readonly socket: Transport,
    readonly peer: Peer,
    /** Port on the broker the client connected to. */
    readonly localPort = 0,
  ) {
    this.replyConsumer = new ReplySubscription(context.ops.messages.replyTo, this);
    this.timer = setTimeout(() => this.handshakeExpired(), context.handshakeTimeout);
    this.timer.unref();
  }

  /** The broker-side channel; exists once the session is open. */
  get channel(): Channel {
    if (!this.currentChannel) throw new BrokerError('CHANNEL_ERROR', 'connection is not open');
    return this.currentChannel;
  }

  get vhost(): VHost {
    return this.channel.vhost;
  }

  get traffic(): Traffic {
    return this.socket.traffic;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** A frame carries at most one maximum-size body. */
  get frameMax(): number {
    return this.context.broker.maxBodySize;
  }

  channels(): ChannelView[] {
    const channel = this.currentChannel;
    if (this.state !== 'open' || !channel) return [];
    // Confirms are asked per publish here; the channel counts as in confirm mode once one was.
    return [{ number: 1, channel, confirm: channel.stats.confirm > 0, transactional: false, unconfirmed: 0, uncommittedMessages: 0, uncommittedAcks: 0 }];
  }

  /** Who this connection acts as, for the operations layer; exists once the session is open. */
  get caller(): Caller {
    if (!this.currentCaller) throw new BrokerError('CHANNEL_ERROR', 'connection is not open');
    return this.currentCaller;
  }

  get ops(): Operations {
    return this.context.ops;
  }

  /** Called after every publish: a publisher that publishes under a memory alarm stops being read. */
  published(): void {
    this.hasPublished = true;
    if (this.context.broker.memoryAlarm) this.block();
  }

  /**
   * Memory alarm raised: stop reading this connection if it publishes. A disk alarm does not block the
   * JSON protocol: its persistent publishes are refused with an error frame instead, and the rest go on.
   */
  block(alarm: Alarm = 'memory'): void {
    if (alarm !== 'memory' || this.blocked || !this.hasPublished || this.state === 'closed') return;
    this.blocked = true;
    this.socket.pauseReading();
  }

  /** Memory alarm cleared. */
  unblock(alarm: Alarm = 'memory'): void {
    if (alarm !== 'memory' || !this.blocked) return;
    this.blocked = false;
    this.socket.resumeReading();
  }

  /** Anything from the peer, a frame or a pong, proves it is alive. */
  heard(): void {
    this.lastHeard = Date.now();
  }

  handleText(text: string): void {
    this.heard();
    if (this.state === 'closed' || this.closeRequested) return;
    if (this.state === 'authenticating') {
      this.backlog.push(text);
      return;
    }
    const parsed = this.context.parser.parse(text);
    if (!parsed.ok) {
      if (this.state === 'awaiting-connect') {
        this.sendError(parsed.error, parsed.id, parsed.op);
        this.closeWith(parsed.error);
      } else this.replies.reply(errorText(parsed.error, parsed.id, parsed.op));
      return;
    }
    const frame = parsed.frame;
    if (this.state === 'awaiting-connect') {
      if (frame.op === 'connect') {
        this.connect(frame).catch((error: unknown) => {
          this.context.log.error({ err: error, connection: this.id }, 'internal error after connect');
          this.close('INTERNAL_ERROR', 'internal error: connection closed');
        });
      } else {
        const error = new BrokerError('NOT_ALLOWED', `'${frame.op}' before 'connect': the first frame must be connect`);
        this.sendError(error, frame.id, frame.op);
        this.closeWith(error);
      }
      return;
    }
    if (frame.op === 'connect') {
      this.replies.reply(errorText(new BrokerError('NOT_ALLOWED', 'already connected'), frame.id, frame.op));
      return;
    }
    if (frame.op === 'update-token') {
      const id = frame.id;
      const done = refreshToken(this.context.authenticator, this.caller.user, this.vhost.name, frame.token).then(
        () => (this.tokenExpiry.arm(this.user), id === undefined ? undefined : okText(id, undefined)),
        (error: unknown) => errorText(this.asBrokerError(error, 'update-token'), id, 'update-token'),
      );
      this.replies.replyWhen(done);
      return;
    }
    if (frame.op === 'close') {
      const text = frame.id === undefined ? undefined : okText(frame.id, undefined);
      const closeNow = (): void => {
        this.shutdown();
        this.socket.close(1000, 'closed by client');
      };
      // Confirms still waiting for the disk go out first: a client that closes gets every reply it asked for.
      // Nothing it sends after `close` is handled.
      this.closeRequested = true;
      this.replies.reply(text, closeNow);
      return;
    }
    let replyText: string | undefined;
    let durable: Promise<void> | undefined;
    try {
      const result = dispatch(this, frame);
      if ('later' in result) {
        // The reply needs what is not in memory yet (a get of a paged-out message): it waits, in order.
        const id = frame.id;
        const op = frame.op;
        const text = result.later.then(
          async (done) => {
            await done.durable;
            return id === undefined ? undefined : okText(id, done.value);
          },
          (error: unknown) => errorText(this.asBrokerError(error, op), id, op),
        );
        this.replies.replyWhen(text.catch((error: unknown) => (id === undefined ? undefined : errorText(this.asBrokerError(error, op), id, op))));
        return;
      }
      durable = result.durable;
      if (frame.id !== undefined) replyText = okText(frame.id, result.value);
    } catch (error) {
      this.pendingAfterReply = undefined;
      replyText = errorText(this.asBrokerError(error, frame.op), frame.id, frame.op);
    }
    const after = this.pendingAfterReply;
    this.pendingAfterReply = undefined;
    // The operations layer has logged a failed write; the client hears of it in place of its ok.
    this.replies.reply(replyText, after, durable, (error) =>
      frame.id === undefined ? undefined : errorText(this.asBrokerError(error, frame.op), frame.id, frame.op),
    );
  }

  afterReply(work: () => void): void {
    this.pendingAfterReply = work;
  }

  handleBinary(): void {
    this.heard();
    if (this.state === 'closed') return;
    const error = new BrokerError('SYNTAX_ERROR', 'binary frames are not supported: send JSON text frames');
    this.sendError(error);
    if (this.state === 'awaiting-connect') this.closeWith(error);
  }

  /** The socket closed, for whatever reason: release everything the connection held. */
  handleClosed(): void {
    this.shutdown();
  }

  /** Tells the client why, then closes (shutdown, an operator's request, a protocol violation). */
  close(reason: ErrorName, message: string): void {
    this.closeWith(new BrokerError(reason, message));
  }

  // DeliverySink: pushes from the broker.

  deliver(consumer: Consumer, deliveryTag: number, entry: QueueEntry): void {
    this.socket.send(
      `{"op":"deliver","consumerTag":${JSON.stringify(consumer.tag)},"deliveryTag":${deliveryTag},` +
        `"redelivered":${entry.redelivered},${messageContentJson(entry.message, entry.deliveryCount)}}`,
    );
  }

  consumerCancelled(consumerTag: string, reason?: CancelReason): void {
    this.socket.send(JSON.stringify({ op: 'cancelled', consumerTag, ...reason }));
  }

  /** A reply for this connection's direct reply-to consumer. */
  deliverReply(message: Message): void {
    const consumerTag = this.replyConsumer.tag;
    if (consumerTag === undefined || this.state !== 'open') return;
    const deliveryTag = this.channel.directDeliveryTag();
    this.socket.send(`{"op":"deliver","consumerTag":${JSON.stringify(consumerTag)},"deliveryTag":${deliveryTag},"redelivered":false,${messageContentJson(message)}}`);
  }

  /** A mandatory message that no queue took goes back to its publisher. */
  sendReturn(message: Message): void {
    this.socket.send(`{"op":"return","replyCode":312,"replyText":"NO_ROUTE",${messageContentJson(message)}}`);
  }

  sendOk(id: FrameId, reply: Reply | void): void {
    this.socket.send(okText(id, reply));
  }

  sendError(error: BrokerError, id?: FrameId, op?: string): void {
    this.socket.send(errorText(error, id, op));
  }

  private async connect(frame: ConnectFrame): Promise<void> {
    this.state = 'authenticating';
    try {
      const result = await login(this.context.authenticator, frame, this.peer);
      if (this.state !== 'authenticating') return;
      if (!result.ok) return this.refuse(result.error, frame.id);
      const vhost = this.context.broker.vhosts.get(frame.vhost);
      if (!vhost) return this.refuse(new BrokerError('NOT_ALLOWED', `vhost '${frame.vhost}' not found`), frame.id);
      if (!this.context.authenticator.canAccessVhost(result.user, frame.vhost)) {
        return this.refuse(new BrokerError('NOT_ALLOWED', `access to vhost '${frame.vhost}' refused for user '${result.user.name}'`), frame.id);
      }
      // Checked and registered (`onOpen`) in this same turn, so two connects cannot both take the last place.
      this.context.ops.limits.admitConnection(result.user, vhost);
      this.context.ops.limits.admitChannel(result.user);
      this.user = result.user;
      this.clientProperties = frame.clientProperties;
      this.heartbeat = negotiateHeartbeat(this.context.heartbeat, frame.heartbeat);
      this.currentChannel = new Channel(this.id, vhost, this);
      this.currentChannel.origin = { connection: this.id, connectionName: providedName(this.clientProperties), channel: 1, user: result.user.name, protocol: 'websocket' };
      this.currentCaller = { user: result.user, vhost, channel: this.currentChannel };
      this.state = 'open';
      this.startHeartbeat();
      this.tokenExpiry.arm(result.user);
      this.context.onOpen?.(this);
      if (frame.id !== undefined) {
        this.sendOk(frame.id, { server: 'warren', version: this.context.version, heartbeat: this.heartbeat });
      }
    } catch (error) {
      return this.refuse(this.asBrokerError(error, 'connect'), frame.id);
    }
    const backlog = this.backlog;
    this.backlog = [];
    for (const text of backlog) this.handleText(text);
  }

  private refuse(error: BrokerError, id: FrameId | undefined): void {
    this.state = 'awaiting-connect';
    this.sendError(error, id, 'connect');
    this.closeWith(error);
  }

  private closeWith(error: BrokerError): void {
    if (this.state === 'closed') return;
    this.socket.send(JSON.stringify({ op: 'close', code: error.code, reason: error.reason, message: error.message }));
    this.shutdown();
    this.socket.close(error.code === 320 ? 1001 : 1008, error.reason);
  }

  private shutdown(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.backlog = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.tokenExpiry.disarm();
    this.replyConsumer.stop();
    this.currentChannel?.close();
    if (wasOpen) this.context.onClose?.(this);
  }

  private handshakeExpired(): void {
    if (this.state === 'awaiting-connect' || this.state === 'authenticating') {
      this.close('NOT_ALLOWED', `no 'connect' within ${this.context.handshakeTimeout} ms`);
    }
  }

  private startHeartbeat(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.heartbeat === 0) return;
    const interval = this.heartbeat * 1000;
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * interval) {
        this.context.log.info({ connection: this.id, peer: this.peer }, 'heartbeat timeout: closing connection');
        this.shutdown();
        this.socket.terminate();
      } else {
        this.socket.ping();
      }
    }, interval);
    this.timer.unref();
  }

  private asBrokerError(error: unknown, op: string): BrokerError {
    if (isBrokerError(error)) return error;
    this.context.log.error({ err: error, op, connection: this.id }, 'internal error handling a frame');
    return new BrokerError('INTERNAL_ERROR', `internal error handling '${op}'`);
  }
}

function okText(id: FrameId, reply: Reply | void): string {
  return JSON.stringify(reply ? { op: 'ok', id, ...reply } : { op: 'ok', id });
}

function errorText(error: BrokerError, id?: FrameId, op?: string): string {
  const frame: Record<string, unknown> = { op: 'error' };
  if (id !== undefined) frame.id = id;
  else if (op !== undefined) frame.ref = op;
  frame.code = error.code;
  frame.reason = error.reason;
  frame.message = error.message;
  return JSON.stringify(frame);
}

/** AMQP's rule: the lower of two non-zero values; if either side says 0, the other one. */
function negotiateHeartbeat(server: number, client: number | undefined): number {
  if (client === undefined) return server;
  if (server === 0 || client === 0) return Math.max(server, client);
  return Math.min(server, client);
}
