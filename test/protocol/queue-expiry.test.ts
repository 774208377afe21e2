/**
 * `x-expires` over the wire, on a real server whose clock is a fake one: a queue left unused goes, a
 * queue used by a get, a declare or a consumer stays. Nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { collect, freshQueue, publishAll, sync } from './support.js';

const EXPIRES = 60_000;

let clock: FakeClock;
let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  clock = new FakeClock();
  warren = await startWarren({}, { clock });
  conn = await warren.connect();
});

afterAll(async () => {
  await warren?.stop();
});

const expiring = (): Promise<string> => freshQueue(conn, { arguments: { 'x-expires': EXPIRES }, prefix: 'exp' });

async function gone(queue: string): Promise<boolean> {
  try {
    await conn.queueDeclare({ queue, passive: true });
    return false;
  } catch (error) {
    expect(error).toMatchObject({ code: 404, reason: 'NOT_FOUND' });
    return true;
  }
}

async function restStatus(queue: string): Promise<number> {
  const response = await fetch(`${warren.url}/api/queues/%2F/${encodeURIComponent(queue)}`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  return response.status;
}

describe('x-expires over the WebSocket', () => {
  it('deletes an unused queue with its messages; the REST API no longer has it', async () => {
    const queue = await expiring();
    await publishAll(conn, queue, ['a', 'b']);
    expect(await restStatus(queue)).toBe(200);
    clock.advance(EXPIRES);
    expect(await gone(queue)).toBe(true);
    expect(await restStatus(queue)).toBe(404);
    expect(await conn.publish({ routingKey: queue, body: 'late' })).toEqual({ routed: false });
  });

  it('keeps a queue used by a get, a redeclare or a passive declare', async () => {
    const byGet = await expiring();
    const byRedeclare = await expiring();
    const byPassive = await expiring();
    const unused = await expiring();
    clock.advance(EXPIRES - 1_000);
    expect(await conn.get({ queue: byGet, noAck: true })).toBeNull();
    await conn.queueDeclare({ queue: byRedeclare, arguments: { 'x-expires': EXPIRES } });
    await conn.queueDeclare({ queue: byPassive, passive: true });
    clock.advance(1_000);
    expect(await gone(unused)).toBe(true);
    for (const queue of [byGet, byRedeclare, byPassive]) expect(await gone(queue)).toBe(false);
  });

  it('keeps a queue with a consumer, and counts down from when the consumer leaves', async () => {
    const queue = await expiring();
    const consumer = await collect(conn, { queue, noAck: true });
    clock.advance(3 * EXPIRES);
    await publishAll(conn, queue, ['still here']);
    await consumer.waitFor(1);
    await consumer.consumer.cancel();
    await sync(conn);
    clock.advance(EXPIRES - 1);
    // Looked at through the management API, which is no use of the queue (a passive declare would be).
    expect(await restStatus(queue)).toBe(200);
    clock.advance(1);
    expect(await restStatus(queue)).toBe(404);
  });

  it('expires an exclusive queue while its connection is open', async () => {
    const owner = await warren.connect();
    const { queue } = await owner.queueDeclare({ exclusive: true, arguments: { 'x-expires': EXPIRES } });
    clock.advance(EXPIRES);
    await expect(owner.queueDeclare({ queue, passive: true })).rejects.toMatchObject({ code: 404 });
    await owner.close();
  });
});
