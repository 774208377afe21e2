// The connection state machine driven through the codec: client frames are encoded by amqplib's own codec
// (as a real client sends them) or by ours, read back through FrameReader, and fed to the machine; what it
// sends is decoded again. Expected texts and codes are RabbitMQ's (deps/rabbit/src/rabbit_reader.erl).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { ConnectionMachine } from '../../../src/protocol/amqp/connection-machine.js';
import type { ConnectionAction, ConnectionMachineOptions, ConnectionUser } from '../../../src/protocol/amqp/connection-types.js';
import { encodeFrame, HEARTBEAT_FRAME } from '../../../src/protocol/amqp/frame-writer.js';
import { FrameReader, type Frame, type ReadResult } from '../../../src/protocol/amqp/frame-reader.js';
import { decodeMethod, encodeMethodFrame } from '../../../src/protocol/amqp/method-codec.js';
import type { AmqpMethod } from '../../../src/protocol/amqp/spec/methods.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  ConnectionStartOk: number;
  ConnectionTuneOk: number;
  ConnectionOpen: number;
  ConnectionClose: number;
  ConnectionCloseOk: number;
}
interface AmqplibCredentials {
  plain(user: string, password: string): { mechanism: string; response(): Buffer };
  amqplain(user: string, password: string): { mechanism: string; response(): Buffer };
}
interface AmqplibFrame {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(frame: { type: number; channel: number; payload: Buffer }): { id?: number; channel: number; fields?: Record<string, unknown> };
}
const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));
const defs: AmqplibDefs = require(join(amqplibDir, 'lib', 'defs.js'));
const credentials: AmqplibCredentials = require(join(amqplibDir, 'lib', 'credentials.js'));
const frameLib: AmqplibFrame = require(join(amqplibDir, 'lib', 'frame.js'));

interface User extends ConnectionUser {
  readonly tags: string;
}
type Action = ConnectionAction<User>;

const PASSWORDS = new Map([['guest', 'guest']]);

function newMachine(overrides: Partial<ConnectionMachineOptions<User>> = {}, hooks: Partial<ConnectionMachineOptions<User>['hooks']> = {}): ConnectionMachine<User> {
  return new ConnectionMachine<User>({
    server: { version: '0.1.0', platform: 'Node.js v20' },
    ...overrides,
    hooks: {
      authenticate: async ({ user, password }) => (PASSWORDS.get(user) === password ? { ok: true, user: { name: user, tags: 'admin' } } : { ok: false }),
      canOpen: async (_user, vhost) => (vhost === '/' ? { ok: true } : { ok: false }),
      ...hooks,
    },
  });
}

function framesOf(bytes: Uint8Array): ReadResult[] {
  return [...new FrameReader({ expectProtocolHeader: false, frameMax: 0 }).read(bytes)];
}

function frameOf(bytes: Uint8Array): Frame {
  const [f] = framesOf(bytes);
  if (f?.kind !== 'frame') throw new Error(`not a frame: ${JSON.stringify(f)}`);
  return f;
}

async function feed(m: ConnectionMachine<User>, bytes: Uint8Array): Promise<Action[]> {
  const out: Action[] = [];
  for (const r of framesOf(bytes)) out.push(...(await m.receive(r)));
  return out;
}

const ours = (method: AmqpMethod, channel = 0): Buffer => encodeMethodFrame(channel, method);

const sentMethods = (actions: Action[]): AmqpMethod[] =>
  actions.flatMap((a) => (a.kind === 'send' && a.method ? [a.method] : []));

function closeSent(actions: Action[]): AmqpMethod & { method: 'connection.close' } {
  const close = sentMethods(actions).find((m): m is AmqpMethod & { method: 'connection.close' } => m.method === 'connection.close');
  if (!close) throw new Error(`no connection.close in ${JSON.stringify(actions.map((a) => a.kind))}`);
  return close;
}

const socketClose = (actions: Action[]) => actions.find((a) => a.kind === 'close-socket');

function startOk(opts: { mechanism?: string; response?: Buffer; capabilities?: Record<string, boolean> } = {}): Buffer {
  const creds = credentials.plain('guest', 'guest');
  return defs.encodeMethod(defs.ConnectionStartOk, 0, {
    clientProperties: { product: 'amqplib', capabilities: opts.capabilities ?? { 'connection.blocked': true, authentication_failure_close: true } },
    mechanism: opts.mechanism ?? creds.mechanism,
    response: opts.response ?? creds.response(),
    locale: 'en_US',
  });
}
const tuneOk = (channelMax = 2047, frameMax = 131072, heartbeat = 60): Buffer => defs.encodeMethod(defs.ConnectionTuneOk, 0, { channelMax, frameMax, heartbeat });
const open = (virtualHost = '/'): Buffer => defs.encodeMethod(defs.ConnectionOpen, 0, { virtualHost, capabilities: '', insist: false });
const closeOk = (): Buffer => defs.encodeMethod(defs.ConnectionCloseOk, 0, {});

async function toTuning(m: ConnectionMachine<User>, capabilities?: Record<string, boolean>): Promise<void> {
  m.protocolHeader();
  await feed(m, startOk({ capabilities }));
  expect(m.state).toBe('tuning');
}
async function toOpening(m: ConnectionMachine<User>, heartbeat = 60): Promise<void> {
  await toTuning(m);
  await feed(m, tuneOk(2047, 131072, heartbeat));
  expect(m.state).toBe('opening');
}
async function toRunning(m: ConnectionMachine<User>, heartbeat = 60, capabilities?: Record<string, boolean>): Promise<void> {
  await toTuning(m, capabilities);
  await feed(m, tuneOk(2047, 131072, heartbeat));
  await feed(m, open());
  expect(m.state).toBe('running');
}

describe('ConnectionMachine: negotiation', () => {
  it('answers the protocol header with connection.start that amqplib reads', () => {
    const m = newMachine({ server: { version: '1.2.3', platform: 'Node.js v20', capabilities: ['publisher_confirms'] } });
    const [action] = m.protocolHeader();
    if (action?.kind !== 'send') throw new Error('expected a send');
    const parsed = frameLib.parseFrame(Buffer.from(action.bytes), 0);
    if (!parsed) throw new Error('amqplib could not parse the frame');
    const { fields } = frameLib.decodeFrame(parsed);
    expect(fields).toMatchObject({ versionMajor: 0, versionMinor: 9, mechanisms: Buffer.from('PLAIN AMQPLAIN'), locales: Buffer.from('en_US') });
    const props = fields?.['serverProperties'] as Record<string, unknown>;
    expect(props['product']).toBe('Warren');
    expect(props['version']).toBe('1.2.3');
    expect(props['platform']).toBe('Node.js v20');
    expect(props['capabilities']).toEqual({ publisher_confirms: true });
    expect(m.state).toBe('starting');
  });

  it('announces no capabilities unless given some', () => {
    const [action] = newMachine().protocolHeader();
    const method = action?.kind === 'send' ? action.method : undefined;
    if (method?.method !== 'connection.start') throw new Error('expected connection.start');
    const caps = method.serverProperties.get('capabilities');
    expect(caps).toEqual({ type: 'table', value: new Map() });
  });

  it('runs the whole handshake with amqplib-encoded PLAIN start-ok, tune-ok and open', async () => {
    const m = newMachine();
    m.protocolHeader();
    const afterStartOk = await feed(m, startOk());
    expect(sentMethods(afterStartOk)).toEqual([buildMethod('connection.tune', { channelMax: 2047, frameMax: 131072, heartbeat: 60 })]);
    expect(await feed(m, tuneOk(2047, 131072, 30))).toEqual([{ kind: 'tuned', channelMax: 2047, frameMax: 131072, heartbeat: 30 }]);
    const afterOpen = await feed(m, open('/'));
    expect(sentMethods(afterOpen).map((x) => x.method)).toEqual(['connection.open-ok']);
    expect(afterOpen).toContainEqual({ kind: 'opened', user: { name: 'guest', tags: 'admin' }, vhost: '/' });
    expect(m.clientCapabilities.get('connection.blocked')).toEqual({ type: 'bool', value: true });

    const channelOpen = ours(buildMethod('channel.open', {}), 3);
    const [passed] = await feed(m, channelOpen);
    expect(passed).toMatchObject({ kind: 'channel-frame', channel: 3 });
    if (passed?.kind !== 'channel-frame') throw new Error('expected a channel frame');
    expect(decodeMethod(passed.frame.payload)).toEqual(buildMethod('channel.open', {}));
  });

  it('accepts AMQPLAIN credentials as amqplib encodes them', async () => {
    const m = newMachine();
    m.protocolHeader();
    const creds = credentials.amqplain('guest', 'guest');
    const out = await feed(m, startOk({ mechanism: creds.mechanism, response: creds.response() }));
    expect(sentMethods(out).map((x) => x.method)).toEqual(['connection.tune']);
  });

  it('passes the user name and password to the authenticator, whichever the mechanism', async () => {
    const seen: unknown[] = [];
    const m = newMachine({}, { authenticate: async (req) => (seen.push(req), { ok: true, user: { name: req.user, tags: '' } }) });
    m.protocolHeader();
    await feed(m, startOk({ response: credentials.plain('ann', 'pä ss').response() }));
    expect(seen).toEqual([{ mechanism: 'PLAIN', user: 'ann', password: 'pä ss' }]);
  });

  it('uses the configured tune limits', async () => {
    const m = newMachine({ tune: { channelMax: 10, frameMax: 8192, heartbeat: 0 } });
    m.protocolHeader();
    expect(sentMethods(await feed(m, startOk()))).toEqual([buildMethod('connection.tune', { channelMax: 10, frameMax: 8192, heartbeat: 0 })]);
  });
});

describe('ConnectionMachine: authentication failures', () => {
  it('with authentication_failure_close: connection.close 403 with RabbitMQ text, then the socket closes', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ response: credentials.plain('guest', 'wrong').response() }));
    expect(closeSent(out)).toEqual(
      buildMethod('connection.close', {
        replyCode: 403,
        replyText: 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.',
        classId: 0,
        methodId: 0,
      }),
    );
    expect(socketClose(out)).toMatchObject({ reason: 'auth-refused', lingerMs: 3000 });
    expect(m.state).toBe('closed');
  });

  it('without the capability: the socket just closes', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ response: credentials.plain('guest', 'wrong').response(), capabilities: {} }));
    expect(sentMethods(out)).toEqual([]);
    expect(out).toEqual([expect.objectContaining({ kind: 'close-socket', reason: 'auth-refused' })]);
  });

  it('names the mechanism in the 403 text', async () => {
    const m = newMachine();
    m.protocolHeader();
    const creds = credentials.amqplain('nobody', 'x');
    const out = await feed(m, startOk({ mechanism: creds.mechanism, response: creds.response() }));
    expect(closeSent(out).replyText).toContain('mechanism AMQPLAIN.');
  });

  it('an unknown mechanism closes the socket without a close method (503 in the log)', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ mechanism: 'EXTERNAL', response: Buffer.alloc(0) }));
    expect(sentMethods(out)).toEqual([]);
    expect(socketClose(out)).toMatchObject({ reason: 'handshake-error', detail: "COMMAND_INVALID - unknown authentication mechanism 'EXTERNAL'" });
  });

  it.each([
    ['an authorisation identity', Buffer.from('admin\0guest\0guest')],
    ['no second NUL', Buffer.from('\0guest')],
    ['a third NUL', Buffer.from('\0guest\0guest\0')],
  ])('a malformed PLAIN response (%s) closes the socket as a 502', async (_name, response) => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ response }));
    expect(socketClose(out)).toMatchObject({ reason: 'handshake-error', detail: expect.stringMatching(/^SYNTAX_ERROR - PLAIN/) });
  });

  it('an AMQPLAIN response without PASSWORD closes the socket as a 502', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ mechanism: 'AMQPLAIN', response: Buffer.from([5, 76, 79, 71, 73, 78, 83, 0, 0, 0, 1, 97]) }));
    expect(socketClose(out)).toMatchObject({ detail: 'SYNTAX_ERROR - AMQPLAIN auth info is missing LOGIN or PASSWORD field' });
  });

  it('an authenticator that throws closes the socket rather than crashing', async () => {
    const m = newMachine({}, { authenticate: () => Promise.reject(new Error('store down')) });
    m.protocolHeader();
    const out = await feed(m, startOk());
    expect(socketClose(out)).toMatchObject({ reason: 'handshake-error', detail: expect.stringContaining('store down') });
  });
});

describe('ConnectionMachine: tune-ok and open refused', () => {
  it('frame_max below the minimum: 530 against connection.tune, then waits for close-ok', async () => {
    const m = newMachine();
    await toTuning(m);
    const out = await feed(m, tuneOk(2047, 100, 60));
    expect(closeSent(out)).toEqual(
      buildMethod('connection.close', {
        replyCode: 530,
        replyText: 'NOT_ALLOWED - negotiated frame_max = 100 is lower than the minimum allowed value (4096)',
        classId: 10,
        methodId: 30,
      }),
    );
    expect(m.state).toBe('closing');
    expect(await feed(m, closeOk())).toEqual([expect.objectContaining({ kind: 'close-socket', reason: 'close-ok' })]);
  });

  it('frameMinSize can follow RabbitMQ 4.1 (8192)', async () => {
    const m = newMachine({ frameMinSize: 8192 });
    await toTuning(m);
    expect(closeSent(await feed(m, tuneOk(2047, 4096, 60))).replyText).toBe(
      'NOT_ALLOWED - negotiated frame_max = 4096 is lower than the minimum allowed value (8192)',
    );
  });

  it.each([
    [tuneOk(2047, 0, 60), 'NOT_ALLOWED - negotiated frame_max = 0 is higher than the maximum allowed value (131072)'],
    [tuneOk(2047, 131073, 60), 'NOT_ALLOWED - negotiated frame_max = 131073 is higher than the maximum allowed value (131072)'],
    [tuneOk(0, 4096, 60), 'NOT_ALLOWED - negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)'],
    [tuneOk(2048, 4096, 60), 'NOT_ALLOWED - negotiated channel_max = 2048 is higher than the maximum allowed value (2047)'],
  ])('client values above the server limit are refused (%#)', async (bytes, text) => {
    const m = newMachine();
    await toTuning(m);
    expect(closeSent(await feed(m, bytes)).replyText).toBe(text);
  });

  it('0 from the client is accepted when the server has no limit either', async () => {
    const m = newMachine({ tune: { channelMax: 0, frameMax: 0 } });
    await toTuning(m);
    expect(await feed(m, tuneOk(0, 0, 0))).toEqual([{ kind: 'tuned', channelMax: 0, frameMax: 0, heartbeat: 0 }]);
  });

  it('a refused vhost: 530 against connection.open; frames until close-ok are ignored', async () => {
    const m = newMachine();
    await toOpening(m);
    const out = await feed(m, open('secret'));
    expect(closeSent(out)).toEqual(
      buildMethod('connection.close', { replyCode: 530, replyText: "NOT_ALLOWED - access to vhost 'secret' refused for user 'guest'", classId: 10, methodId: 40 }),
    );
    expect(out.some((a) => a.kind === 'opened')).toBe(false);
    expect(await feed(m, ours(buildMethod('channel.open', {}), 1))).toEqual([]);
    expect(await feed(m, open('/'))).toEqual([]);
    // The spec: a close crossing ours is answered with close-ok.
    expect(sentMethods(await feed(m, ours(buildMethod('connection.close', { replyCode: 200, classId: 0, methodId: 0 }))))).toEqual([
      buildMethod('connection.close-ok', {}),
    ]);
    expect(socketClose(await feed(m, closeOk()))).toMatchObject({ reason: 'close-ok' });
  });

  it("canOpen's own reason replaces the default text", async () => {
    const m = newMachine({}, { canOpen: async () => ({ ok: false, detail: 'vhost gone not found' }) });
    await toOpening(m);
    expect(closeSent(await feed(m, open('gone'))).replyText).toBe('NOT_ALLOWED - vhost gone not found');
  });
});

describe('ConnectionMachine: out of order and codec errors', () => {
  it('a method out of order before tuning closes the socket without a close method (504 in the log)', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, open('/'));
    expect(out).toEqual([
      { kind: 'close-socket', reason: 'handshake-error', detail: 'CHANNEL_ERROR - unexpected method in connection state starting', lingerMs: 3000 },
    ]);
  });

  it('while tuning too (open before tune-ok)', async () => {
    const m = newMachine();
    await toTuning(m);
    expect(await feed(m, open('/'))).toEqual([expect.objectContaining({ kind: 'close-socket', detail: 'CHANNEL_ERROR - unexpected method in connection state tuning' })]);
  });

  it('once opening, an unexpected method gets connection.close 504 with its ids', async () => {
    const m = newMachine();
    await toOpening(m);
    expect(closeSent(await feed(m, tuneOk()))).toEqual(
      buildMethod('connection.close', { replyCode: 504, replyText: 'CHANNEL_ERROR - unexpected method in connection state opening', classId: 10, methodId: 31 }),
    );
  });

  it('when running, a channel method on channel 0 gets 504 with its ids', async () => {
    const m = newMachine();
    await toRunning(m);
    const close = closeSent(await feed(m, ours(buildMethod('channel.open', {}))));
    expect(close).toMatchObject({ replyCode: 504, classId: 20, methodId: 10 });
    expect(m.state).toBe('closing');
  });

  it('a frame on channel 1 before open: silent while tuning, 505 once opening', async () => {
    const early = newMachine();
    await toTuning(early);
    expect(socketClose(await feed(early, ours(buildMethod('channel.open', {}), 1)))).toMatchObject({ reason: 'handshake-error', detail: expect.stringMatching(/^UNEXPECTED_FRAME/) });

    const later = newMachine();
    await toOpening(later);
    expect(closeSent(await feed(later, ours(buildMethod('channel.open', {}), 1)))).toEqual(
      buildMethod('connection.close', { replyCode: 505, replyText: 'UNEXPECTED_FRAME - type 1, all octets = <<0,20,0,10,0>>', classId: 0, methodId: 0 }),
    );
  });

  it('a content header on channel 0 is an unexpected frame', async () => {
    const m = newMachine();
    await toRunning(m);
    const close = closeSent(await feed(m, encodeFrame(2, 0, new Uint8Array(20))));
    expect(close.replyCode).toBe(505);
    expect(close.replyText).toMatch(/^UNEXPECTED_FRAME - type 2, first 16 octets = <<0,0,/);
  });

  it('a frame error from the reader: close 501, then the socket closes (the stream is lost)', async () => {
    const m = newMachine();
    await toRunning(m);
    const bad = Buffer.from(HEARTBEAT_FRAME);
    bad[bad.length - 1] = 0;
    const out = await feed(m, bad);
    expect(closeSent(out)).toMatchObject({ replyCode: 501, replyText: expect.stringMatching(/^FRAME_ERROR - frame-end/) });
    expect(socketClose(out)).toMatchObject({ reason: 'frame-error' });
  });

  it('a frame error before open just closes the socket', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await m.receive(framesOf(encodeFrame(1, 0, new Uint8Array(0)).fill(7, 0, 1))[0] ?? { kind: 'bad-header', received: Buffer.alloc(0), reply: new Uint8Array() });
    expect(out).toEqual([expect.objectContaining({ kind: 'close-socket', reason: 'frame-error', detail: 'FRAME_ERROR - unknown frame type 7' })]);
  });

  it('a malformed method on channel 0: close with the codec code and the method ids', async () => {
    const m = newMachine();
    await toRunning(m);
    const truncated = encodeFrame(1, 0, Buffer.from([0, 10, 0, 50, 0, 200])); // connection.close cut short
    expect(closeSent(await feed(m, truncated))).toMatchObject({ replyCode: 502, classId: 10, methodId: 50 });
  });

  it('an unknown method: 540 with its ids', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(await feed(m, encodeFrame(1, 0, Buffer.from([0, 10, 0, 99]))))).toMatchObject({ replyCode: 540, classId: 10, methodId: 99 });
  });

  it('a wrong protocol header is answered with ours and the socket closes', async () => {
    const m = newMachine();
    const [result] = [...new FrameReader().read(Buffer.from('GET / HTTP/1.1\r\n'))];
    if (!result) throw new Error('no result');
    const out = await m.receive(result);
    expect(out[0]).toEqual({ kind: 'send', bytes: Uint8Array.of(0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1) });
    expect(out[1]).toMatchObject({ kind: 'close-socket', reason: 'bad-header' });
  });

  it('errors from the next layer close the connection with their code', async () => {
    const m = newMachine();
    await toRunning(m);
    const close = closeSent(m.connectionError({ code: 505, replyText: 'UNEXPECTED_FRAME - body without a header', classId: 60, methodId: 40 }));
    expect(close).toMatchObject({ replyCode: 505, classId: 60, methodId: 40 });
  });
});

describe('ConnectionMachine: closing', () => {
  it('a client close is answered with close-ok and the socket closes', async () => {
    const m = newMachine();
    await toRunning(m);
    const out = await feed(m, defs.encodeMethod(defs.ConnectionClose, 0, { replyCode: 200, replyText: 'Goodbye', classId: 0, methodId: 0 }));
    expect(sentMethods(out)).toEqual([buildMethod('connection.close-ok', {})]);
    expect(socketClose(out)).toMatchObject({ reason: 'client-closed', lingerMs: 0 });
    expect(m.state).toBe('closed');
    expect(await feed(m, open())).toEqual([]);
  });

  it('a server close sends 320 and waits for close-ok, ignoring channel frames meanwhile', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(m.close())).toEqual(
      buildMethod('connection.close', { replyCode: 320, replyText: 'CONNECTION_FORCED - Closed via management plugin', classId: 0, methodId: 0 }),
    );
    expect(m.close()).toEqual([]);
    expect(await feed(m, ours(buildMethod('basic.qos', { prefetchCount: 1 }), 1))).toEqual([]);
    expect(socketClose(await feed(m, closeOk()))).toMatchObject({ reason: 'close-ok' });
  });

  it('a server close with its own code and text', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(m.close(541, 'INTERNAL_ERROR - shutting down'))).toMatchObject({ replyCode: 541, replyText: 'INTERNAL_ERROR - shutting down' });
  });

  it('a server close before open just closes the socket', () => {
    const m = newMachine();
    m.protocolHeader();
    expect(m.close()).toEqual([expect.objectContaining({ kind: 'close-socket', reason: 'server-closed' })]);
  });

  it('gives up waiting for close-ok after the heartbeat interval (at most 30 s)', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    m.close();
    m.tick(1000);
    expect(socketClose(m.tick(10_999))).toBeUndefined();
    expect(socketClose(m.tick(11_000))).toMatchObject({ reason: 'close-timeout' });
  });
});

describe('ConnectionMachine: heartbeats', () => {
  const isHeartbeat = (a: Action) => a.kind === 'send' && a.method === undefined && Buffer.from(a.bytes).equals(Buffer.from(HEARTBEAT_FRAME));

  it('sends a heartbeat after half an interval without output, and only then', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    expect(m.tick(0)).toEqual([]);
    expect(m.tick(4_999)).toEqual([]);
    const due = m.tick(5_000);
    expect(due).toHaveLength(1);
    expect(due.every(isHeartbeat)).toBe(true);
    expect(m.tick(6_000)).toEqual([]);
    m.noteSent(); // the owner wrote something: no heartbeat needed for another half interval
    expect(m.tick(9_000)).toEqual([]);
    expect(m.tick(13_999)).toEqual([]);
    expect(m.tick(14_000).every(isHeartbeat)).toBe(true);
  });

  it('closes the socket, without a close method, after two intervals with nothing received', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    await m.receive(frameOf(HEARTBEAT_FRAME));
    m.tick(15_000); // last received now 15 s
    expect(socketClose(m.tick(34_999))).toBeUndefined();
    const out = m.tick(35_000);
    expect(sentMethods(out)).toEqual([]);
    expect(out).toEqual([{ kind: 'close-socket', reason: 'heartbeat-timeout', detail: 'missed heartbeats from client, timeout: 10s', lingerMs: 0 }]);
    expect(m.state).toBe('closed');
  });

  it('channel frames count as received traffic', async () => {
    const m = newMachine();
    await toRunning(m, 10);
    m.tick(0);
    for (let t = 10_000; t <= 60_000; t += 10_000) {
      await feed(m, ours(buildMethod('channel.flow-ok', { active: true }), 1));
      expect(socketClose(m.tick(t))).toBeUndefined();
    }
  });

  it('heartbeat 0 disables both directions', async () => {
    const m = newMachine();
    await toRunning(m, 0);
    m.tick(0);
    expect(m.tick(3_600_000)).toEqual([]);
  });

  it('closes the socket when the handshake takes longer than the handshake timeout', () => {
    const m = newMachine({ handshakeTimeoutMs: 10_000 });
    m.tick(0);
    m.protocolHeader();
    expect(m.tick(9_999)).toEqual([]);
    expect(socketClose(m.tick(10_000))).toMatchObject({ reason: 'handshake-timeout' });
  });
});

describe('ConnectionMachine: update-secret and blocked', () => {
  const updateSecret = (secret = 'new-token') => ours(buildMethod('connection.update-secret', { newSecret: Buffer.from(secret), reason: 'refresh' }));

  it('without a hook, update-secret is refused with 540', async () => {
    const m = newMachine();
    await toRunning(m);
    expect(closeSent(await feed(m, updateSecret()))).toMatchObject({ replyCode: 540, classId: 10, methodId: 70 });
  });

  it('with a hook: update-secret-ok and the new user', async () => {
    const m = newMachine({}, { updateSecret: async (user, secret) => ({ ok: true, user: { name: user.name, tags: Buffer.from(secret).toString() } }) });
    await toRunning(m);
    const out = await feed(m, updateSecret('t2'));
    expect(sentMethods(out)).toEqual([buildMethod('connection.update-secret-ok', {})]);
    expect(out).toContainEqual({ kind: 'user-updated', user: { name: 'guest', tags: 't2' } });
  });

  it('a refused secret: 530 as RabbitMQ', async () => {
    const m = newMachine({}, { updateSecret: async () => ({ ok: false }) });
    await toRunning(m);
    expect(closeSent(await feed(m, updateSecret()))).toMatchObject({
      replyCode: 530,
      replyText: 'NOT_ALLOWED - New secret was refused by one of the backends',
      classId: 10,
      methodId: 70,
    });
  });

  it('blocked/unblocked go only to clients with the connection.blocked capability', async () => {
    const withCap = newMachine();
    await toRunning(withCap);
    expect(sentMethods(withCap.block('low on memory'))).toEqual([buildMethod('connection.blocked', { reason: 'low on memory' })]);
    expect(withCap.block('again')).toEqual([]);
    expect(sentMethods(withCap.unblock())).toEqual([buildMethod('connection.unblocked', {})]);
    expect(withCap.unblock()).toEqual([]);

    const without = newMachine();
    await toRunning(without, 60, { authentication_failure_close: true });
    expect(without.block('low on memory')).toEqual([]);
    expect(without.unblock()).toEqual([]);
  });
});

describe('ConnectionMachine: robustness', () => {
  it('starts by itself if a frame arrives before protocolHeader() was called', async () => {
    const m = newMachine();
    const out = await feed(m, startOk());
    expect(sentMethods(out).map((x) => x.method)).toEqual(['connection.start', 'connection.tune']);
  });

  // Seeded, so a failure is reproducible: random method payloads behind real connection-class ids and
  // random frame types/channels, in every state, must never throw; each ends in close-socket or carries on.
  it.each(['starting', 'tuning', 'opening', 'running'] as const)('random frames in state %s never throw', async (state) => {
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const m = newMachine();
      if (state === 'starting') m.protocolHeader();
      else if (state === 'tuning') await toTuning(m);
      else if (state === 'opening') await toOpening(m);
      else await toRunning(m);
      for (let i = 0; i < 5 && m.state !== 'closed'; i++) {
        const payload = Buffer.from(Array.from({ length: rand(24) }, () => rand(256)));
        if (payload.length >= 4 && rand(2) === 0) payload.writeUInt32BE((10 << 16) | (rand(8) * 10 + rand(2) * 1), 0);
        const type = [1, 2, 3][rand(3)] ?? 1;
        const channel = rand(3) === 0 ? rand(4) : 0;
        const out = await m.receive(frameOf(encodeFrame(type as 1 | 2 | 3, channel, payload)));
        for (const a of out) expect(['send', 'tuned', 'opened', 'channel-frame', 'close-socket', 'user-updated']).toContain(a.kind);
      }
    }
  });
});
