/**
 * Deeply nested JSON from a client: refused at the edge with a clear error, so nothing stored can later
 * break a delivery, a listing or the definitions log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRawSockets, collect, freshQueue, RawSocket, uniqueName } from '../protocol/support.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren;
beforeAll(async () => {
  warren = await startWarren();
});
afterAll(async () => {
  closeRawSockets();
  await warren.stop();
});

/** `{"a":{"a":…}}` nested `depth` levels, built as text (JSON.stringify would overflow first). */
function deepObjectText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };

describe('deep nesting over the WebSocket', () => {
  it('a publish whose headers nest 10,000 levels is refused, and the queue goes on delivering', async () => {
    const conn = await warren.connect();
    const queue = await freshQueue(conn);
    const raw = await RawSocket.connected(warren.wsUrl);
    raw.send(`{"op":"publish","id":"deep","routingKey":${JSON.stringify(queue)},"body":"poison","properties":{"headers":${deepObjectText(10_000)}}}`);
    const reply = await raw.waitFor((f) => f.id === 'deep');
    expect(reply).toMatchObject({ op: 'error', code: 502, message: expect.stringMatching(/nests deeper than 32 levels/) });
    // The connection that sent it is still usable, and nothing reached the queue.
    expect(await raw.request({ op: 'queue.declare', queue, passive: true })).toMatchObject({ op: 'ok', messageCount: 0 });
    await conn.publish({ routingKey: queue, body: 'before' });
    const consumer = await collect(conn, { queue });
    await conn.publish({ routingKey: queue, body: 'after' });
    expect((await consumer.waitFor(2)).map((m) => m.text())).toEqual(['before', 'after']);
    const peek = await fetch(`${warren.url}/api/queues/%2F/${queue}/peek`, { method: 'POST', headers: auth, body: '{}' });
    expect(peek.status).toBe(200);
  });

  it('deep arguments, client properties or consumer arguments are refused; durable declares everywhere still answer', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    const queue = uniqueName('durable');
    raw.send(`{"op":"queue.declare","id":"dq","queue":"${queue}","durable":true,"arguments":{"x":${deepObjectText(10_000)}}}`);
    expect(await raw.waitFor((f) => f.id === 'dq')).toMatchObject({ op: 'error', code: 502 });
    raw.send(`{"op":"exchange.declare","id":"dx","exchange":"${queue}.x","type":"direct","durable":true,"arguments":{"x":${deepObjectText(6_000)}}}`);
    expect(await raw.waitFor((f) => f.id === 'dx')).toMatchObject({ op: 'error', code: 502 });
    raw.send(`{"op":"consume","id":"dc","queue":"${queue}","arguments":{"x":${deepObjectText(6_000)}}}`);
    expect(await raw.waitFor((f) => f.id === 'dc')).toMatchObject({ op: 'error', code: 502 });

    const refused = await RawSocket.open(warren.wsUrl);
    refused.send(`{"op":"connect","id":"c","username":"guest","password":"guest","clientProperties":{"x":${deepObjectText(6_000)}}}`);
    expect(await refused.waitFor((f) => f.id === 'c')).toMatchObject({ op: 'error', code: 502 });
    await refused.closed;

    // Another connection, another vhost's worth of work: durable declares are answered as ever.
    const other = await warren.connect();
    await expect(other.queueDeclare({ queue: uniqueName('later'), durable: true })).resolves.toMatchObject({ messageCount: 0 });
    await expect(other.exchangeDeclare({ exchange: uniqueName('later-x'), type: 'topic', durable: true })).resolves.toBeUndefined();
    for (const path of ['queues', 'definitions', 'connections', 'consumers', 'exchanges', 'channels', 'overview']) {
      const response = await fetch(`${warren.url}/api/${path}`, { headers: auth });
      expect(response.status, path).toBe(200);
    }
  });
});

describe('deep nesting over REST', () => {
  it.each([
    ['PUT', '/api/queues/%2F/deep-rest', `{"durable":true,"arguments":{"x":${deepObjectText(10_000)}}}`],
    ['PUT', '/api/exchanges/%2F/deep-rest-x', `{"type":"direct","arguments":{"x":${deepObjectText(100)}}}`],
    ['POST', '/api/exchanges/%2F/amq.default/publish', `{"routing_key":"q","payload":"p","payload_encoding":"string","properties":{"headers":${deepObjectText(10_000)}}}`],
    ['POST', '/api/definitions', `{"queues":[{"name":"deep-import","vhost":"/","arguments":{"x":${deepObjectText(100)}}}]}`],
  ])('%s %s: 400 with a JSON reason', async (method, path, body) => {
    const response = await fetch(`${warren.url}${path}`, { method, headers: auth, body });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'bad_request', reason: 'body nests deeper than 32 levels' });
  });
});
