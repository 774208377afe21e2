/**
 * A hostile client beside a well-behaved one: random bytes, truncated and deep JSON, huge strings, a
 * wrong type in every field of every frame schema, frames before connect, double acks. The hostile
 * connection gets errors (or is closed, before login); the broker never crashes; the good client's
 * deliveries continue throughout and arrive complete and in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameSchemas } from '../../src/protocol/schemas.js';
import { prng } from '../helpers/prng.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, freshQueue, RawSocket, type Collector } from '../protocol/support.js';
import type { WarrenConnection } from '../../src/client/index.js';

let warren: RunningWarren;
let good: WarrenConnection;
let queue: string;
let deliveries: Collector;
let published = 0;

beforeAll(async () => {
  warren = await startWarren();
  good = await warren.connect();
  queue = await freshQueue(good);
  deliveries = await collect(good, { queue, noAck: true });
});
afterAll(async () => {
  closeRawSockets();
  await warren.stop();
});

/** The good client goes on: one more message published, and every one so far delivered in order. */
async function goodClientStillServed(): Promise<void> {
  published++;
  await good.publish({ routingKey: queue, body: `m${published}` });
  const got = await deliveries.waitFor(published);
  expect(got.map((m) => m.text())).toEqual(Array.from({ length: published }, (_, i) => `m${i + 1}`));
}

/** A value of the wrong JSON type for a field schema. */
function wrongValue(schema: Record<string, unknown>): unknown {
  const type = schema.type;
  if (schema.const !== undefined) return 42;
  if (Array.isArray(type)) return { not: 'a scalar' };
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
      return 'seven';
    case 'boolean':
      return 'yes';
    case 'object':
      return [1, 2, 3];
    default:
      return Symbol.for('unreachable');
  }
}

describe('fuzzing the WebSocket protocol', () => {
  it('random bytes, text and truncated JSON before connect: refused and closed, broker unharmed', async () => {
    const random = prng(7);
    for (let i = 0; i < 40; i++) {
      const raw = await RawSocket.open(warren.wsUrl);
      const length = 1 + Math.floor(random() * 200);
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
      if (i % 4 === 0) raw.sendBinary(bytes);
      else if (i % 4 === 1) raw.send(bytes.toString('latin1'));
      else if (i % 4 === 2) raw.send(JSON.stringify({ op: 'connect', username: 'guest', password: 'guest' }).slice(0, length % 50));
      else raw.send({ op: 'publish', routingKey: queue, body: 'before connect' });
      const closed = await raw.closed;
      expect(closed.code).not.toBe(1000);
    }
    await goodClientStillServed();
  });

  it('a wrong type in every field of every frame schema: an error frame each, the connection goes on', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    let cases = 0;
    for (const [op, schema] of Object.entries(frameSchemas)) {
      if (op === 'connect' || op === 'close') continue;
      const properties = schema.properties as Record<string, Record<string, unknown>>;
      for (const [field, fieldSchema] of Object.entries(properties)) {
        if (field === 'op' || field === 'id') continue;
        const value = wrongValue(fieldSchema);
        const reply = await raw.request({ op, [field]: value });
        expect(reply, `${op}.${field}`).toMatchObject({ op: 'error' });
        expect([502, 503, 406, 404]).toContain(reply.code);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(40);
    expect(raw.isOpen).toBe(true);
    await goodClientStillServed();
  });

  it('huge strings, deep JSON, unknown ops and garbage after connect: errors that stay small', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    const random = prng(11);
    const huge = 'z'.repeat(4 * 1024 * 1024);
    const frames = [
      JSON.stringify({ op: huge, id: 'a' }),
      JSON.stringify({ op: 'queue.declare', id: 'b', queue: huge }),
      JSON.stringify({ op: 'publish', id: 'c', routingKey: queue, body: 'x', properties: { [huge]: 1 } }),
      `{"op":"publish","id":"d","routingKey":"${queue}","body":"x","properties":{"headers":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
      `{"op":"queue.declare","id":"e","queue":"q","arguments":`,
      JSON.stringify({ op: 'publish', id: huge.slice(0, 100_000), routingKey: queue, body: 'x' }),
    ];
    for (const text of frames) raw.send(text);
    for (let i = 0; i < 30; i++) raw.send(Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))).toString('latin1'));
    const ping = await raw.request({ op: 'queue.declare', queue, passive: true });
    expect(ping).toMatchObject({ op: 'ok' });
    const errors = raw.frames.filter((f) => f.op === 'error');
    expect(errors.length).toBe(frames.length + 30);
    for (const error of errors) expect(JSON.stringify(error).length).toBeLessThan(1024);
    // Nothing reached the queue from all of that.
    expect(deliveries.messages.length).toBe(published);
    await goodClientStillServed();
  });

  it('double acks, unknown delivery tags and settling after close: errors, never a crash', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    const own = `fuzz-acks-${Date.now()}`;
    expect(await raw.request({ op: 'queue.declare', queue: own })).toMatchObject({ op: 'ok' });
    for (let i = 0; i < 3; i++) await raw.request({ op: 'publish', routingKey: own, body: `a${i}` });
    const got = await raw.request({ op: 'get', queue: own });
    const tag = (got.message as { deliveryTag: number }).deliveryTag;
    expect(await raw.request({ op: 'ack', deliveryTag: tag })).toMatchObject({ op: 'ok' });
    expect(await raw.request({ op: 'ack', deliveryTag: tag })).toMatchObject({ op: 'error', code: 406 });
    expect(await raw.request({ op: 'nack', deliveryTag: 999_999, multiple: true })).toMatchObject({ op: 'error', code: 406 });
    expect(await raw.request({ op: 'reject', deliveryTag: Number.MAX_SAFE_INTEGER })).toMatchObject({ op: 'error', code: 406 });
    raw.send({ op: 'close' });
    raw.send({ op: 'ack', deliveryTag: tag + 1 });
    await raw.closed;
    await goodClientStillServed();
  });
});
