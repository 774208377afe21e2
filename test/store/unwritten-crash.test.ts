/**
 * kill -9 with persistent messages that consumers got before their records were written (amqplib):
 * the ones a consumer acked at once are never written and must not come back; the ones it holds were
 * confirmed only once written, and must all come back, redelivered.
 */
import type { ChildProcess } from 'node:child_process';
import amqplib, { type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { exited, spawnBroker } from '../helpers/child-broker.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir } = useDataDirs('warren-unwritten-crash-');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function amqpUrlOf(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const broker = await spawnBroker(dataDir);
  children.push(broker.child);
  const match = /AMQP 0-9-1 listening on amqp:\/\/([^"\s]+)/.exec(broker.output());
  if (!match?.[1]) throw new Error(`no AMQP listener in: ${broker.output()}`);
  return { child: broker.child, url: `amqp://guest:guest@${match[1]}` };
}

describe('kill -9 with messages consumed before their records were written', () => {
  it('brings back every confirmed message a consumer held unacked, and none it acked', async () => {
    const dataDir = tempDir();
    const first = await amqpUrlOf(dataDir);
    const connection = await amqplib.connect(first.url);
    // It dies with the broker below.
    connection.on('error', () => undefined);
    const consuming = await connection.createChannel();
    await consuming.assertQueue('held', { durable: true });
    await consuming.prefetch(1000);
    const total = 300;
    let received = 0;
    let allReceived: () => void = () => undefined;
    const everything = new Promise<void>((resolve) => (allReceived = resolve));
    await consuming.consume('held', (message: ConsumeMessage | null) => {
      if (!message) return;
      const body = message.content.toString();
      // Even jobs are acked as they arrive, mostly before their batch is written; odd ones are held.
      if (body.startsWith('job-') && Number(body.slice(4)) % 2 === 0) consuming.ack(message);
      if (++received === total + 1) allReceived();
    });
    const publishing = await connection.createConfirmChannel();
    for (let i = 0; i < total; i++) publishing.publish('', 'held', Buffer.from(`job-${i}`), { persistent: true });
    await publishing.waitForConfirms();
    // Confirmed after the acks before it were read: its write carries their Settle records, if any.
    publishing.publish('', 'held', Buffer.from('last'), { persistent: true });
    await publishing.waitForConfirms();
    await everything;
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await amqpUrlOf(dataDir);
    const again = await amqplib.connect(second.url);
    const reading = await again.createChannel();
    const recovered: Array<{ body: string; redelivered: boolean }> = [];
    for (;;) {
      const message = await reading.get('held', { noAck: true });
      if (message === false) break;
      recovered.push({ body: message.content.toString(), redelivered: message.fields.redelivered });
    }
    const held = Array.from({ length: total / 2 }, (_, i) => `job-${2 * i + 1}`);
    expect(recovered).toEqual([...held, 'last'].map((body) => ({ body, redelivered: true })));
    await again.close();
  });
});
