// Methods out of order, unexpected frames and codec errors, each with the close (or silent socket close)
// that RabbitMQ's handle_exception gives in that state; and a seeded fuzz per state.
import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { encodeFrame, HEARTBEAT_FRAME } from '../../../src/protocol/amqp/frame-writer.js';
import { FrameReader } from '../../../src/protocol/amqp/frame-reader.js';
import { newMachine, framesOf, frameOf, feed, ours, sentMethods, closeSent, socketClose, startOk, tuneOk, open, toTuning, toOpening, toRunning } from './connection-harness.js';

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
    expect(closeSent(await feed(m, truncated))).toMatchObject({ replyCode: 501, classId: 10, methodId: 50 });
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
