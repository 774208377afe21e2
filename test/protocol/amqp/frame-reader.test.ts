import { describe, expect, it } from 'vitest';
import { encodeBodyFrames, encodeContentHeaderFrame } from '../../../src/protocol/amqp/content.js';
import { PROTOCOL_HEADER } from '../../../src/protocol/amqp/frame-constants.js';
import { FrameReader, type ReadResult } from '../../../src/protocol/amqp/frame-reader.js';
import { encodeFrame, HEARTBEAT_FRAME } from '../../../src/protocol/amqp/frame-writer.js';
import { encodeMethodFrame } from '../../../src/protocol/amqp/method-codec.js';
import { allProperties, everyTypeTable } from './samples.js';

/** A client's opening: protocol header, start-ok, a publish with a 3-frame body, a heartbeat. */
function stream(): { bytes: Buffer; frames: { type: number; channel: number; payload: string }[] } {
  const parts = [
    encodeMethodFrame(0, { method: 'connection.start-ok', clientProperties: everyTypeTable(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' }),
    encodeMethodFrame(1, { method: 'basic.publish', ticket: 0, exchange: 'amq.direct', routingKey: 'rk', mandatory: true, immediate: false }),
    encodeContentHeaderFrame(1, 300, allProperties()),
    ...encodeBodyFrames(1, Buffer.alloc(300, 7), 128),
    Buffer.from(HEARTBEAT_FRAME),
  ];
  const frames = parts.map((p) => ({ type: p[0] ?? 0, channel: p.readUInt16BE(1), payload: p.subarray(7, p.length - 1).toString('hex') }));
  return { bytes: Buffer.concat([PROTOCOL_HEADER, ...parts]), frames };
}

const view = (r: ReadResult): unknown => (r.kind === 'frame' ? { type: r.type, channel: r.channel, payload: r.payload.toString('hex') } : r);

describe('frame reader', () => {
  const { bytes, frames } = stream();

  it('reads a whole stream given at once, payloads as views into the chunk', () => {
    const results = [...new FrameReader().read(bytes)];
    expect(results.map(view)).toEqual(frames);
    const first = results[0];
    if (first?.kind !== 'frame') throw new Error('no frame');
    expect(first.payload.buffer).toBe(bytes.buffer); // no copy
  });

  it.each(Array.from({ length: 64 }, (_, i) => i + 1))('reads the same frames from chunks of %i bytes', (size) => {
    const reader = new FrameReader();
    const results: ReadResult[] = [];
    for (let at = 0; at < bytes.length; at += size) results.push(...reader.read(bytes.subarray(at, at + size)));
    expect(results.map(view)).toEqual(frames);
  });

  it('reads from chunks of irregular sizes', () => {
    const reader = new FrameReader();
    const results: ReadResult[] = [];
    let at = 0;
    let n = 1;
    while (at < bytes.length) {
      const size = (n * 37) % 97 + 1;
      results.push(...reader.read(bytes.subarray(at, at + size)));
      at += size;
      n++;
    }
    expect(results.map(view)).toEqual(frames);
  });

  it('a wrong protocol header is answered with ours, as soon as a byte differs', () => {
    const reader = new FrameReader();
    expect([...reader.read(Buffer.from('AMQ'))]).toEqual([]);
    const [r] = [...reader.read(Buffer.from('X'))];
    expect(r).toMatchObject({ kind: 'bad-header', reply: PROTOCOL_HEADER });
    expect(reader.failed).toBe(true);
  });

  it.each([
    ['HTTP', Buffer.from('GET / HTTP/1.1\r\n')],
    ['AMQP 0-9', Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9])],
    ['AMQP 1.0', Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0])],
  ])('%s header → bad-header with the 0-9-1 header as the reply', (_name, header) => {
    const [r] = [...new FrameReader().read(header)];
    expect(r?.kind).toBe('bad-header');
    if (r?.kind === 'bad-header') expect(Buffer.from(r.reply).toString('latin1')).toBe('AMQP\x00\x00\x09\x01');
  });

  const noHeader = (): FrameReader => new FrameReader({ expectProtocolHeader: false, frameMax: 4096 });
  const good = encodeFrame(1, 1, Buffer.from([0, 20, 0, 10, 0]));

  it.each([
    ['bad frame-end octet', Buffer.concat([good.subarray(0, good.length - 1), Uint8Array.of(0)]), 501],
    ['unknown frame type', Buffer.from([9, 0, 0, 0, 0, 0, 0, 0xce]), 501],
    ['frame larger than frame_max', Buffer.from([3, 0, 1, 0, 0, 0x10, 0]), 501],
    ['heartbeat with a payload', Buffer.from([8, 0, 0, 0, 0, 0, 1, 0, 0xce]), 501],
  ])('%s → %i FRAME_ERROR, sticky', (_name, input, code) => {
    const reader = noHeader();
    const results = [...reader.read(Buffer.concat([good, input]))];
    expect(results[0]?.kind).toBe('frame');
    expect(results[1]).toMatchObject({ kind: 'error', code, name: 'FRAME_ERROR' });
    expect(results).toHaveLength(2);
    expect(reader.next()).toBe(results[1]);
    expect([...reader.read(good)]).toEqual([results[1]]);
  });

  it('reads a heartbeat on another channel as a frame: the connection refuses it with 505, as RabbitMQ', () => {
    const reader = noHeader();
    expect([...reader.read(Buffer.from([8, 0, 1, 0, 0, 0, 0, 0xce]))]).toMatchObject([{ kind: 'frame', type: 8, channel: 1 }]);
  });

  it('frame_max is the whole frame, header and end octet included; 0 means no limit', () => {
    const exact = encodeFrame(3, 1, Buffer.alloc(4096 - 8));
    expect([...noHeader().read(exact)][0]?.kind).toBe('frame');
    const over = encodeFrame(3, 1, Buffer.alloc(4096 - 7));
    expect([...noHeader().read(over)][0]).toMatchObject({ code: 501 });
    const unlimited = new FrameReader({ expectProtocolHeader: false, frameMax: 0 });
    expect([...unlimited.read(encodeFrame(3, 1, Buffer.alloc(200_000)))][0]?.kind).toBe('frame');
  });

  it('rejects an oversized frame from its header, before its payload arrives', () => {
    expect([...noHeader().read(Buffer.from([3, 0, 1, 0x7f, 0xff, 0xff, 0xff]))][0]).toMatchObject({ code: 501 });
  });
});
