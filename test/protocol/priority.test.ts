/**
 * Priority queues over the real WebSocket: `x-max-priority` on declare, `priority` on publish, and the
 * order consumers, gets and the REST peek see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { apiClient, array } from '../http/support.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { collect, drain, freshQueue, sync } from './support.js';

describe('priority queues over the wire', () => {
  let warren: RunningWarren;
  let conn: WarrenConnection;

  beforeAll(async () => {
    warren = await startWarren();
    conn = await warren.connect();
  });

  afterAll(async () => {
    await warren?.stop();
  });

  /** Publishes [body, priority] pairs to `queue`; an undefined priority sends none. */
  async function publishWith(queue: string, messages: ReadonlyArray<readonly [string, number | undefined]>): Promise<void> {
    for (const [body, priority] of messages) {
      const properties = priority === undefined ? {} : { priority };
      expect(await conn.publish({ routingKey: queue, body, properties })).toEqual({ routed: true });
    }
  }

  const mixed = [
    ['a1', 1],
    ['b5', 5],
    ['c-', undefined],
    ['d9', 9],
    ['e3', 3],
    ['f1', 1],
  ] as const;
  /** 9 is above the maximum (5): it counts as 5, after b5. No priority counts as 0. */
  const expected = ['b5', 'd9', 'e3', 'a1', 'f1', 'c-'];

  it('a consumer receives the ready messages highest priority first, FIFO within a level', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-priority': 5 } });
    await publishWith(queue, mixed);
    const c = await collect(conn, { queue, noAck: true });
    await c.waitFor(expected.length);
    expect(c.bodies()).toEqual(expected);
    await c.consumer.cancel();
  });

  it('get and the REST peek show the same order', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-priority': 5 } });
    await publishWith(queue, mixed);
    const api = apiClient(warren.server.app);
    const peeked = array((await api('POST', `/api/queues/%2F/${encodeURIComponent(queue)}/peek`, {})).body);
    expect(peeked.map((m) => m.payload)).toEqual(expected);
    expect(await drain(conn, queue)).toEqual(expected);
  });

  it('reorders only ready messages: what a consumer holds under its prefetch stays where it is', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-priority': 5 } });
    const c = await collect(conn, { queue, noAck: false, prefetch: 1 });
    await publishWith(queue, [
      ['low', 0],
      ['mid', 2],
      ['high', 4],
    ]);
    // 'low' went straight to the waiting consumer; the other two waited and were ordered.
    await c.waitFor(1);
    for (let i = 0; i < 3; i++) {
      await c.waitFor(i + 1);
      c.messages[i]?.ack();
      await sync(conn);
    }
    expect(c.bodies()).toEqual(['low', 'high', 'mid']);
    await c.consumer.cancel();
  });

  it('a requeued message goes back to its place within its level', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-max-priority': 3 } });
    await publishWith(queue, [
      ['x2', 2],
      ['y2', 2],
      ['z1', 1],
    ]);
    const first = await conn.get({ queue, noAck: false });
    expect(first?.text()).toBe('x2');
    await publishWith(queue, [['w3', 3]]);
    first?.nack({ requeue: true });
    await sync(conn);
    expect(await drain(conn, queue)).toEqual(['w3', 'x2', 'y2', 'z1']);
  });
});
