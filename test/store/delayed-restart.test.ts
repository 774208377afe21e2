/**
 * Scheduled messages across restarts: a persistent message held by a durable delayed exchange is on
 * disk once confirmed, comes back after a clean stop and after `kill -9` with the same due time
 * (publish time + `x-delay`), and one that fell due while the broker was down is routed at start.
 * Fired, cancelled and deleted-with-the-exchange ones do not come back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type WarrenConnection } from '../../src/client/index.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { FakeClock } from '../helpers/fake-clock.js';

const { tempDir, start, stop } = useDataDirs('warren-delayed-');
const MINUTE = 60_000;
const PERSISTENT = { persistent: true } as const;

async function topology(conn: WarrenConnection): Promise<void> {
  await conn.exchangeDeclare({ exchange: 'later', type: 'x-delayed-message', durable: true, arguments: { 'x-delayed-type': 'direct' } });
  await conn.queueDeclare({ queue: 'q', durable: true });
  await conn.queueBind({ queue: 'q', exchange: 'later', routingKey: 'k' });
}

async function drain(conn: WarrenConnection, queue: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let m = await conn.get({ queue, noAck: true }); m; m = await conn.get({ queue, noAck: true })) bodies.push(m.text());
  return bodies;
}

describe('scheduled messages across a clean restart', () => {
  it('come back with their due times; one due while down is routed at start; fired and cancelled ones stay gone', async () => {
    const dataDir = tempDir();
    const t0 = Date.UTC(2030, 0, 1);
    let clock = new FakeClock(t0);
    let warren = await start(dataDir, {}, { clock });
    let conn = await warren.connect();
    await topology(conn);
    await conn.publish({ exchange: 'later', routingKey: 'k', body: 'fired-before', delay: 1000, properties: PERSISTENT });
    await conn.publish({ exchange: 'later', routingKey: 'k', body: 'due-while-down', delay: 5 * MINUTE, properties: PERSISTENT });
    await conn.publish({ exchange: 'later', routingKey: 'k', body: 'due-later', delay: 60 * MINUTE, properties: PERSISTENT });
    const cancelled = await conn.publish({ exchange: 'later', routingKey: 'k', body: 'cancelled', delay: 5 * MINUTE, properties: PERSISTENT });
    await conn.publish({ exchange: 'later', routingKey: 'k', body: 'transient', delay: 5 * MINUTE });
    const scheduled = warren.server.broker.vhost('/').exchanges.get('later')?.scheduled;
    expect(scheduled?.cancel(cancelled.scheduled?.id ?? -1)).toBe(true);
    clock.advance(1000);
    // A routed persistent copy is handed out once it is on disk.
    await warren.server.durable.synced();
    expect(await drain(conn, 'q')).toEqual(['fired-before']);
    await warren.server.durable.synced();
    await stop(warren);

    clock = new FakeClock(t0 + 10 * MINUTE);
    warren = await start(dataDir, {}, { clock });
    const restored = warren.server.broker.vhost('/').exchanges.get('later')?.scheduled;
    expect(restored?.page(0, 10).map((s) => [s.content.routingKey, s.due])).toEqual([
      ['k', t0 + 5 * MINUTE],
      ['k', t0 + 60 * MINUTE],
    ]);
    clock.advance(0);
    await warren.server.durable.synced();
    conn = await warren.connect();
    expect(await drain(conn, 'q')).toEqual(['due-while-down']);
    expect(restored?.count).toBe(1);
    clock.advance(50 * MINUTE);
    await warren.server.durable.synced();
    expect(await drain(conn, 'q')).toEqual(['due-later']);
    await warren.server.durable.synced();
    await stop(warren);

    // Everything fired is settled on disk: nothing is scheduled again, nothing routed twice.
    warren = await start(dataDir, {}, { clock: new FakeClock(t0 + 120 * MINUTE) });
    expect(warren.server.broker.vhost('/').exchanges.get('later')?.scheduled?.count).toBe(0);
    conn = await warren.connect();
    expect(await drain(conn, 'q')).toEqual([]);
  });

  it('deleting the exchange deletes its scheduled messages on disk too', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir, {}, { clock: new FakeClock(Date.UTC(2030, 0, 1)) });
    const conn = await warren.connect();
    await topology(conn);
    await conn.publish({ exchange: 'later', routingKey: 'k', body: 'gone', delay: MINUTE, properties: PERSISTENT });
    await conn.exchangeDelete({ exchange: 'later' });
    await topology(conn);
    await warren.server.durable.synced();
    await stop(warren);
    warren = await start(dataDir, {}, { clock: new FakeClock(Date.UTC(2030, 0, 2)) });
    expect(warren.server.broker.vhost('/').exchanges.get('later')?.scheduled?.count).toBe(0);
  });
});

describe('scheduled messages under kill -9', () => {
  const brokers: ChildBroker[] = [];
  afterEach(() => {
    for (const broker of brokers.splice(0)) broker.child.kill('SIGKILL');
  });

  async function spawn(dataDir: string): Promise<{ broker: ChildBroker; conn: WarrenConnection }> {
    const broker = await spawnBroker(dataDir);
    brokers.push(broker);
    return { broker, conn: await connect(broker.wsUrl, { username: 'guest', password: 'guest' }) };
  }

  it('every confirmed scheduled message survives; one that fell due while down is routed at start', async () => {
    const dataDir = tempDir();
    const first = await spawn(dataDir);
    await topology(first.conn);
    const soon = await first.conn.publish({ exchange: 'later', routingKey: 'k', body: 'soon', delay: 2000, properties: PERSISTENT });
    const confirms = await Promise.all(
      Array.from({ length: 100 }, (_, i) => first.conn.publish({ exchange: 'later', routingKey: 'k', body: `far-${i}`, delay: 60 * MINUTE, properties: PERSISTENT })),
    );
    expect(confirms.every((c) => c.scheduled !== undefined)).toBe(true);
    // The confirms are in: kill at once, with no chance to flush anything more.
    first.broker.child.kill('SIGKILL');
    await exited(first.broker.child);
    await first.conn.close().catch(() => undefined);

    // Start again only once `soon` is due, so it fell due while the broker was down.
    const due = soon.scheduled?.due ?? 0;
    while (Date.now() <= due) await new Promise((resolve) => setTimeout(resolve, due + 1 - Date.now()));
    const second = await spawn(dataDir);
    const response = await fetch(`${second.broker.url}/api/exchanges/%2F/later/scheduled?count=1000`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    const listed = (await response.json()) as { total: number; items: Array<{ payload: string }> };
    expect(listed.total).toBe(100);
    expect(listed.items.map((m) => m.payload)).toEqual(Array.from({ length: 100 }, (_, i) => `far-${i}`));
    await expect.poll(() => second.conn.queueDeclare({ queue: 'q', passive: true }).then((r) => r.messageCount)).toBe(1);
    expect(await drain(second.conn, 'q')).toEqual(['soon']);
    await second.conn.close();
  });
});
