/**
 * Message TTL across restarts: recovery knows each message's expiry from its record (the publish time,
 * the queue's TTL, its own `expiration` read from the start of the properties without decoding them).
 * What expired while the broker was down is dead-lettered at start; the rest keeps its remaining time.
 */
import { describe, expect, it } from 'vitest';
import { useDataDirs } from '../helpers/data-dirs.js';
import { FakeClock } from '../helpers/fake-clock.js';

const { tempDir, start, stop } = useDataDirs('warren-ttl-');

const MINUTE = 60_000;

describe('message TTL across a restart', () => {
  it('dead-letters at start what expired while down; the others keep their remaining time', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir, {}, { clock: new FakeClock(Date.now()) });
    const conn = await warren.connect();
    await conn.exchangeDeclare({ exchange: 'dlx', type: 'fanout', durable: true });
    await conn.queueDeclare({ queue: 'dead', durable: true });
    await conn.queueBind({ queue: 'dead', exchange: 'dlx', routingKey: '' });
    await conn.queueDeclare({ queue: 'q', durable: true, arguments: { 'x-message-ttl': 10 * MINUTE, 'x-dead-letter-exchange': 'dlx' } });
    const published = Date.now();
    await conn.publish({ routingKey: 'q', body: 'own-short', properties: { persistent: true, expiration: '1000' } });
    await conn.publish({ routingKey: 'q', body: 'prio-own', properties: { persistent: true, priority: 3, expiration: String(2 * MINUTE) } });
    await conn.publish({ routingKey: 'q', body: 'queue-ttl', properties: { persistent: true } });
    await warren.server.durable.synced();
    await stop(warren);

    // A minute later: only the first has expired meanwhile.
    const clock = new FakeClock(published + MINUTE);
    warren = await start(dataDir, {}, { clock });
    const vhost = warren.server.broker.vhost('/');
    const q = vhost.queues.get('q');
    const dead = vhost.queues.get('dead');
    clock.advance(0);
    expect(q?.messageCount).toBe(2);
    const deadBodies = async (): Promise<string[]> =>
      ((await dead?.peekLoaded(0, 10)) ?? []).map((entry) => new TextDecoder().decode(entry.message.body));
    await expect.poll(deadBodies).toEqual(['own-short']);
    const [first] = (await dead?.peekLoaded(0, 1)) ?? [];
    expect((first?.message.properties.headers?.['x-death'] as Array<Record<string, unknown>>)[0]).toMatchObject({
      reason: 'expired',
      'original-expiration': '1000',
    });

    clock.advance(MINUTE + 1_000);
    await expect.poll(deadBodies).toEqual(['own-short', 'prio-own']);
    clock.advance(8 * MINUTE);
    await expect.poll(deadBodies).toEqual(['own-short', 'prio-own', 'queue-ttl']);
    expect(q?.messageCount).toBe(0);
    await warren.server.durable.synced();
    await stop(warren);
  });
});
