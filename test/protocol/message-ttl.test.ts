/**
 * Message TTL over the real WebSocket: `x-message-ttl` on declare, `expiration` on publish, the
 * dead-lettered copy a consumer receives, and the REST publish refusing an invalid `expiration`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { apiClient, array } from '../http/support.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { collect, freshQueue, readyCount, sync, uniqueName } from './support.js';

describe('message TTL over the wire', () => {
  let warren: RunningWarren;
  let conn: WarrenConnection;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    warren = await startWarren({}, { clock });
    conn = await warren.connect();
  });

  afterAll(async () => {
    await warren?.stop();
  });

  it('dead-letters an expired message from the middle of the queue, with original-expiration', async () => {
    const dlx = uniqueName('dlx');
    await conn.exchangeDeclare({ exchange: dlx, type: 'fanout' });
    const dead = await freshQueue(conn, { prefix: 'dead' });
    await conn.queueBind({ queue: dead, exchange: dlx, routingKey: '' });
    const queue = await freshQueue(conn, { arguments: { 'x-message-ttl': 60_000, 'x-dead-letter-exchange': dlx } });
    await conn.publish({ routingKey: queue, body: 'head' });
    await conn.publish({ routingKey: queue, body: 'short', properties: { expiration: '100' } });
    await conn.publish({ routingKey: queue, body: 'tail' });
    await sync(conn);
    const deaths = await collect(conn, { queue: dead, noAck: true });
    clock.advance(100);
    await deaths.waitFor(1);
    const [copy] = deaths.messages;
    expect(copy?.text()).toBe('short');
    expect(copy?.properties.expiration).toBeUndefined();
    expect((copy?.properties.headers?.['x-death'] as Array<Record<string, unknown>>)[0]).toMatchObject({
      reason: 'expired',
      queue,
      'original-expiration': '100',
    });
    expect(await readyCount(conn, queue)).toBe(2);
    const api = apiClient(warren.server.app);
    const peeked = array((await api('POST', `/api/queues/%2F/${encodeURIComponent(queue)}/peek`, {})).body);
    expect(peeked.map((m) => m.payload)).toEqual(['head', 'tail']);
    clock.advance(60_000);
    await deaths.waitFor(3);
    expect(deaths.bodies()).toEqual(['short', 'head', 'tail']);
    expect(await conn.get({ queue, noAck: true })).toBeNull();
  });

  it('refuses an invalid expiration on the REST publish with 400', async () => {
    const queue = await freshQueue(conn);
    const api = apiClient(warren.server.app);
    for (const expiration of ['-1', '1.5', 'soon', '']) {
      const res = await api('POST', '/api/exchanges/%2F/amq.default/publish', {
        body: { routing_key: queue, payload: 'x', payload_encoding: 'string', properties: { expiration } },
      });
      expect(res.status).toBe(400);
    }
    const ok = await api('POST', '/api/exchanges/%2F/amq.default/publish', {
      body: { routing_key: queue, payload: 'x', payload_encoding: 'string', properties: { expiration: '60000' } },
    });
    expect(ok.status).toBe(200);
  });
});
