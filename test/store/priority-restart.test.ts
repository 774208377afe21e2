/**
 * A durable priority queue across restarts: recovery reads each message's priority from its record
 * without decoding the content, and rebuilds the same order. A data dir written before priorities were
 * acted on still recovers, its messages at priority 0 unless their properties began with the priority.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { prng } from '../helpers/prng.js';
import { collect, sync } from '../protocol/support.js';

const { tempDir, start, stop } = useDataDirs('warren-priority-');

/** What a consumer receives when it drains `queue`, in order. */
async function consumeAll(conn: WarrenConnection, queue: string, count: number): Promise<string[]> {
  const c = await collect(conn, { queue, noAck: true });
  await c.waitFor(count, 20_000);
  await c.consumer.cancel();
  return c.bodies();
}

describe('a durable priority queue', () => {
  it('comes back after a restart in the same order, a redelivered message in its place', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'prio', durable: true, arguments: { 'x-max-priority': 5 } });
    // Past the in-memory window, so deep messages are released and read back, before and after.
    const random = prng(3);
    const count = 3000;
    for (let i = 0; i < count; i++) {
      const roll = Math.floor(random() * 8); // 6 and 7 are above the maximum, or no priority at all
      const properties = roll === 7 ? { persistent: true } : { persistent: true, priority: roll };
      void conn.publish({ routingKey: 'prio', body: `m${i}`, properties });
    }
    await sync(conn);
    // One held, unacked, at the restart: it comes back flagged redelivered, in its place.
    const held = await conn.get({ queue: 'prio', noAck: false });
    expect(held).toBeDefined();
    const queue = warren.server.broker.vhost('/').queues.get('prio');
    const ready = (await queue?.peekLoaded(0, count)) ?? [];
    const before = [held?.text() as string, ...ready.map((entry) => new TextDecoder().decode(entry.message.body))];
    expect(before).toHaveLength(count);
    const levels = ready.map((entry) => Math.min(entry.message.priority, 5));
    expect(levels).toEqual([...levels].sort((a, b) => b - a));
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    expect((await conn.queueDeclare({ queue: 'prio', passive: true })).messageCount).toBe(count);
    const first = await conn.get({ queue: 'prio', noAck: true });
    expect(first?.redelivered).toBe(true);
    const after = [first?.text() as string, ...(await consumeAll(conn, 'prio', count - 1))];
    expect(after).toEqual(before);
  });

  it('recovers a data dir written before priorities were acted on', async () => {
    const dataDir = tempDir();
    cpSync(join(import.meta.dirname, '../fixtures/data-dir-before-priority'), dataDir, { recursive: true });
    const warren = await start(dataDir);
    const conn = await warren.connect();
    // Written by the previous Warren: a {"deliveryMode":2,"priority":3}, b {"priority":4,"deliveryMode":2},
    // c {"deliveryMode":2}, d {"deliveryMode":2,"priority":5}. Only b's record starts with its priority.
    const messages = await Promise.all([1, 2, 3, 4].map(() => conn.get({ queue: 'prio', noAck: true })));
    expect(messages.map((m) => m?.text())).toEqual(['b', 'a', 'c', 'd']);
    expect(messages.map((m) => m?.properties.priority)).toEqual([4, 3, undefined, 5]);
    // New messages on the old data dir are ordered by priority.
    for (const [body, priority] of [
      ['low', 1],
      ['high', 5],
    ] as const)
      await conn.publish({ routingKey: 'prio', body, properties: { persistent: true, priority } });
    expect((await conn.get({ queue: 'prio', noAck: true }))?.text()).toBe('high');
  });
});
