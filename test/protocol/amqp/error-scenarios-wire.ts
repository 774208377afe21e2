// Error scenarios about the wire and the connection: channel lifecycle, content framing, frame-level
// damage, malformed method arguments and field tables, connection methods out of order, protocol headers.
import {
  buildMethod,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  type Frame,
} from '../../../src/protocol/amqp/index.js';
import { channelOne, headerExchange, queueDeclareArgs, rawMethodFrame, shortstr, u32, type Observed, type Scenario, type ScenarioContext } from './error-scenarios.js';

type FrameType = Frame['type'];

/** Sends `bytes` on a running connection with channel 1 open and reports the outcome on channel 1. */
function sendRaw(make: () => Uint8Array | readonly Uint8Array[]): (ctx: ScenarioContext) => Promise<Observed> {
  return async (ctx) => {
    const c = await channelOne(ctx);
    const out = make();
    for (const b of out instanceof Uint8Array ? [out] : out) c.send(b);
    return c.outcome(1);
  };
}

const publishFrame = encodeMethodFrame(1, buildMethod('basic.publish', { exchange: 'amq.direct', routingKey: 'k' }));
const withEnd = (frame: Buffer, end: number): Buffer => {
  const copy = Buffer.from(frame);
  copy[copy.length - 1] = end;
  return copy;
};
/** A frame header (type, channel, size) and payload with the right end octet but any type. */
const anyFrame = (type: number, channel: number, payload: Uint8Array): Buffer => {
  const f = encodeFrame(FRAME_BODY, channel, payload);
  f[0] = type;
  return f;
};
const body = (channel: number, bytes: Uint8Array): Buffer => encodeFrame(FRAME_BODY, channel, bytes);
/** A field table: 4-byte length (given, or the true one) and the entry bytes. */
const rawTable = (entries: Uint8Array, claimedLength = entries.byteLength): Buffer => Buffer.concat([u32(claimedLength), entries]);
const longstrEntry = (key: string, value: string, claimed?: number): Buffer =>
  Buffer.concat([shortstr(key), Buffer.from('S'), u32(claimed ?? Buffer.byteLength(value)), Buffer.from(value)]);

const headerFrameType: FrameType = FRAME_HEADER;

export const WIRE_SCENARIOS: readonly Scenario[] = [
  {
    id: 'channel-open-twice',
    steps: 'channel.open 1, channel.open 1 again',
    text: /^CHANNEL_ERROR - second 'channel.open' seen$/,
    run: sendRaw(() => encodeMethodFrame(1, buildMethod('channel.open', {}))),
  },
  {
    id: 'method-on-unopened-channel',
    steps: "queue.declare 'q' on channel 5, never opened",
    text: /^CHANNEL_ERROR - expected 'channel.open'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      c.sendMethod(5, buildMethod('queue.declare', { queue: 'q' }));
      // Channels are separate processes in RabbitMQ: only a probe on the same channel is ordered after it.
      return c.outcome(5);
    },
  },
  {
    id: 'method-on-closed-channel',
    steps: "channel.open 2, channel.close 2 (close-ok received), then queue.declare on 2",
    text: /^CHANNEL_ERROR - expected 'channel.open'$/,
    async run(ctx) {
      const c = await channelOne(ctx);
      await c.openChannel(2);
      await c.call(2, buildMethod('channel.close', { replyCode: 200, classId: 0, methodId: 0 }), 'channel.close-ok');
      c.sendMethod(2, buildMethod('queue.declare', { queue: 'q' }));
      return c.outcome(2);
    },
  },
  {
    id: 'channel-open-above-channel-max',
    difference: {
      reason: 'the spec makes channel-max the highest channel number; RabbitMQ 3.10 only counts open channels and opens 2048, Warren refuses it',
      warren: { kind: 'connection.close', replyCode: 530, classId: 20, methodId: 10, text: /^NOT_ALLOWED - channel number 2048 is higher than the negotiated channel_max \(2047\)$/ },
    },
    steps: 'channel.open on channel 2048 (above the negotiated channel_max 2047)',
    async run(ctx) {
      const c = await channelOne(ctx);
      c.sendMethod(2048, buildMethod('channel.open', {}));
      return c.outcome(2048);
    },
  },
  {
    id: 'channel-method-on-channel-0',
    steps: 'channel.open on channel 0',
    text: /^CHANNEL_ERROR - unexpected method in connection state running$/,
    run: sendRaw(() => encodeMethodFrame(0, buildMethod('channel.open', {}))),
  },
  {
    id: 'header-without-method',
    steps: 'a content header frame on channel 1 with no basic.publish before it',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => encodeContentHeaderFrame(1, 1, {})),
  },
  {
    id: 'body-without-header',
    steps: 'a body frame on channel 1 with nothing before it',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => body(1, Buffer.from('x'))),
  },
  {
    id: 'method-while-awaiting-header',
    steps: 'basic.publish, then another basic.publish instead of its content header',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => [publishFrame, publishFrame]),
  },
  {
    id: 'body-larger-than-header',
    steps: 'basic.publish, a content header of size 5, a body frame of 10 bytes',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => [publishFrame, encodeContentHeaderFrame(1, 5, {}), body(1, Buffer.from('0123456789'))]),
  },
  {
    id: 'content-header-wrong-class',
    steps: 'basic.publish, then a content header for class 50 (queue)',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => [publishFrame, encodeContentHeaderFrame(1, 1, {}, 50)]),
  },
  {
    id: 'frame-max-exceeded',
    steps: 'basic.publish, content header of 200000 bytes, one body frame of 140000 bytes (frame_max 131072)',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => [publishFrame, encodeContentHeaderFrame(1, 200000, {}), body(1, Buffer.alloc(140000, 1))]),
  },
  {
    id: 'bad-frame-end',
    steps: "queue.declare on channel 1 with frame-end 0x00 instead of 0xCE",
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => withEnd(encodeMethodFrame(1, buildMethod('queue.declare', { queue: 'q' })), 0)),
  },
  {
    id: 'unknown-frame-type',
    steps: 'a frame of type 9 on channel 1',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => anyFrame(9, 1, Buffer.from('abc'))),
  },
  {
    id: 'heartbeat-on-channel-1',
    steps: 'a heartbeat frame on channel 1',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => encodeFrame(FRAME_HEARTBEAT, 1, Buffer.alloc(0))),
  },
  {
    id: 'heartbeat-with-payload',
    steps: 'a heartbeat frame on channel 0 with a 2-byte payload',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => encodeFrame(FRAME_HEARTBEAT, 0, Buffer.from('hi'))),
  },
  {
    id: 'header-frame-on-channel-0',
    steps: 'a content header frame on channel 0',
    text: /^UNEXPECTED_FRAME - /,
    run: sendRaw(() => anyFrame(headerFrameType, 0, encodeContentHeaderFrame(0, 1, {}).subarray(7, -1))),
  },
  {
    id: 'unknown-class',
    difference: {
      reason: "RabbitMQ 3.10.8 exits its reader on an unknown method id (rabbit_framing's lookup_method_name) and drops the socket without connection.close; Warren answers with the close the spec asks for, 540 NOT_IMPLEMENTED (docs/amqp.md, codec errors)",
      warren: { kind: 'connection.close', replyCode: 540, classId: 999, methodId: 10, text: /^NOT_IMPLEMENTED - / },
    },
    steps: 'a method frame for class 999, method 10',
    run: sendRaw(() => rawMethodFrame(1, 999, 10, Buffer.alloc(0))),
  },
  {
    id: 'unknown-method',
    difference: {
      reason: "RabbitMQ 3.10.8 exits its reader on an unknown method id (rabbit_framing's lookup_method_name) and drops the socket without connection.close; Warren answers with the close the spec asks for, 540 NOT_IMPLEMENTED (docs/amqp.md, codec errors)",
      warren: { kind: 'connection.close', replyCode: 540, classId: 60, methodId: 999, text: /^NOT_IMPLEMENTED - / },
    },
    steps: 'a method frame for class 60 (basic), method 999',
    run: sendRaw(() => rawMethodFrame(1, 60, 999, Buffer.alloc(0))),
  },
  {
    id: 'method-frame-without-ids',
    steps: 'a method frame with a 2-byte payload (no method id)',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => encodeFrame(1, 1, Buffer.of(0, 50))),
  },
  {
    id: 'truncated-arguments',
    steps: "queue.declare whose payload ends inside the queue name (shortstr length 10, 3 bytes given)",
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => rawMethodFrame(1, 50, 10, Buffer.concat([Buffer.of(0, 0, 10), Buffer.from('abc')]))),
  },
  {
    id: 'trailing-bytes-after-arguments',
    steps: 'basic.qos with 3 extra bytes after its arguments',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => rawMethodFrame(1, 60, 10, Buffer.concat([u32(0), Buffer.of(0, 0, 0), Buffer.from('xyz')]))),
  },
  {
    id: 'truncated-field-table',
    steps: "queue.declare 'tbl-q' whose arguments table claims 100 bytes but the frame ends after 12",
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => rawMethodFrame(1, 50, 10, queueDeclareArgs('tbl-q', rawTable(longstrEntry('x-a', 'abc'), 100)))),
  },
  {
    id: 'truncated-field-value',
    difference: {
      reason: "RabbitMQ 3.10.8's field-table parser fails outside its decode error handling and the socket is dropped without connection.close; Warren answers with a close, using RabbitMQ's code for every other undecodable argument (501 'cannot decode', as truncated-field-table)",
      warren: { kind: 'connection.close', replyCode: 501, classId: 50, methodId: 10, text: /^FRAME_ERROR - / },
    },
    steps: "queue.declare 'tbl-q' whose table holds a longstr claiming 50 bytes inside a 12-byte table",
    run: sendRaw(() => rawMethodFrame(1, 50, 10, queueDeclareArgs('tbl-q', rawTable(longstrEntry('x-a', 'abc', 50))))),
  },
  {
    id: 'bad-field-type-octet',
    difference: {
      reason: "RabbitMQ 3.10.8's field-table parser fails outside its decode error handling and the socket is dropped without connection.close; Warren answers with a close, using RabbitMQ's code for every other undecodable argument (501 'cannot decode', as truncated-field-table)",
      warren: { kind: 'connection.close', replyCode: 501, classId: 50, methodId: 10, text: /^FRAME_ERROR - / },
    },
    steps: "queue.declare 'tbl-q' with an arguments entry of type 'Z'",
    run: sendRaw(() => rawMethodFrame(1, 50, 10, queueDeclareArgs('tbl-q', rawTable(Buffer.concat([shortstr('x-a'), Buffer.from('Z'), Buffer.of(1, 2, 3, 4)]))))),
  },
  {
    id: 'connection-open-twice',
    steps: "connection.open 'conformance' again on a running connection",
    text: /^CHANNEL_ERROR - unexpected method in connection state running$/,
    run: sendRaw(() => encodeMethodFrame(0, buildMethod('connection.open', { virtualHost: 'conformance' }))),
  },
  {
    id: 'connection-tune-ok-while-running',
    steps: 'connection.tune-ok again on a running connection',
    text: /^CHANNEL_ERROR - unexpected method in connection state running$/,
    run: sendRaw(() => encodeMethodFrame(0, buildMethod('connection.tune-ok', { channelMax: 0, frameMax: 131072, heartbeat: 0 }))),
  },
  {
    id: 'protocol-header-0-9-1-wrong-revision',
    steps: "protocol header 'AMQP' 0 0 9 2",
    run: (ctx) => headerExchange(ctx.port, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 2])),
  },
  {
    id: 'protocol-header-http',
    steps: "'GET / HTTP/1.1' instead of a protocol header",
    run: (ctx) => headerExchange(ctx.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
  },
  {
    id: 'protocol-header-amqp-1-0',
    steps: "protocol header 'AMQP' 0 1 0 0 (AMQP 1.0)",
    run: (ctx) => headerExchange(ctx.port, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0])),
  },
  {
    id: 'protocol-header-0-9',
    steps: "protocol header 'AMQP' 1 1 0 9 (AMQP 0-9)",
    difference: {
      reason: 'docs/amqp.md: the 0-9 header, which RabbitMQ also accepts (it starts a connection), is refused by the codec: Warren sends its 0-9-1 header back and closes',
      warren: { kind: 'protocol-header', received: '414d515000000901', closed: true },
    },
    run: (ctx) => headerExchange(ctx.port, Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9])),
  },
  {
    id: 'queue-name-not-utf8',
    difference: {
      reason: "both refuse it with 501; RabbitMQ's close names no method (0/0), Warren's names queue.declare, the method whose argument it was",
      warren: { kind: 'connection.close', replyCode: 501, classId: 50, methodId: 10, text: /^FRAME_ERROR - cannot decode queue.declare: shortstr is not valid UTF-8/ },
    },
    steps: 'queue.declare exclusive with the name bytes ff fe (not UTF-8)',
    text: /^FRAME_ERROR - /,
    run: sendRaw(() => rawMethodFrame(1, 50, 10, Buffer.concat([Buffer.of(0, 0, 2, 0xff, 0xfe, 0b100), u32(0)]))),
  },
];
