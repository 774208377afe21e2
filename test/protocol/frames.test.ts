/**
 * Frame handling: every schema violation is answered with an error frame (with the request's id, or a
 * `ref` naming the operation) and leaves the connection usable and the broker unchanged; replies come in
 * request order; the schema is served over HTTP.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { Headers, MessageProperties } from '../../src/broker/message.js';
import type {
  ClientFrame as SentClientFrame,
  ConnectFrame as SentConnectFrame,
  MessageProperties as SentProperties,
  PublishFrame as SentPublishFrame,
} from '../../src/client/frames.js';
import { FrameParser } from '../../src/protocol/frame-parser.js';
import type { ClientFrame, ClientFrames, ConnectFrame, FrameId, PublishFrame, Table, WireProperties } from '../../src/protocol/frames.js';
import { frameSchemas, type OpName } from '../../src/protocol/schemas.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, RawSocket, uniqueName, type Frame } from './support.js';

let warren: RunningWarren;

beforeAll(async () => {
  warren = await startWarren();
});

afterAll(async () => {
  closeRawSockets();
  await warren?.stop();
});

/** A request that must succeed: proves the connection is still usable. */
async function expectUsable(raw: RawSocket): Promise<void> {
  expect(await raw.request({ op: 'exchange.declare', exchange: 'amq.direct', passive: true })).toMatchObject({ op: 'ok' });
  expect(raw.isOpen).toBe(true);
}

describe('malformed frames', () => {
  let raw: RawSocket;

  beforeAll(async () => {
    raw = await RawSocket.connected(warren.wsUrl);
  });

  it.each([
    ['not JSON', '{"op": "qos", "prefetch": 1'],
    ['a JSON array', '[{"op":"qos","prefetch":1}]'],
    ['a JSON number', '42'],
    ['a JSON string', '"qos"'],
    ['JSON null', 'null'],
    ['an empty frame', ''],
  ])('answers %s with 502 SYNTAX_ERROR and no id', async (_what, text) => {
    raw.unread();
    raw.send(text);
    const error = await raw.next();
    expect(error).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(typeof error.message).toBe('string');
    expect(error).not.toHaveProperty('id');
    expect(error).not.toHaveProperty('ref');
    await expectUsable(raw);
  });

  it('answers a binary frame with 502 SYNTAX_ERROR', async () => {
    raw.unread();
    raw.sendBinary(new TextEncoder().encode('{"op":"qos","id":9,"prefetch":1}'));
    const error = await raw.next();
    expect(error).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(error).not.toHaveProperty('id');
    await expectUsable(raw);
  });

  it.each([
    ['a boolean', true],
    ['an object', { n: 1 }],
    ['an array', [1]],
    ['null', null],
  ])('answers an id that is %s with 502 and no id in the reply', async (_what, id) => {
    raw.unread();
    raw.send({ op: 'queue.declare', id, queue: uniqueName() });
    const error = await raw.next();
    expect(error).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(error).not.toHaveProperty('id');
    await expectUsable(raw);
  });

  it('answers a frame without op with 502, carrying its id', async () => {
    expect(await raw.request({ queue: 'x' })).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(await raw.request({ op: 7 })).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    await expectUsable(raw);
  });

  it('answers an unknown op with 503 COMMAND_INVALID', async () => {
    expect(await raw.request({ op: 'basic.publish' })).toMatchObject({ op: 'error', code: 503, reason: 'COMMAND_INVALID' });
    raw.unread();
    raw.send({ op: 'queue.frobnicate', queue: 'x' });
    expect(await raw.next()).toMatchObject({ op: 'error', ref: 'queue.frobnicate', code: 503, reason: 'COMMAND_INVALID' });
    await expectUsable(raw);
  });
});

/** Frames that violate the schema of an existing op: [what, frame, a word the message must contain]. */
const violations: Array<[string, Record<string, unknown>, string]> = [
  ['a missing required field', { op: 'qos' }, 'prefetch'],
  ['a field of the wrong type', { op: 'qos', prefetch: '2' }, '/prefetch'],
  ['a non-integer number', { op: 'qos', prefetch: 1.5 }, '/prefetch'],
  ['a negative prefetch', { op: 'qos', prefetch: -1 }, '/prefetch'],
  ['a prefetch above 65535', { op: 'qos', prefetch: 65536 }, '/prefetch'],
  ['an unknown field', { op: 'queue.declare', queue: 'q', colour: 'red' }, 'colour'],
  ['a boolean given as a string', { op: 'queue.declare', queue: 'q', durable: 'yes' }, '/durable'],
  ['a name longer than 255', { op: 'queue.declare', queue: 'q'.repeat(256) }, '/queue'],
  ['arguments that are an array', { op: 'queue.declare', queue: 'q', arguments: [] }, '/arguments'],
  ['a missing exchange name', { op: 'exchange.declare', type: 'direct' }, 'exchange'],
  ['a missing routingKey', { op: 'publish', body: 'b' }, 'routingKey'],
  ['a missing body', { op: 'publish', routingKey: 'q' }, 'body'],
  ['a body that is not a string', { op: 'publish', routingKey: 'q', body: 42 }, '/body'],
  ['an unknown encoding', { op: 'publish', routingKey: 'q', body: 'b', encoding: 'hex' }, '/encoding'],
  ['a body that is not base64', { op: 'publish', routingKey: 'q', body: 'not base64!', encoding: 'base64' }, 'base64'],
  ['an unknown property', { op: 'publish', routingKey: 'q', body: 'b', properties: { colour: 'red' } }, 'colour'],
  ['a priority above 255', { op: 'publish', routingKey: 'q', body: 'b', properties: { priority: 256 } }, '/properties/priority'],
  ['a deliveryMode of 3', { op: 'publish', routingKey: 'q', body: 'b', properties: { deliveryMode: 3 } }, '/properties/deliveryMode'],
  ['an expiration that is not milliseconds', { op: 'publish', routingKey: 'q', body: 'b', properties: { expiration: 'soon' } }, '/properties/expiration'],
  ['a numeric expiration', { op: 'publish', routingKey: 'q', body: 'b', properties: { expiration: 1000 } }, '/properties/expiration'],
  ['a negative timestamp', { op: 'publish', routingKey: 'q', body: 'b', properties: { timestamp: -1 } }, '/properties/timestamp'],
  ['headers that are not an object', { op: 'publish', routingKey: 'q', body: 'b', properties: { headers: 'h' } }, '/properties/headers'],
  ['persistent contradicting deliveryMode', { op: 'publish', routingKey: 'q', body: 'b', properties: { persistent: true, deliveryMode: 1 } }, 'persistent'],
  ['a consume queue that is a number', { op: 'consume', queue: 42 }, '/queue'],
  ['a negative delivery tag', { op: 'ack', deliveryTag: -1 }, '/deliveryTag'],
  ['a delivery tag given as a string', { op: 'ack', deliveryTag: '1' }, '/deliveryTag'],
  ['a requeue given as a number', { op: 'nack', deliveryTag: 1, requeue: 0 }, '/requeue'],
  ['a get without queue', { op: 'get' }, 'queue'],
  ['an unknown field on close', { op: 'close', now: true }, 'now'],
];

describe('schema violations', () => {
  let raw: RawSocket;
  let queue: string;

  beforeAll(async () => {
    raw = await RawSocket.connected(warren.wsUrl);
    queue = uniqueName();
    expect(await raw.request({ op: 'queue.declare', queue })).toMatchObject({ op: 'ok' });
  });

  /** The queue the invalid publishes would have reached, had they been accepted. */
  function target(frame: Record<string, unknown>): Record<string, unknown> {
    return frame.op === 'publish' && frame.routingKey === 'q' ? { ...frame, routingKey: queue } : frame;
  }

  it.each(violations)('answers %s with 502, the request id and the field, and stays usable', async (_what, frame, field) => {
    const error = await raw.request(target(frame));
    expect(error).toMatchObject({ op: 'error', code: 502, reason: 'SYNTAX_ERROR' });
    expect(error.message).toContain(field);
    await expectUsable(raw);
  });

  it.each(violations)('answers %s sent without id with an error naming the op', async (_what, frame) => {
    raw.unread();
    raw.send(target(frame));
    expect(await raw.next()).toMatchObject({ op: 'error', ref: frame.op, code: 502, reason: 'SYNTAX_ERROR' });
    await expectUsable(raw);
  });

  it('changed nothing: no invalid publish reached the queue, the connection is still open', async () => {
    expect(await raw.request({ op: 'queue.declare', queue, passive: true })).toMatchObject({ op: 'ok', messageCount: 0 });
    expect(raw.closeEvent).toBeUndefined();
    expect(raw.frames.some((f) => f.op === 'close')).toBe(false);
  });
});

describe('requests and replies', () => {
  it('replies in request order, one reply per id, none for id-less successes', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    const queue = uniqueName();
    raw.unread();
    raw.send({ op: 'queue.declare', id: 'a', queue });
    raw.send({ op: 'publish', routingKey: queue, body: 'no id' });
    raw.send({ op: 'queue.declare', id: 7, queue: 'amq.nope' });
    raw.send({ op: 'publish', id: 'b', routingKey: queue, body: 'with id' });
    raw.send({ op: 'qos', prefetch: 5 });
    raw.send({ op: 'queue.purge', id: 'c', queue });
    const replies: Frame[] = [];
    for (let i = 0; i < 4; i++) replies.push(await raw.next());
    expect(replies).toEqual([
      { op: 'ok', id: 'a', queue, messageCount: 0, consumerCount: 0 },
      expect.objectContaining({ op: 'error', id: 7, code: 403, reason: 'ACCESS_REFUSED' }),
      { op: 'ok', id: 'b', routed: true },
      { op: 'ok', id: 'c', messageCount: 2 },
    ]);
    await expectUsable(raw);
    expect(raw.frames.filter((f) => f.id === undefined)).toEqual([]);
    raw.close();
  });

  it('keeps string and integer ids exactly as sent', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    raw.unread();
    raw.send({ op: 'qos', id: 0, prefetch: 1 });
    raw.send({ op: 'qos', id: '', prefetch: 1 });
    raw.send({ op: 'qos', id: 'Ünïcødé id', prefetch: 1 });
    raw.send({ op: 'qos', id: Number.MAX_SAFE_INTEGER, prefetch: 1 });
    expect([await raw.next(), await raw.next(), await raw.next(), await raw.next()]).toEqual([
      { op: 'ok', id: 0 },
      { op: 'ok', id: '' },
      { op: 'ok', id: 'Ünïcødé id' },
      { op: 'ok', id: Number.MAX_SAFE_INTEGER },
    ]);
    raw.close();
  });
});

/** The smallest valid frame of each op; the parser fills in the rest from the schema's defaults. */
const minimalFrames: Record<OpName, Record<string, unknown>> = {
  connect: { username: 'u', password: 'p' },
  close: {},
  'update-token': { token: 't' },
  'exchange.declare': { exchange: 'x' },
  'exchange.delete': { exchange: 'x' },
  'exchange.bind': { destination: 'd', source: 's' },
  'exchange.unbind': { destination: 'd', source: 's' },
  'queue.declare': {},
  'queue.bind': { queue: 'q', exchange: 'x' },
  'queue.unbind': { queue: 'q', exchange: 'x' },
  'queue.purge': { queue: 'q' },
  'queue.delete': { queue: 'q' },
  publish: { routingKey: 'k', body: 'b' },
  qos: { prefetch: 1 },
  consume: { queue: 'q' },
  cancel: { consumerTag: 't' },
  ack: { deliveryTag: 1 },
  nack: { deliveryTag: 1 },
  reject: { deliveryTag: 1 },
  recover: {},
  get: { queue: 'q' },
};

describe('the frame parser', () => {
  const parser = new FrameParser();
  const outcome = (frame: Record<string, unknown>): unknown => {
    const parsed = parser.parse(JSON.stringify(frame));
    if (parsed.ok) return parsed.frame;
    const { error, id, op } = parsed;
    return { code: error.code, reason: error.reason, message: error.message, id, op };
  };

  // The snapshot was taken before the frame types were derived from the schemas: same defaults, same words.
  it('fills in the same defaults and reports violations in the same words', async () => {
    const results = {
      minimal: Object.fromEntries(Object.entries(minimalFrames).map(([op, fields]) => [op, outcome({ op, id: 1, ...fields })])),
      violations: Object.fromEntries(violations.map(([what, frame]) => [what, outcome({ id: 1, ...frame })])),
    };
    await expect(`${JSON.stringify(results, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/frame-parser.json');
  });
});

describe('frame types derived from the schemas', () => {
  it('give the server every defaulted field, present', () => {
    expectTypeOf<ConnectFrame['vhost']>().toEqualTypeOf<string>();
    expectTypeOf<ConnectFrame['heartbeat']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ClientFrames['queue.declare']['arguments']>().toEqualTypeOf<Table>();
    expectTypeOf<PublishFrame['encoding']>().toEqualTypeOf<'utf8' | 'base64'>();
    expectTypeOf<PublishFrame['properties']>().toEqualTypeOf<WireProperties>();
    expectTypeOf<ClientFrames['nack']['requeue']>().toEqualTypeOf<boolean>();
    expectTypeOf<ClientFrame['op']>().toEqualTypeOf<OpName>();
    expectTypeOf<FrameId>().toEqualTypeOf<string | number>();
  });

  it('let the client leave defaulted fields out', () => {
    expectTypeOf<SentConnectFrame['vhost']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SentPublishFrame['properties']>().toEqualTypeOf<SentProperties | undefined>();
    expectTypeOf<SentClientFrame['op']>().toEqualTypeOf<OpName>();
    // What the server receives is something the client could have sent.
    expectTypeOf<ClientFrame>().toExtend<SentClientFrame>();
  });

  it('share the message properties: the broker has AMQP`s, the wire adds persistent', () => {
    expectTypeOf<MessageProperties['deliveryMode']>().toEqualTypeOf<1 | 2 | undefined>();
    expectTypeOf<MessageProperties['headers']>().toEqualTypeOf<Headers | undefined>();
    expectTypeOf<MessageProperties>().not.toHaveProperty('persistent');
    expectTypeOf<WireProperties['persistent']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Omit<WireProperties, 'persistent'>>().toEqualTypeOf<MessageProperties>();
    expectTypeOf<keyof SentProperties>().toEqualTypeOf<keyof WireProperties>();
  });
});

describe('GET /api/protocol/schema', () => {
  const ops = [
    'connect',
    'close',
    'update-token',
    'exchange.declare',
    'exchange.delete',
    'exchange.bind',
    'exchange.unbind',
    'queue.declare',
    'queue.bind',
    'queue.unbind',
    'queue.purge',
    'queue.delete',
    'publish',
    'qos',
    'consume',
    'cancel',
    'ack',
    'nack',
    'reject',
    'recover',
    'get',
  ];

  it('serves a JSON Schema document with one definition per op', async () => {
    const response = await fetch(`${warren.url}/api/protocol/schema`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const document = (await response.json()) as {
      $schema?: string;
      definitions: Record<string, { properties?: { op?: { const?: string } }; required?: string[] }>;
      oneOf: Array<{ $ref: string }>;
    };
    expect(document.$schema).toMatch(/json-schema\.org/);
    expect(Object.keys(document.definitions).sort()).toEqual([...ops].sort());
    for (const op of ops) {
      expect(document.definitions[op]?.properties?.op?.const).toBe(op);
      expect(document.definitions[op]?.required).toContain('op');
    }
    expect(document.oneOf.map((r) => r.$ref).sort()).toEqual(ops.map((op) => `#/definitions/${op}`).sort());
    // The served document is the one the server validates with.
    expect(document.definitions).toEqual(JSON.parse(JSON.stringify(frameSchemas)));
  });

  it('serves the same document, byte for byte, as clients have been given', async () => {
    // Frame types are derived from these schemas; deriving them must not change what clients download.
    // An intended protocol change updates the snapshot (vitest -u) and docs/protocol.md together.
    const text = await (await fetch(`${warren.url}/api/protocol/schema`)).text();
    const document: unknown = JSON.parse(text);
    // Served compact, so equal indented forms (key order included) mean equal bytes; indented diffs read better.
    expect(text).toBe(JSON.stringify(document));
    await expect(`${JSON.stringify(document, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/protocol-schema.json');
  });
});
