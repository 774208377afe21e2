/**
 * A move is copy-then-remove with the copies on disk first: `kill -9` in the middle of one leaves every
 * message in the source, the target or both (duplicates allowed), never in neither.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type WarrenConnection } from '../../src/client/index.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir } = useDataDirs('warren-move-');
const brokers: ChildBroker[] = [];

afterEach(() => {
  for (const broker of brokers.splice(0)) broker.child.kill('SIGKILL');
});

const TOTAL = 50_000;
const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

async function start(dataDir: string): Promise<{ broker: ChildBroker; conn: WarrenConnection }> {
  const broker = await spawnBroker(dataDir);
  brokers.push(broker);
  return { broker, conn: await connect(broker.wsUrl, { username: 'guest', password: 'guest' }) };
}

async function readyIn(broker: ChildBroker, queue: string): Promise<number> {
  const response = await fetch(`${broker.url}/api/queues/%2F/${queue}`, { headers: { authorization: auth } });
  const body = (await response.json()) as { messages_ready: number };
  return body.messages_ready;
}

/** Every body in the queue, taking them all without acks. */
async function drain(broker: ChildBroker, conn: WarrenConnection, queue: string): Promise<string[]> {
  const expected = await readyIn(broker, queue);
  const bodies: string[] = [];
  if (expected === 0) return bodies;
  const consumer = await conn.consume({ queue, noAck: true });
  for await (const message of consumer) {
    bodies.push(message.text());
    if (bodies.length === expected) break;
  }
  return bodies;
}

describe('moving messages survives kill -9', () => {
  it('killed mid-move: after the restart every message is in the source or the target', async () => {
    const dataDir = tempDir();
    const { broker, conn } = await start(dataDir);
    await conn.queueDeclare({ queue: 'src', durable: true });
    await conn.queueDeclare({ queue: 'dst', durable: true });
    for (let from = 0; from < TOTAL; from += 5000) {
      const batch = Array.from({ length: 5000 }, (_, k) => conn.publish({ routingKey: 'src', body: `m${from + k}`, properties: { persistent: true } }));
      await Promise.all(batch);
    }
    await conn.close();

    const moving = fetch(`${broker.url}/api/queues/%2F/src/move`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: { queue: 'dst' } }),
    }).then(
      (response) => `answered ${response.status}`,
      () => 'killed before answering',
    );
    // The broker answers while it moves (it yields between batches): kill it once a fifth of the copies are there.
    while ((await readyIn(broker, 'dst')) < TOTAL / 5) await new Promise((resolve) => setTimeout(resolve, 1));
    broker.child.kill('SIGKILL');
    await exited(broker.child);
    // Either way: the kill's timing is not asserted, only what it left behind.
    await moving;

    const second = await start(dataDir);
    const inSource = await drain(second.broker, second.conn, 'src');
    const inTarget = await drain(second.broker, second.conn, 'dst');
    await second.conn.close();
    const seen = new Set([...inSource, ...inTarget]);
    const lost = Array.from({ length: TOTAL }, (_, i) => `m${i}`).filter((body) => !seen.has(body));
    expect(lost).toEqual([]);
    expect(seen.size).toBe(TOTAL);
    // Each side keeps queue order: what is left of the source is its tail, the target got a head.
    const index = (body: string): number => Number(body.slice(1));
    expect(inTarget.map(index)).toEqual([...inTarget.map(index)].sort((a, b) => a - b));
    expect(inSource.map(index)).toEqual([...inSource.map(index)].sort((a, b) => a - b));
  }, 180_000);
});
