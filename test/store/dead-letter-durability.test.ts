import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ReceivedMessage, type WarrenConnection } from '../../src/client/index.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir } = useDataDirs('warren-dead-letter-');
const brokers: ChildBroker[] = [];

afterEach(() => {
  for (const broker of brokers.splice(0)) broker.child.kill('SIGKILL');
});

async function start(dataDir: string): Promise<{ broker: ChildBroker; conn: WarrenConnection }> {
  const broker = await spawnBroker(dataDir);
  brokers.push(broker);
  return { broker, conn: await connect(broker.wsUrl, { username: 'guest', password: 'guest' }) };
}

async function drain(conn: WarrenConnection, queue: string): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  for (;;) {
    const message = await conn.get({ queue, noAck: true });
    if (!message) return out;
    out.push(message);
  }
}

const TOTAL = 200;

/** Durable `work` dead-lettering into durable `dead`, TOTAL persistent messages confirmed, all delivered unacked. */
async function rejectAll(conn: WarrenConnection): Promise<ReceivedMessage[]> {
  await conn.exchangeDeclare({ exchange: 'dlx', type: 'fanout', durable: true });
  await conn.queueDeclare({ queue: 'dead', durable: true });
  await conn.queueBind({ queue: 'dead', exchange: 'dlx' });
  await conn.queueDeclare({ queue: 'work', durable: true, arguments: { 'x-dead-letter-exchange': 'dlx' } });
  await Promise.all(Array.from({ length: TOTAL }, (_, i) => conn.publish({ routingKey: 'work', body: `m${i}`, properties: { persistent: true } })));
  const consumer = await conn.consume({ queue: 'work', prefetch: TOTAL });
  const taken: ReceivedMessage[] = [];
  for await (const message of consumer) {
    taken.push(message);
    if (taken.length === TOTAL) break;
  }
  return taken;
}

async function afterRestart(dataDir: string): Promise<{ work: ReceivedMessage[]; dead: ReceivedMessage[] }> {
  const { conn } = await start(dataDir);
  const result = { work: await drain(conn, 'work'), dead: await drain(conn, 'dead') };
  await conn.close();
  return result;
}

describe('dead-lettering survives kill -9 (at-least-once, unlike RabbitMQ classic queues)', () => {
  it('killed while rejections are being dead-lettered: every message is in the source or the target', async () => {
    const dataDir = tempDir();
    const { broker, conn } = await start(dataDir);
    const taken = await rejectAll(conn);
    for (const message of taken) message.nack({ requeue: false });
    // Let part of the rejections reach the broker, then kill it in the middle of its work.
    await new Promise((resolve) => setTimeout(resolve, 5));
    broker.child.kill('SIGKILL');
    await exited(broker.child);

    const { work, dead } = await afterRestart(dataDir);
    const inWork = new Set(work.map((m) => m.text()));
    const inDead = new Set(dead.map((m) => m.text()));
    const lost = Array.from({ length: TOTAL }, (_, i) => `m${i}`).filter((body) => !inWork.has(body) && !inDead.has(body));
    expect(lost).toEqual([]);
    // Every one was delivered before the kill, so a copy left in the source comes back flagged.
    expect(work.every((m) => m.redelivered)).toBe(true);
    for (const m of dead) expect(m.properties.headers?.['x-death']).toMatchObject([{ queue: 'work', reason: 'rejected', count: 1 }]);
  });

  it('once the rejections are on disk, every message is in the target only, with its x-death', async () => {
    const dataDir = tempDir();
    const { broker, conn } = await start(dataDir);
    const taken = await rejectAll(conn);
    for (const message of taken) message.nack({ requeue: false });
    // A confirmed publish after the nacks: its fsync covers the records they wrote.
    await conn.queueDeclare({ queue: 'barrier', durable: true });
    await conn.publish({ routingKey: 'barrier', body: 'barrier', properties: { persistent: true } });
    broker.child.kill('SIGKILL');
    await exited(broker.child);

    const { work, dead } = await afterRestart(dataDir);
    expect(work).toEqual([]);
    expect(dead.map((m) => m.text())).toEqual(Array.from({ length: TOTAL }, (_, i) => `m${i}`));
    expect(dead[0]?.properties.headers).toMatchObject({ 'x-first-death-queue': 'work', 'x-first-death-reason': 'rejected' });
  });
});
