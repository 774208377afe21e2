// A message crosses between AMQP 0-9-1 and Warren's JSON WebSocket protocol with its properties and
// headers intact. The AMQP ↔ AMQP cases run against RabbitMQ too, which checks the fixtures themselves;
// the JSON cases need Warren. Expected values live in cross-protocol-fixtures.ts.
//
// Header key order is not compared (tables become objects): RabbitMQ's management API sorts keys, and
// docs/protocol.md says a JSON object lists integer-like keys first.
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AMQP_HEADERS,
  AMQP_PROPERTIES,
  EXPECTED_AMQP_HEADERS,
  EXPECTED_AMQP_PROPERTIES,
  EXPECTED_JSON_HEADERS,
  EXPECTED_JSON_PROPERTIES,
  JSON_PROPERTIES,
  amqplibValue,
  taggedTable,
  type Tagged,
} from './cross-protocol-fixtures.js';
import { amqpTarget, againstRabbitMQ, uniqueName, type AmqpTarget } from './target.js';
import { sleep } from './wait.js';
import { WireClient, type WireMessage } from './wire-client.js';
import type { ReceivedMessage, WarrenConnection } from '../../../../src/client/index.js';
import type { BasicProperties } from '../../../../src/protocol/amqp/index.js';

let target: AmqpTarget;
const wires: WireClient[] = [];

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await Promise.all(wires.map((w) => w.close().catch(() => undefined)));
  await target?.stop();
});

async function wire(): Promise<WireClient> {
  const w = await WireClient.open(target.url);
  wires.push(w);
  return w;
}

/** Gets one message, retrying briefly: a publish has no reply, so it may not be enqueued yet. */
async function getOne(w: WireClient, queue: string): Promise<WireMessage> {
  for (let i = 0; i < 50; i++) {
    const m = await w.get(queue);
    if (m) return m;
    await sleep(10);
  }
  throw new Error(`no message arrived in ${queue}`);
}

function withoutHeaders(p: BasicProperties): Omit<BasicProperties, 'headers'> {
  const { headers: _headers, ...rest } = p;
  return rest;
}

/** RabbitMQ 3.10.8 hands cluster-id to consumers, and so does Warren on a first delivery (docs/protocol.md). */
function expectedRoundTripProperties(): Omit<BasicProperties, 'headers'> {
  return withoutHeaders(AMQP_PROPERTIES);
}

/**
 * An AMQP consumer gets back exactly the wire types an AMQP publisher sent, as from RabbitMQ: Warren
 * reuses the publisher's content header on a first delivery. Only a message that went through JSON
 * (published over JSON, or re-encoded) has its widths collapsed (`afterWarren`, docs/protocol.md).
 */
function expectedRoundTripHeaders(): Record<string, Tagged> {
  return taggedTable(AMQP_HEADERS);
}

function amqplibHeaders(): Record<string, unknown> {
  return Object.fromEntries([...AMQP_HEADERS].map(([k, v]) => [k, amqplibValue(v)]));
}

describe('AMQP → AMQP: every basic property and header type survives the broker', () => {
  it('published and fetched raw: all 14 properties, every field type with its exact wire type', async () => {
    const w = await wire();
    const queue = await w.declareQueue('');
    w.publish('', queue, AMQP_PROPERTIES, Buffer.from('{"ok":true}'));
    const m = await getOne(w, queue);
    expect(m.body.toString()).toBe('{"ok":true}');
    expect.soft(withoutHeaders(m.properties)).toEqual(expectedRoundTripProperties());
    expect.soft(taggedTable(m.properties.headers)).toEqual(expectedRoundTripHeaders());
  });

  it('published by amqplib with pinned types: the same wire types arrive', async () => {
    const w = await wire();
    const queue = await w.declareQueue('');
    const conn = await amqplib.connect(target.url);
    try {
      const ch = await conn.createConfirmChannel();
      const { clusterId: _c, timestamp, ...props } = AMQP_PROPERTIES;
      await new Promise<void>((resolve, reject) =>
        ch.publish('', queue, Buffer.from('x'), { ...props, timestamp: Number(timestamp), headers: amqplibHeaders() }, (err) => (err ? reject(new Error('nacked')) : resolve())),
      );
    } finally {
      await conn.close();
    }
    const m = await getOne(w, queue);
    const { clusterId: _c, ...expected } = expectedRoundTripProperties();
    expect.soft(withoutHeaders(m.properties)).toEqual(expected);
    expect.soft(taggedTable(m.properties.headers)).toEqual(expectedRoundTripHeaders());
  });
});

describe.skipIf(againstRabbitMQ)("AMQP ↔ Warren's JSON WebSocket protocol", () => {
  async function jsonQueue() {
    const warren = target.warren;
    if (!warren) throw new Error('needs Warren');
    const json = await warren.connect();
    const { queue } = await json.queueDeclare({ queue: uniqueName('cross'), autoDelete: false });
    return { json, queue };
  }

  async function jsonGetOne(json: WarrenConnection, queue: string): Promise<ReceivedMessage> {
    for (let i = 0; i < 50; i++) {
      const m = await json.get({ queue, noAck: true });
      if (m) return m;
      await sleep(10);
    }
    throw new Error(`no message arrived in ${queue}`);
  }

  /** Soft per-field checks: one run names every field the mapping gets wrong, not just the first. */
  function expectFields(actual: object | undefined, expected: object, what: string): void {
    const got = new Map(Object.entries(actual ?? {}));
    for (const [key, value] of Object.entries(expected)) expect.soft(got.get(key), `${what} ${key}`).toEqual(value);
    const extra = [...got.keys()].filter((k) => !(k in expected));
    expect.soft(extra, `${what}: fields not expected`).toEqual([]);
  }

  it('published over AMQP with all 14 properties, consumed over JSON', async () => {
    const { json, queue } = await jsonQueue();
    const w = await wire();
    w.publish('', queue, AMQP_PROPERTIES, Buffer.from('{"ok":true}'));
    const m = await jsonGetOne(json, queue);
    expect(m.text()).toBe('{"ok":true}');
    const { headers, ...props } = m.properties;
    expectFields(props, EXPECTED_JSON_PROPERTIES, 'property');
    expectFields(headers, EXPECTED_JSON_HEADERS, 'header');
    await json.queueDelete({ queue });
  });

  it('published by amqplib, consumed over JSON: the same JSON', async () => {
    const { json, queue } = await jsonQueue();
    const conn = await amqplib.connect(target.url);
    try {
      const ch = await conn.createConfirmChannel();
      const { clusterId: _c, timestamp, ...props } = AMQP_PROPERTIES;
      ch.publish('', queue, Buffer.from('from amqplib'), { ...props, timestamp: Number(timestamp), headers: amqplibHeaders() });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const m = await json.get({ queue, noAck: true });
    expect(m?.text()).toBe('from amqplib');
    const { headers, ...props } = m?.properties ?? {};
    const { clusterId: _c, ...expectedProps } = EXPECTED_JSON_PROPERTIES;
    expectFields(props, expectedProps, 'property');
    expectFields(headers, EXPECTED_JSON_HEADERS, 'header');
    await json.queueDelete({ queue });
  });

  it('published over JSON, consumed over AMQP: raw wire types, and as amqplib sees them', async () => {
    const { json, queue } = await jsonQueue();
    const body = 'from json ✓';
    expect(await json.publish({ routingKey: queue, body, properties: JSON_PROPERTIES })).toMatchObject({ routed: true });
    expect(await json.publish({ routingKey: queue, body, properties: JSON_PROPERTIES })).toMatchObject({ routed: true });

    const m = await getOne(await wire(), queue);
    expect(m.body.toString()).toBe(body);
    expectFields(withoutHeaders(m.properties), EXPECTED_AMQP_PROPERTIES, 'property');
    expectFields(taggedTable(m.properties.headers), taggedTable(EXPECTED_AMQP_HEADERS), 'header');

    const conn = await amqplib.connect(target.url);
    try {
      const ch = await conn.createChannel();
      const got = await ch.get(queue, { noAck: true });
      expect(got && got.content.toString()).toBe(body);
      if (!got) return;
      const { headers, ...amqplibProps } = got.properties;
      expect.soft(amqplibProps).toMatchObject({ ...EXPECTED_AMQP_PROPERTIES, timestamp: 1700000002 });
      expect.soft(headers).toEqual({ ...JSON_HEADERS_AS_AMQPLIB });
    } finally {
      await conn.close();
    }
    await json.queueDelete({ queue });
  });
});

/** amqplib decodes every integer width and float alike into numbers, so JSON_HEADERS come back as sent. */
const JSON_HEADERS_AS_AMQPLIB = JSON_PROPERTIES.headers;
