/**
 * A durable `x-expires` queue across restarts: its countdown starts again at each start (RabbitMQ's
 * leases restart with the node), and once it expires it stays deleted, its stored messages with it.
 */
import { describe, expect, it } from 'vitest';
import { useDataDirs } from '../helpers/data-dirs.js';
import { FakeClock } from '../helpers/fake-clock.js';

const { tempDir, start, stop } = useDataDirs('warren-expiry-');

const EXPIRES = 60_000;

describe('a durable queue with x-expires', () => {
  it('survives a restart, expires a full period after it, and neither it nor its messages come back', async () => {
    const dataDir = tempDir();
    const before = new FakeClock();
    let warren = await start(dataDir, {}, { clock: before });
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'lease', durable: true, arguments: { 'x-expires': EXPIRES } });
    for (const body of ['one', 'two']) await conn.publish({ routingKey: 'lease', body, properties: { persistent: true } });
    before.advance(EXPIRES - 1);
    await stop(warren);

    // Much later by the wall clock: a lease kept across the restart would run out at once.
    const after = new FakeClock(before.now() + 10 * EXPIRES);
    warren = await start(dataDir, {}, { clock: after });
    const queues = warren.server.broker.vhost('/').queues;
    expect(queues.get('lease')?.messageCount).toBe(2);
    after.advance(EXPIRES - 1);
    expect(queues.has('lease')).toBe(true);
    after.advance(1);
    expect(queues.has('lease')).toBe(false);
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir, {}, { clock: new FakeClock(after.now()) });
    // Neither from the definitions nor as a queue declared anew to hold stored messages.
    expect(warren.server.broker.vhost('/').queues.has('lease')).toBe(false);
    conn = await warren.connect();
    await expect(conn.queueDeclare({ queue: 'lease', passive: true })).rejects.toMatchObject({ code: 404 });
  });
});
