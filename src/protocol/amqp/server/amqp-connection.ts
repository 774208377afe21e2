// One AMQP 0-9-1 connection: bytes from its transport through the FrameReader into the connection state
// machine (channel 0) and its channels; actions and replies back out. It implements ClientConnection, so
// the registry, limits, alarms and the management API see it as they see a JSON WebSocket session.
import type { AuthenticatedUser, Authenticator } from '../../../auth/authenticator.js';
import type { Broker } from '../../../broker/broker.js';
import { BrokerError, type ErrorName } from '../../../broker/errors.js';
import { serverName } from '../../../broker/names.js';
import type { VHost } from '../../../broker/vhost.js';
import type { Operations } from '../../../operations/operations.js';
import type { Alarm, ChannelView, ClientConnection, Peer, Traffic } from '../../client-connection.js';
import type { AmqpTransport } from './amqp-transport.js';
import type { Logger } from '../../session-context.js';
import { AmqpChannel, type ChannelHost } from './amqp-channel.js';
import { buildMethod } from '../build-method.js';
import { ConnectionMachine } from '../connection-machine.js';
import type { AuthOutcome, ConnectionAction, ConnectionHooks } from '../connection-types.js';
import { externalLogin, offeredMechanisms, type UserLookup } from './external-login.js';
import { FRAME_HEARTBEAT, FRAME_METHOD } from '../frame-constants.js';
import { FrameReader, type Frame } from '../frame-reader.js';
import { tableToJson } from './message-mapping.js';
import { decodeMethod, encodeMethodFrame, methodSpec } from '../method-codec.js';
import { isAmqpError } from '../errors.js';

/** connection.blocked's reason per alarm: RabbitMQ's for memory and disk. */
const BLOCK_REASONS: Readonly<Record<Alarm, string>> = { memory: 'low on memory', disk: 'low on disk', replication: 'too few in-sync replicas' };
import { adoptRefreshed, TokenExpiry } from '../../token-login.js';

export interface AmqpContext {
  readonly broker: Broker;
  readonly ops: Operations;
  readonly authenticator: Authenticator;
  readonly version: string;
  /** Seconds between heartbeats the server proposes; 0 = none. */
  readonly heartbeat: number;
  readonly handshakeTimeout: number;
  readonly log: Logger;
  /** For SASL EXTERNAL (TLS client certificates): the user named by the certificate's CN. */
  readonly findUser?: UserLookup;
  onOpen(connection: AmqpConnection): void;
  onClose(connection: AmqpConnection): void;
}

export const AMQP_CAPABILITIES = [
  'publisher_confirms',
  'exchange_exchange_bindings',
  'basic.nack',
  'consumer_cancel_notify',
  'connection.blocked',
  'consumer_priorities',
  'authentication_failure_close',
  'per_consumer_qos',
  'direct_reply_to',
] as const;

const CHANNEL_MAX = 2047;
const FRAME_MAX = 131072;

export class AmqpConnection implements ClientConnection, ChannelHost {
  readonly id = serverName('amqp-');
  readonly protocol = 'AMQP 0-9-1';
  readonly connectedAt = Date.now();
  user: AuthenticatedUser | undefined;
  vhost: VHost | undefined;
  clientProperties: Readonly<Record<string, unknown>> = {};
  authMechanism = 'PLAIN';
  heartbeat = 0;
  frameMax = FRAME_MAX;
  channelMax = CHANNEL_MAX;
  private readonly reader = new FrameReader();
  private readonly machine: ConnectionMachine<AuthenticatedUser>;
  private readonly channelsByNumber = new Map<number, AmqpChannel>();
  /** The channel the last frame went to: a busy connection's frames mostly go to one channel. */
  private recentChannel: AmqpChannel | undefined;
  private busy = false;
  private closed = false;
  private registered = false;
  private hasPublished = false;
  /** Alarms holding this connection's publishers; reading pauses after a publish while any holds. */
  private readonly alarms = new Set<Alarm>();
  private readingPaused = false;
  /** A persistent publish held by an alarm (see ChannelHost.holdUntilWritable); no frame is handled after it meanwhile. */
  private heldPublish: (() => void) | undefined;
  /** A token login's connection closes when the token expires, unless update-secret refreshed it. */
  private readonly tokenExpiry = new TokenExpiry((at) => this.close('ACCESS_REFUSED', `token expired at ${new Date(at).toISOString()}`));
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly context: AmqpContext,
    private readonly wire: AmqpTransport,
    readonly peer: Peer,
    readonly transport: 'tcp' | 'websocket',
    readonly localPort: number,
  ) {
    this.machine = new ConnectionMachine<AuthenticatedUser>({
      hooks: this.hooks(),
      server: { version: context.version, platform: `Node.js ${process.version}`, capabilities: AMQP_CAPABILITIES },
      tune: { channelMax: CHANNEL_MAX, frameMax: FRAME_MAX, heartbeat: context.heartbeat },
      mechanisms: offeredMechanisms(peer),
      handshakeTimeoutMs: context.handshakeTimeout,
    });
    this.timer = setInterval(() => this.apply(this.machine.tick(Date.now())), 1000);
    this.timer.unref();
    this.apply(this.machine.tick(Date.now()));
  }

  get traffic(): Traffic {
    return this.wire.traffic;
  }

  get isOpen(): boolean {
    return this.machine.state === 'running' && !this.closed;
  }

  get ops(): Operations {
    return this.context.ops;
  }

  get maxBodySize(): number {
    return this.context.broker.maxBodySize;
  }

  get cancelNotify(): boolean {
    return this.capability('consumer_cancel_notify');
  }

  channels(): ChannelView[] {
    return [...this.channelsByNumber.values()].filter((c) => c.state === 'open');
  }

  /** Bytes from the transport, in order. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    if (!this.busy) this.pump();
  }

  /** The transport closed, for whatever reason: release everything the connection held. */
  transportClosed(): void {
    this.shutdown();
  }

  /** The transport's send buffer filled (false) or drained (true): deliveries pause or resume. */
  setWritable(writable: boolean): void {
    for (const channel of this.channelsByNumber.values()) channel.broker.setWritable(writable);
  }

  block(alarm: Alarm): void {
    if (this.closed || this.alarms.has(alarm)) return;
    this.alarms.add(alarm);
    // RabbitMQ's reasons; one connection.blocked however many alarms hold it.
    if (this.alarms.size === 1) this.apply(this.machine.block(BLOCK_REASONS[alarm]));
    if (this.hasPublished) this.pauseForAlarm();
  }

  unblock(alarm: Alarm): void {
    if (!this.alarms.delete(alarm) || this.alarms.size > 0) return;
    this.apply(this.machine.unblock());
    const held = this.heldPublish;
    this.heldPublish = undefined;
    if (held && !this.closed) held();
    if (this.readingPaused) {
      this.readingPaused = false;
      this.wire.resumeReading('memory');
    }
    // Frames that arrived behind the held publish are already in the reader.
    if (held && !this.busy) this.pump();
  }

  get refusesPersistent(): boolean {
    return this.context.broker.writeAlarm;
  }

  holdUntilWritable(publish: () => void): void {
    this.heldPublish = publish;
    // Registers the alarms that hold (connection.blocked) and stops reading; unblock runs the publish.
    this.published();
  }

  close(reason: ErrorName, message: string): void {
    const code = new BrokerError(reason, message).code;
    this.apply(this.machine.close(code, `${reason} - ${message}`));
  }

  // ChannelHost

  write(frames: readonly Uint8Array[]): void {
    // Once connection.close is out, only close-ok may follow (the machine sends that itself).
    if (this.closed || this.machine.state !== 'running') return;
    this.wire.write(frames);
    this.machine.noteSent();
  }

  reserve(size: number): Buffer | undefined {
    if (this.closed || this.machine.state !== 'running') return undefined;
    this.machine.noteSent();
    return this.wire.reserve(size);
  }

  connectionError(code: number, replyText: string, classId: number, methodId: number): void {
    this.apply(this.machine.connectionError({ code, replyText, classId, methodId }));
  }

  channelGone(number: number): void {
    this.channelsByNumber.delete(number);
    if (this.recentChannel?.number === number) this.recentChannel = undefined;
  }

  published(): void {
    this.hasPublished = true;
    // A connection opened during an alarm was not told when it was raised.
    const broker = this.context.broker;
    if (broker.memoryAlarm) this.block('memory');
    if (broker.diskAlarm) this.block('disk');
    if (broker.replicationAlarm !== undefined) this.block('replication');
    if (this.alarms.size > 0) this.pauseForAlarm();
  }

  internalError(error: unknown, method: string): void {
    this.context.log.error({ err: error, connection: this.id, method }, 'internal error handling an AMQP method');
  }

  private pauseForAlarm(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.wire.pauseReading('memory');
  }

  private capability(name: string): boolean {
    const value = this.machine.clientCapabilities.get(name);
    return value?.type === 'bool' && value.value;
  }

  /** Reads frames until none is complete or a hook is being consulted (then resumes when it settles). */
  private pump(): void {
    while (!this.closed && this.heldPublish === undefined) {
      const result = this.reader.next();
      if (this.reader.headerAccepted && this.machine.state === 'awaiting-header') this.apply(this.machine.protocolHeader());
      if (!result) return;
      if (result.kind === 'frame' && this.machine.receiveChannelFrame(result)) {
        this.channelFrame(result.channel, result);
        continue;
      }
      const step = this.machine.receive(result);
      if (Array.isArray(step)) this.apply(step);
      else {
        this.busy = true;
        this.wire.pauseReading('handshake');
        step.then(
          (actions) => {
            this.busy = false;
            this.wire.resumeReading('handshake');
            this.apply(actions);
            this.pump();
          },
          (error: unknown) => {
            this.context.log.error({ err: error, connection: this.id }, 'internal error in the AMQP handshake');
            this.shutdown();
            this.wire.end(0);
          },
        );
        return;
      }
      if (result.kind !== 'frame') return;
    }
  }

  private apply(actions: readonly ConnectionAction<AuthenticatedUser>[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'send':
          if (!this.closed) this.wire.write([action.bytes]);
          break;
        case 'tuned':
          this.frameMax = action.frameMax === 0 ? FRAME_MAX : action.frameMax;
          this.channelMax = action.channelMax === 0 ? CHANNEL_MAX : action.channelMax;
          this.heartbeat = action.heartbeat;
          this.reader.frameMax = this.frameMax;
          break;
        case 'opened':
          break;
        case 'user-updated':
          this.user = action.user;
          this.tokenExpiry.arm(this.user);
          break;
        case 'channel-frame':
          this.channelFrame(action.channel, action.frame);
          break;
        case 'close-socket':
          if (action.reason !== 'client-closed' && action.reason !== 'close-ok') {
            this.context.log.info({ connection: this.id, peer: this.peer, reason: action.reason, detail: action.detail }, 'AMQP connection closed');
          }
          this.shutdown();
          this.wire.end(action.lingerMs);
          break;
      }
    }
    // A connection error or a server close: the channels go at once, so nothing follows connection.close.
    if (this.machine.state === 'closing') this.releaseChannels();
  }

  private releaseChannels(): void {
    for (const channel of this.channelsByNumber.values()) channel.release();
    this.channelsByNumber.clear();
    this.recentChannel = undefined;
  }

  private hooks(): ConnectionHooks<AuthenticatedUser> {
    return {
      authenticate: async ({ mechanism, user, password }) => {
        this.authMechanism = mechanism;
        if (mechanism === 'EXTERNAL') return this.logged(externalLogin(this.peer, this.context.findUser));
        const result = await this.context.authenticator.authenticate(user, password, this.peer.address, this.peer.foreignOrigin);
        if (result.ok) return { ok: true, user: result.user };
        this.context.log.info({ connection: this.id, peer: this.peer, user, reason: result.error.message }, 'AMQP login refused');
        return { ok: false, detail: result.error.message };
      },
      // A new password (or, with a token backend, a new token) for the same user, checked as a login would be.
      updateSecret: async (user, secret) => {
        const result = await this.context.authenticator.authenticate(user.name, Buffer.from(secret).toString('utf8'), this.peer.address);
        if (!result.ok || result.user.name !== user.name) return { ok: false };
        return { ok: true, user: adoptRefreshed(user, result.user) };
      },
      canOpen: async (user, vhostName) => {
        const vhost = this.context.broker.vhosts.get(vhostName);
        if (!vhost) return { ok: false, detail: `vhost '${vhostName}' not found` };
        if (!this.context.authenticator.canAccessVhost(user, vhostName)) return { ok: false };
        try {
          // Checked and registered in this same turn, so two connections cannot both take the last place.
          this.context.ops.limits.admitConnection(user, vhost);
        } catch (error) {
          if (error instanceof BrokerError) return { ok: false, detail: error.message };
          throw error;
        }
        this.user = user;
        this.vhost = vhost;
        this.clientProperties = tableToJson(this.machine.clientProperties);
        this.registered = true;
        this.tokenExpiry.arm(user);
        this.context.onOpen(this);
        return { ok: true };
      },
    };
  }

  private logged(outcome: AuthOutcome<AuthenticatedUser>): AuthOutcome<AuthenticatedUser> {
    if (!outcome.ok) this.context.log.info({ connection: this.id, peer: this.peer, reason: outcome.detail }, 'AMQP login refused');
    return outcome;
  }

  private channelFrame(number: number, frame: Frame): void {
    // A heartbeat belongs on channel 0 (rabbit_reader: an unexpected frame, open channel or not).
    if (frame.type === FRAME_HEARTBEAT) return this.connectionError(505, 'UNEXPECTED_FRAME - type 8, all octets = <<>>', 0, 0);
    const recent = this.recentChannel;
    if (recent !== undefined && recent.number === number) return recent.handleFrame(frame);
    const channel = this.channelsByNumber.get(number);
    if (channel) {
      this.recentChannel = channel;
      return channel.handleFrame(frame);
    }
    this.openChannel(number, frame);
  }

  /** A frame on a channel that is not open: only channel.open is allowed (rabbit_reader's process_frame). */
  private openChannel(number: number, frame: Frame): void {
    const method = frame.type === FRAME_METHOD ? decodeMethod(frame.payload) : undefined;
    if (method && isAmqpError(method)) return this.connectionError(method.code, method.replyText, method.classId, method.methodId);
    if (method?.method !== 'channel.open') {
      const ids = method ? methodSpec(method.method) : { classId: 0, methodId: 0 };
      return this.connectionError(504, "CHANNEL_ERROR - expected 'channel.open'", ids.classId, ids.methodId);
    }
    const user = this.user;
    const vhost = this.vhost;
    if (!user || !vhost) return;
    if (number > this.channelMax) {
      return this.connectionError(530, `NOT_ALLOWED - channel number ${number} is higher than the negotiated channel_max (${this.channelMax})`, 20, 10);
    }
    try {
      this.context.ops.limits.admitChannel(user);
    } catch (error) {
      if (error instanceof BrokerError) return this.connectionError(error.code, `${error.reason} - ${error.message}`, 20, 10);
      throw error;
    }
    const channel = new AmqpChannel(this, number, { user, vhost });
    this.channelsByNumber.set(number, channel);
    this.write([encodeMethodFrame(number, buildMethod('channel.open-ok', { channelId: Buffer.alloc(0) }))]);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.tokenExpiry.disarm();
    this.releaseChannels();
    // Exclusive queues belong to the connection (every channel's broker channel names it as its connection).
    this.vhost?.deleteExclusiveQueues(this);
    if (this.registered) this.context.onClose(this);
  }
}
