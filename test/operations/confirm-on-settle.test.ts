/**
 * When a persistent publish is confirmed, through AMQP 0-9-1 (amqplib) and the JSON WebSocket protocol
 * alike: consumers get the message before its write is on disk, and its confirm goes once it is on disk
 * or once every durable queue had it acked, whichever comes first (RabbitMQ's rule). A real server on a
 * real data dir, whose segment fsyncs wait while the test holds them: a confirm that came while one
 * waits did not wait for the disk.
 */
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import amqplib from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenFile } from '../../src/store/definitions-log.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

/** Real files whose fdatasyncs of message segments wait while `held`. */
class HeldFsyncs {
  held = false;
  private release: Array<() => void> = [];

  readonly openFile: OpenFile = async (path, flags) => {
    const handle = await open(path, flags);
    if (!path.endsWith('.seg')) return handle;
    return new Proxy(handle, {
      get: (target, property) => {
        if (property === 'datasync') return () => this.sync(() => target.datasync());
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };

  private async sync(datasync: () => Promise<void>): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.release.push(resolve));
    await datasync();
  }

  releaseAll(): void {
    this.held = false;
    for (const resolve of this.release.splice(0)) resolve();
  }
}

const running: RunningWarren[] = [];
const connections: amqplib.ChannelModel[] = [];
const held: HeldFsyncs[] = [];

afterEach(async () => {
  for (const fsyncs of held.splice(0)) fsyncs.releaseAll();
  await Promise.all(connections.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

async function setUp(): Promise<{ warren: RunningWarren; fsyncs: HeldFsyncs; amqp: amqplib.ChannelModel }> {
  const fsyncs = new HeldFsyncs();
  held.push(fsyncs);
  const warren = await startWarren({}, { openFile: fsyncs.openFile });
  running.push(warren);
  const amqp = await amqplib.connect(warren.amqpUrl);
  connections.push(amqp);
  const ch = await amqp.createChannel();
  await ch.assertQueue('consumed', { durable: true });
  await ch.assertQueue('idle', { durable: true });
  await ch.close();
  return { warren, fsyncs, amqp };
}

/** A consumer on its own channel that acks every message, remembering the bodies. */
async function ackingConsumer(amqp: amqplib.ChannelModel, queue: string): Promise<string[]> {
  const ch = await amqp.createChannel();
  const bodies: string[] = [];
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    bodies.push(msg.content.toString());
    ch.ack(msg);
  });
  return bodies;
}

/** Resolves once `body` is among the consumer's deliveries. */
async function delivered(bodies: readonly string[], body: string): Promise<void> {
  while (!bodies.includes(body)) await new Promise((resolve) => setTimeout(resolve, 10));
}

function confirmed(ch: amqplib.ConfirmChannel, queue: string, body: string): Promise<'ack' | 'nack'> {
  return new Promise((resolve) => ch.sendToQueue(queue, Buffer.from(body), { persistent: true }, (err) => resolve(err ? 'nack' : 'ack')));
}

describe('a persistent publish in confirm mode', () => {
  it('over AMQP: delivered, acked and confirmed while its write waits for the disk; one nobody acked is confirmed once on disk', async () => {
    const { fsyncs, amqp } = await setUp();
    const bodies = await ackingConsumer(amqp, 'consumed');
    const ch = await amqp.createConfirmChannel();
    fsyncs.held = true;

    await expect(confirmed(ch, 'consumed', 'acked-first')).resolves.toBe('ack');
    expect(bodies).toEqual(['acked-first']);

    let idleOutcome: 'ack' | 'nack' | undefined;
    const idle = confirmed(ch, 'idle', 'nobody-acks').then((outcome) => (idleOutcome = outcome));
    // Confirms go in publish order: a later one that was acked is sent after the idle one, and so
    // it proves the broker has read the idle publish while that one still waits for the disk.
    const later = confirmed(ch, 'consumed', 'acked-later');
    await delivered(bodies, 'acked-later');
    expect(idleOutcome).toBeUndefined();
    fsyncs.releaseAll();
    await expect(idle).resolves.toBe('ack');
    await expect(later).resolves.toBe('ack');
  });

  it('over the JSON WebSocket protocol: the same rule', async () => {
    const { warren, fsyncs, amqp } = await setUp();
    const bodies = await ackingConsumer(amqp, 'consumed');
    const conn = await warren.connect();
    fsyncs.held = true;

    await conn.publish({ routingKey: 'consumed', body: 'over-ws', properties: { persistent: true } });
    expect(bodies).toEqual(['over-ws']);

    let idleDone = false;
    const idle = conn.publish({ routingKey: 'idle', body: 'nobody-acks', properties: { persistent: true } }).then(() => (idleDone = true));
    // Replies go in request order, so this one waits behind the idle one; its delivery shows the
    // broker has handled the idle publish, which still waits for the disk.
    const later = conn.publish({ routingKey: 'consumed', body: 'ws-later', properties: { persistent: true } });
    await delivered(bodies, 'ws-later');
    expect(idleDone).toBe(false);
    fsyncs.releaseAll();
    await idle;
    await later;
    expect(idleDone).toBe(true);
  });

  it('a message acked before its write is on disk is not recovered after a restart; one on disk and unacked is', async () => {
    const { warren, fsyncs, amqp } = await setUp();
    await ackingConsumer(amqp, 'consumed');
    const ch = await amqp.createConfirmChannel();
    fsyncs.held = true;
    await expect(confirmed(ch, 'consumed', 'gone')).resolves.toBe('ack');
    const idle = confirmed(ch, 'idle', 'stays');
    fsyncs.releaseAll();
    await expect(idle).resolves.toBe('ack');
    await amqp.close();
    connections.splice(connections.indexOf(amqp), 1);
    running.splice(running.indexOf(warren), 1);
    await warren.server.close();

    const again = await startWarren({ dataDir: warren.dataDir });
    running.push(again);
    const conn = await amqplib.connect(again.amqpUrl);
    connections.push(conn);
    const check = await conn.createChannel();
    await expect(check.checkQueue('consumed')).resolves.toMatchObject({ messageCount: 0 });
    await expect(check.checkQueue('idle')).resolves.toMatchObject({ messageCount: 1 });
    await conn.close();
    connections.splice(connections.indexOf(conn), 1);
    running.splice(running.indexOf(again), 1);
    await again.stop();
    rmSync(warren.dataDir, { recursive: true, force: true });
  });
});
