/**
 * Delivery counts of persistent messages in durable queues survive a restart (clean stop and kill -9).
 * What is guaranteed: after a crash a message's count is at least the number of its returns whose
 * records were on disk — every return made before the last fsync the broker completed (a confirm of a
 * later publish proves one). Returns after that fsync may be lost, so the count may be lower than the
 * true count by those, never higher.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type WarrenConnection } from '../../src/client/index.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir, start, stop } = useDataDirs('warren-delivery-count-');
const brokers: ChildBroker[] = [];

afterEach(() => {
  for (const broker of brokers.splice(0)) broker.child.kill('SIGKILL');
});

/** Gets and requeues the head `times` times. */
async function bounce(conn: WarrenConnection, queue: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const got = await conn.get({ queue });
    if (!got) throw new Error(`queue '${queue}' is empty`);
    got.nack({ requeue: true });
  }
}

async function headCount(conn: WarrenConnection, queue: string): Promise<unknown> {
  const got = await conn.get({ queue, noAck: true });
  return got?.properties.headers?.['x-delivery-count'];
}

describe('delivery counts across a restart', () => {
  it('come back per message after a clean restart; a limit goes on counting from there', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.exchangeDeclare({ exchange: 'rc.dlx', type: 'fanout', durable: true });
    await conn.queueDeclare({ queue: 'rc.dead', durable: true });
    await conn.queueBind({ queue: 'rc.dead', exchange: 'rc.dlx' });
    await conn.queueDeclare({ queue: 'rc.work', durable: true, arguments: { 'x-delivery-limit': 3, 'x-dead-letter-exchange': 'rc.dlx' } });
    for (const body of ['a', 'b']) await conn.publish({ routingKey: 'rc.work', body, properties: { persistent: true } });
    await bounce(conn, 'rc.work', 2); // 'a' twice: it goes back to the head
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    const first = await conn.get({ queue: 'rc.work' });
    expect([first?.text(), first?.redelivered, first?.properties.headers?.['x-delivery-count']]).toEqual(['a', true, 2]);
    first?.nack({ requeue: true }); // third return: still within the limit of 3
    await bounce(conn, 'rc.work', 1); // fourth: past it
    // A released content is read back before the dead-letter copy is made: wait for it.
    let dead = await conn.get({ queue: 'rc.dead', noAck: true });
    for (let i = 0; !dead && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      dead = await conn.get({ queue: 'rc.dead', noAck: true });
    }
    expect(dead?.text()).toBe('a');
    const second = await conn.get({ queue: 'rc.work', noAck: true });
    expect([second?.text(), second?.redelivered, second?.properties.headers]).toEqual(['b', false, undefined]);
  });

  it('kill -9: every return before the last completed fsync is counted', async () => {
    const dataDir = tempDir();
    let broker = await spawnBroker(dataDir);
    brokers.push(broker);
    let conn = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    await conn.queueDeclare({ queue: 'kc.work', durable: true });
    await conn.publish({ routingKey: 'kc.work', body: 'm', properties: { persistent: true } });
    await bounce(conn, 'kc.work', 5);
    // A confirmed persistent publish: its fsync covers the return records buffered before it.
    await conn.queueDeclare({ queue: 'kc.marker', durable: true });
    await conn.publish({ routingKey: 'kc.marker', body: 'x', properties: { persistent: true } });
    await bounce(conn, 'kc.work', 3); // may or may not reach the disk before the kill
    broker.child.kill('SIGKILL');
    await exited(broker.child);

    broker = await spawnBroker(dataDir);
    brokers.push(broker);
    conn = await connect(broker.wsUrl, { username: 'guest', password: 'guest' });
    const count = (await headCount(conn, 'kc.work')) as number;
    expect(count).toBeGreaterThanOrEqual(5);
    expect(count).toBeLessThanOrEqual(8);
    await conn.close();
  });
});
