// The AMQP 0-9-1 connection negotiation as a pure state machine: frames in, actions out, no socket and no
// timers. It follows RabbitMQ's rabbit_reader.erl state by state, including which errors are answered
// with connection.close and which just close the socket (see docs/amqp.md, "Connection").
import { AUTH_MECHANISMS, isAuthMechanism, parseCredentials } from './connection-auth.js';
import type {
  ConnectionAction,
  ConnectionMachineOptions,
  ConnectionState,
  ConnectionUser,
  CloseReason,
  Step,
  TuneLimits,
} from './connection-types.js';
import { fitReplyText, isAmqpError, type AmqpError } from './errors.js';
import type { FieldTable, FieldValue } from './field-table.js';
import { FRAME_HEARTBEAT, FRAME_METHOD } from './frame-constants.js';
import type { Frame, ReadResult } from './frame-reader.js';
import { HEARTBEAT_FRAME } from './frame-writer.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { buildMethod } from './build-method.js';
import { decodeMethod, encodeMethodFrame, methodSpec, type MethodName } from './method-codec.js';
import { SPEC_CONSTANTS, type AmqpMethod } from './spec/methods.js';

const C = {
  CONNECTION_FORCED: SPEC_CONSTANTS['CONNECTION-FORCED'],
  ACCESS_REFUSED: SPEC_CONSTANTS['ACCESS-REFUSED'],
  SYNTAX_ERROR: SPEC_CONSTANTS['SYNTAX-ERROR'],
  COMMAND_INVALID: SPEC_CONSTANTS['COMMAND-INVALID'],
  CHANNEL_ERROR: SPEC_CONSTANTS['CHANNEL-ERROR'],
  UNEXPECTED_FRAME: SPEC_CONSTANTS['UNEXPECTED-FRAME'],
  NOT_ALLOWED: SPEC_CONSTANTS['NOT-ALLOWED'],
  NOT_IMPLEMENTED: SPEC_CONSTANTS['NOT-IMPLEMENTED'],
  INTERNAL_ERROR: SPEC_CONSTANTS['INTERNAL-ERROR'],
} as const;

type Actions<U extends ConnectionUser> = ConnectionAction<U>[];

/** A connection-level error: what connection.close carries. */
export interface CloseError {
  readonly code: number;
  readonly replyText: string;
  readonly classId: number;
  readonly methodId: number;
}

const SILENT_CLOSE_DELAY_MS = 3000; // rabbit_reader.erl ?SILENT_CLOSE_DELAY
const CLOSING_TIMEOUT_MS = 30_000; // rabbit_reader.erl ?CLOSING_TIMEOUT
const CHANNEL_MIN = 1; // rabbit_reader.erl ?CHANNEL_MIN
const DEFAULT_TUNE: TuneLimits = { channelMax: 2047, frameMax: 131072, heartbeat: 60 };

function ids(name: MethodName): { classId: number; methodId: number } {
  const spec = methodSpec(name);
  return { classId: spec.classId, methodId: spec.methodId };
}

function error(code: number, name: string, detail: string, at: { classId: number; methodId: number } = { classId: 0, methodId: 0 }): CloseError {
  return { code, replyText: fitReplyText(`${name} - ${detail}`), ...at };
}

export class ConnectionMachine<U extends ConnectionUser> {
  private current: ConnectionState = 'awaiting-header';
  private readonly limits: TuneLimits;
  private capabilities: FieldTable = new Map();
  private properties: FieldTable = new Map();
  private user: U | undefined;
  private vhost: string | undefined;
  private heartbeat: HeartbeatMonitor | undefined;
  private handshakeStartedAt: number | undefined;
  private closingSince: number | undefined;
  private closingTimeoutMs = CLOSING_TIMEOUT_MS;
  private blocked = false;

  constructor(private readonly options: ConnectionMachineOptions<U>) {
    this.limits = { ...DEFAULT_TUNE, ...options.tune };
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** start-ok's client-properties (empty before start-ok). */
  get clientProperties(): FieldTable {
    return this.properties;
  }

  /** The client's capabilities table from start-ok's client-properties (empty before start-ok). */
  get clientCapabilities(): FieldTable {
    return this.capabilities;
  }

  /** The reader accepted the protocol header: offer connection.start. */
  protocolHeader(): Actions<U> {
    if (this.current !== 'awaiting-header') return [];
    this.current = 'starting';
    const { version, platform, capabilities = [] } = this.options.server;
    const longstr = (s: string): FieldValue => ({ type: 'longstr', value: Buffer.from(s, 'utf8') });
    const caps = new Map<string, FieldValue>(capabilities.map((c) => [c, { type: 'bool', value: true }]));
    const serverProperties = new Map<string, FieldValue>([
      ['product', longstr('Warren')],
      ['version', longstr(version)],
      ['platform', longstr(platform)],
      ['capabilities', { type: 'table', value: caps }],
    ]);
    return [
      this.sendMethod(
        buildMethod('connection.start', {
          versionMajor: 0,
          versionMinor: 9,
          serverProperties,
          mechanisms: Buffer.from((this.options.mechanisms ?? AUTH_MECHANISMS).join(' ')),
          locales: Buffer.from('en_US'),
        }),
      ),
    ];
  }

  /** One result of FrameReader: a frame, a (fatal) frame error or a bad protocol header. */
  receive(input: ReadResult): Step<U> {
    this.heartbeat?.received();
    if (this.current === 'closed') return [];
    if (input.kind === 'bad-header') {
      return [{ kind: 'send', bytes: input.reply }, this.closeSocket('bad-header', 'not an AMQP 0-9-1 protocol header', 0)];
    }
    const start = this.current === 'awaiting-header' ? this.protocolHeader() : [];
    if (input.kind === 'error') return [...start, ...this.fail(input, true)];
    const rest = this.receiveFrame(input);
    if (start.length === 0) return rest;
    return Array.isArray(rest) ? [...start, ...rest] : rest.then((r) => [...start, ...r]);
  }

  /**
   * The per-message path of receive: a frame for a channel while the connection runs is noted for the
   * heartbeat and true is returned, and the caller hands it to its channel (receive's channel-frame action,
   * without building the action). Anything else is false, and goes through receive.
   */
  receiveChannelFrame(frame: Frame): boolean {
    if (this.current !== 'running' || frame.channel === 0) return false;
    this.heartbeat?.received();
    return true;
  }

  /** A connection error found by the next layer (a codec error in a channel's content, …). */
  connectionError(err: CloseError | AmqpError): Actions<U> {
    return this.fail(err, false);
  }

  /** Server-initiated close (CONNECTION_FORCED 320 for an operator's close, as RabbitMQ). */
  close(code: number = C.CONNECTION_FORCED, replyText = 'CONNECTION_FORCED - Closed via management plugin'): Actions<U> {
    if (this.current === 'running') return this.sendClose({ code, replyText: fitReplyText(replyText), classId: 0, methodId: 0 });
    if (this.current === 'closing' || this.current === 'closed') return [];
    return [this.closeSocket('server-closed', replyText, 0)];
  }

  /** The owner wrote bytes of its own (deliveries, channel replies): they count as outbound traffic. */
  noteSent(): void {
    this.heartbeat?.sent();
  }

  /** Sends connection.blocked if the client announced the connection.blocked capability. */
  block(reason: string): Actions<U> {
    if (this.current !== 'running' || this.blocked || !this.capability('connection.blocked')) return [];
    this.blocked = true;
    return [this.sendMethod(buildMethod('connection.blocked', { reason }))];
  }

  unblock(): Actions<U> {
    if (this.current !== 'running' || !this.blocked) return [];
    this.blocked = false;
    return [this.sendMethod(buildMethod('connection.unblocked', {}))];
  }

  /** The owner's periodic clock: heartbeats due, peer silent too long, handshake or close taking too long. */
  tick(now: number): Actions<U> {
    if (this.current === 'closed') return [];
    this.handshakeStartedAt ??= now;
    if (this.current === 'closing') this.closingSince ??= now;
    const verdict = this.heartbeat?.tick(now) ?? 'ok';
    if (this.current === 'closing') {
      if (now - (this.closingSince ?? now) >= this.closingTimeoutMs) return [this.closeSocket('close-timeout', 'connection.close-ok not received', 0)];
    } else if (this.current !== 'running' && now - this.handshakeStartedAt >= (this.options.handshakeTimeoutMs ?? 10_000)) {
      return [this.closeSocket('handshake-timeout', `handshake not finished in state ${this.current}`, 0)];
    } else if (verdict === 'timed-out') {
      const seconds = (this.heartbeat?.intervalMs ?? 0) / 1000;
      return [this.closeSocket('heartbeat-timeout', `missed heartbeats from client, timeout: ${seconds}s`, 0)];
    }
    return verdict === 'send-heartbeat' ? [{ kind: 'send', bytes: HEARTBEAT_FRAME }] : [];
  }

  private receiveFrame(frame: Frame): Step<U> {
    if (this.current === 'closing') return this.whileClosing(frame);
    if (frame.channel !== 0) {
      if (this.current === 'running') return [{ kind: 'channel-frame', channel: frame.channel, frame }];
      return this.unexpectedFrame(frame);
    }
    if (frame.type === FRAME_HEARTBEAT) return [];
    if (frame.type !== FRAME_METHOD) return this.unexpectedFrame(frame);
    const method = decodeMethod(frame.payload);
    if (isAmqpError(method)) return this.fail(method, false);
    return this.onMethod(method);
  }

  private onMethod(m: AmqpMethod): Step<U> {
    switch (this.current) {
      case 'starting':
        if (m.method === 'connection.start-ok') return this.startOk(m.mechanism, m.response, m.clientProperties);
        break;
      case 'tuning':
        if (m.method === 'connection.tune-ok') return this.tuneOk(m);
        break;
      case 'opening':
        if (m.method === 'connection.open') return this.open(m.virtualHost);
        break;
      case 'running':
        if (m.method === 'connection.close') {
          this.current = 'closed';
          return [this.sendMethod(buildMethod('connection.close-ok', {})), this.closeSocket('client-closed', `${m.replyCode} ${m.replyText}`, 0)];
        }
        if (m.method === 'connection.update-secret') return this.updateSecret(m.newSecret, m.reason);
        break;
      default:
        break;
    }
    // RabbitMQ: any other method on channel 0 is a channel_error in every state (handle_method0/2).
    return this.fail(error(C.CHANNEL_ERROR, 'CHANNEL_ERROR', `unexpected method in connection state ${this.current}`, ids(m.method)), false);
  }

  // After our connection.close, only close and close-ok matter (spec, connection.close; rabbit_reader's
  // handle_frame when stopping); everything else, channel frames and undecodable methods included, is dropped.
  private whileClosing(frame: Frame): Actions<U> {
    if (frame.channel !== 0 || frame.type !== FRAME_METHOD) return [];
    const m = decodeMethod(frame.payload);
    if (isAmqpError(m)) return [];
    if (m.method === 'connection.close') return [this.sendMethod(buildMethod('connection.close-ok', {}))];
    if (m.method === 'connection.close-ok') return [this.closeSocket('close-ok', 'connection.close-ok received', 0)];
    return [];
  }

  private async startOk(mechanism: string, response: Uint8Array, clientProperties: FieldTable): Promise<Actions<U>> {
    const at = ids('connection.start-ok');
    if (!isAuthMechanism(mechanism)) {
      return this.fail(error(C.COMMAND_INVALID, 'COMMAND_INVALID', `unknown authentication mechanism '${mechanism}'`, at), false);
    }
    // rabbit_reader: a known mechanism this connection was not offered (EXTERNAL without a certificate).
    if (!(this.options.mechanisms ?? AUTH_MECHANISMS).some((offered) => offered === mechanism)) {
      return this.fail(error(C.COMMAND_INVALID, 'COMMAND_INVALID', `invalid authentication mechanism '${mechanism}'`, at), false);
    }
    this.properties = clientProperties;
    const caps = clientProperties.get('capabilities');
    this.capabilities = caps?.type === 'table' ? caps.value : new Map();
    this.current = 'securing';
    const credentials = parseCredentials(mechanism, response);
    if (typeof credentials === 'string') return this.fail(error(C.SYNTAX_ERROR, 'SYNTAX_ERROR', credentials, at), false);
    let outcome;
    try {
      outcome = await this.options.hooks.authenticate({ mechanism, ...credentials });
    } catch (e) {
      return [this.closeSocket('handshake-error', `authenticator failed: ${String(e)}`, SILENT_CLOSE_DELAY_MS)];
    }
    if (!outcome.ok) {
      const detail = `user '${credentials.user}': ${outcome.detail ?? 'invalid credentials'}`;
      const out: Actions<U> = [];
      if (this.capability('authentication_failure_close')) {
        // RabbitMQ's auth_fail: the peer gets a generic text and ids 0/0; the reason stays in the log.
        const text = `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`;
        out.push(this.sendMethod(buildMethod('connection.close', { replyCode: C.ACCESS_REFUSED, replyText: `ACCESS_REFUSED - ${text}`, classId: 0, methodId: 0 })));
      }
      out.push(this.closeSocket('auth-refused', detail, SILENT_CLOSE_DELAY_MS));
      return out;
    }
    this.user = outcome.user;
    this.current = 'tuning';
    return [this.sendMethod(buildMethod('connection.tune', { ...this.limits }))];
  }

  private tuneOk(m: TuneLimits): Actions<U> {
    const at = ids('connection.tune');
    const frameErr = this.negotiate('frame_max', this.options.frameMinSize ?? 4096, this.limits.frameMax, m.frameMax);
    const channelErr = frameErr ? undefined : this.negotiate('channel_max', CHANNEL_MIN, this.limits.channelMax, m.channelMax);
    const detail = frameErr ?? channelErr;
    if (detail) return this.fail(error(C.NOT_ALLOWED, 'NOT_ALLOWED', detail, at), false);
    // RabbitMQ takes the client's heartbeat as it is, in both directions.
    this.heartbeat = new HeartbeatMonitor(m.heartbeat * 1000);
    if (m.heartbeat > 0 && m.heartbeat * 1000 < CLOSING_TIMEOUT_MS) this.closingTimeoutMs = m.heartbeat * 1000;
    this.current = 'opening';
    return [{ kind: 'tuned', channelMax: m.channelMax, frameMax: m.frameMax, heartbeat: m.heartbeat }];
  }

  // rabbit_reader:validate_negotiated_integer_value: below the minimum, or above (or 0 = unlimited
  // against) a server limit, is refused.
  private negotiate(field: string, min: number, server: number, client: number): string | undefined {
    if (client !== 0 && client < min) return `negotiated ${field} = ${client} is lower than the minimum allowed value (${min})`;
    if (server !== 0 && (client === 0 || client > server)) {
      const note = field === 'channel_max' && client === 0 ? ' (no limit)' : '';
      return `negotiated ${field} = ${client}${note} is higher than the maximum allowed value (${server})`;
    }
    return undefined;
  }

  private async open(vhost: string): Promise<Actions<U>> {
    const user = this.user;
    if (!user) return [this.closeSocket('handshake-error', 'open without a user', 0)]; // unreachable: tuning needs one
    const refusal = await this.checkVhost(user, vhost, ids('connection.open'));
    if (refusal) return this.fail(refusal, false);
    this.vhost = vhost;
    this.current = 'running';
    return [this.sendMethod(buildMethod('connection.open-ok', {})), { kind: 'opened', user, vhost }];
  }

  private async checkVhost(user: U, vhost: string, at: { classId: number; methodId: number }): Promise<CloseError | undefined> {
    try {
      const outcome = await this.options.hooks.canOpen(user, vhost);
      if (outcome.ok) return undefined;
      return error(C.NOT_ALLOWED, 'NOT_ALLOWED', outcome.detail ?? `access to vhost '${vhost}' refused for user '${user.name}'`, at);
    } catch (e) {
      return error(C.INTERNAL_ERROR, 'INTERNAL_ERROR', `vhost access check failed: ${String(e)}`, at);
    }
  }

  private async updateSecret(newSecret: Uint8Array, reason: string): Promise<Actions<U>> {
    const at = ids('connection.update-secret');
    const hook = this.options.hooks.updateSecret;
    const user = this.user;
    if (!hook || !user || this.vhost === undefined) {
      return this.fail(error(C.NOT_IMPLEMENTED, 'NOT_IMPLEMENTED', 'connection.update-secret is not supported by this server', at), false);
    }
    let outcome;
    try {
      outcome = await hook(user, newSecret, reason);
    } catch {
      return this.fail(error(C.NOT_ALLOWED, 'NOT_ALLOWED', 'Secret update failed', at), false);
    }
    if (!outcome.ok) return this.fail(error(C.NOT_ALLOWED, 'NOT_ALLOWED', 'New secret was refused by one of the backends', at), false);
    // As RabbitMQ: the new identity must still be allowed into the connection's vhost.
    const refusal = await this.checkVhost(outcome.user, this.vhost, at);
    if (refusal) return this.fail(refusal, false);
    this.user = outcome.user;
    return [this.sendMethod(buildMethod('connection.update-secret-ok', {})), { kind: 'user-updated', user: outcome.user }];
  }

  private unexpectedFrame(frame: Frame): Actions<U> {
    const n = Math.min(frame.payload.length, 16);
    const snippet = `${frame.payload.length <= 16 ? 'all' : 'first 16'} octets = <<${[...frame.payload.subarray(0, n)].join(',')}>>`;
    return this.fail(error(C.UNEXPECTED_FRAME, 'UNEXPECTED_FRAME', `type ${frame.type}, ${snippet}`), false);
  }

  /**
   * rabbit_reader:handle_exception. Open (or opening) connections get connection.close; while tuning,
   * only a refused negotiation (530) does; any other error before that just closes the socket. A fatal
   * error (the frame stream is lost) closes the socket even after sending connection.close.
   */
  private fail(err: CloseError | AmqpError, fatal: boolean): Actions<U> {
    const s = this.current;
    if (s === 'closed') return [];
    if (s === 'closing') return fatal ? [this.closeSocket('frame-error', err.replyText, 0)] : [];
    const answer = s === 'running' || s === 'opening' || (s === 'tuning' && err.code === C.NOT_ALLOWED);
    if (!answer) return [this.closeSocket(fatal ? 'frame-error' : 'handshake-error', err.replyText, SILENT_CLOSE_DELAY_MS)];
    const out = this.sendClose(err);
    if (fatal) out.push(this.closeSocket('frame-error', err.replyText, SILENT_CLOSE_DELAY_MS));
    return out;
  }

  private sendClose(err: CloseError | AmqpError): Actions<U> {
    this.current = 'closing';
    this.closingSince = undefined;
    const { code: replyCode, replyText, classId, methodId } = err;
    return [this.sendMethod(buildMethod('connection.close', { replyCode, replyText, classId, methodId }))];
  }

  private closeSocket(reason: CloseReason, detail: string, lingerMs: number): ConnectionAction<U> {
    this.current = 'closed';
    return { kind: 'close-socket', reason, detail, lingerMs };
  }

  private sendMethod(method: AmqpMethod): ConnectionAction<U> {
    this.heartbeat?.sent();
    return { kind: 'send', bytes: encodeMethodFrame(0, method), method };
  }

  private capability(name: string): boolean {
    const v = this.capabilities.get(name);
    return v?.type === 'bool' && v.value;
  }
}
