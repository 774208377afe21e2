// The connection negotiation happy paths and refusals, with RabbitMQ's exact codes, texts and ids
// (deps/rabbit/src/rabbit_reader.erl). Client frames are amqplib-encoded, as a real client sends them.
import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { decodeMethod } from '../../../src/protocol/amqp/method-codec.js';
import { newMachine, feed, ours, sentMethods, closeSent, socketClose, startOk, tuneOk, open, closeOk, toTuning, toOpening, credentials, frameLib } from './connection-harness.js';

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
    const out = await feed(m, startOk({ mechanism: 'CRAM-MD5', response: Buffer.alloc(0) }));
    expect(sentMethods(out)).toEqual([]);
    expect(socketClose(out)).toMatchObject({ reason: 'handshake-error', detail: "COMMAND_INVALID - unknown authentication mechanism 'CRAM-MD5'" });
  });

  it('a known mechanism this connection was not offered (EXTERNAL without a certificate) is refused as invalid', async () => {
    const m = newMachine();
    m.protocolHeader();
    const out = await feed(m, startOk({ mechanism: 'EXTERNAL', response: Buffer.alloc(0) }));
    expect(sentMethods(out)).toEqual([]);
    expect(socketClose(out)).toMatchObject({ reason: 'handshake-error', detail: "COMMAND_INVALID - invalid authentication mechanism 'EXTERNAL'" });
  });

  it('offers and hands EXTERNAL to the authenticate hook when the owner offers it; its response is ignored', async () => {
    const seen: unknown[] = [];
    const m = newMachine({ mechanisms: ['PLAIN', 'AMQPLAIN', 'EXTERNAL'] }, {
      authenticate: async (request) => {
        seen.push(request);
        return { ok: true, user: { name: 'from-certificate', tags: '' } };
      },
    });
    const [start] = m.protocolHeader();
    if (start?.kind !== 'send') throw new Error('expected a send');
    const { fields } = frameLib.decodeFrame(frameLib.parseFrame(Buffer.from(start.bytes), 0) || fail());
    expect(fields).toMatchObject({ mechanisms: Buffer.from('PLAIN AMQPLAIN EXTERNAL') });
    const out = await feed(m, startOk({ mechanism: 'EXTERNAL', response: Buffer.from('someone-else') }));
    expect(sentMethods(out).map((sent) => sent.method)).toEqual(['connection.tune']);
    expect(seen).toEqual([{ mechanism: 'EXTERNAL', user: '', password: '' }]);
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

function fail(): never {
  throw new Error('amqplib could not parse the frame');
}
