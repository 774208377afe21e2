// A memory alarm over AMQP: connection.blocked to clients that asked for it, publishers no longer read
// after they publish, consumers served; connection.unblocked and the held publish go through after.
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../../../helpers/warren.js';

let warren: RunningWarren | undefined;

afterEach(async () => {
  await warren?.stop();
  warren = undefined;
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('memory alarm over AMQP', () => {
  it('blocks publishers (connection.blocked), serves consumers, and lets the held publish through once it clears', async () => {
    warren = await startWarren();
    const server = warren.server;
    const publisher = await amqp.connect(warren.amqpUrl);
    const consumer = await amqp.connect(warren.amqpUrl);
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const pch = await publisher.createConfirmChannel();
    const cch = await consumer.createChannel();
    await pch.assertQueue('work');
    pch.sendToQueue('work', Buffer.from('before'));
    await pch.waitForConfirms();

    const limit = server.memory.limitBytes;
    server.memory.limitBytes = 1;
    server.memory.check();
    await until(() => events.length === 1, 'connection.blocked');
    expect(events).toEqual(['blocked: low on memory']);

    let confirmed = false;
    pch.sendToQueue('work', Buffer.from('during'), {}, () => (confirmed = true));
    const got = await cch.get('work', { noAck: true });
    expect(got && got.content.toString()).toBe('before');
    // The consumer's connection is still read and answered; the publisher's is not.
    expect((await cch.checkQueue('work')).messageCount).toBe(0);
    expect(confirmed).toBe(false);

    server.memory.limitBytes = limit;
    server.memory.check();
    await until(() => confirmed, 'the held publish confirmed');
    expect(events).toEqual(['blocked: low on memory', 'unblocked']);
    const after = await cch.get('work', { noAck: true });
    expect(after && after.content.toString()).toBe('during');
    await publisher.close();
    await consumer.close();
  });

  it('a disk alarm blocks AMQP publishers too (low on disk), instead of refusing their persistent messages', async () => {
    warren = await startWarren();
    const server = warren.server;
    const publisher = await amqp.connect(warren.amqpUrl);
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const ch = await publisher.createConfirmChannel();
    await ch.assertQueue('disk-work', { durable: true });
    ch.sendToQueue('disk-work', Buffer.from('before'), { persistent: true });
    await ch.waitForConfirms();

    server.broker.diskAlarm = true;
    await until(() => events.length === 1, 'connection.blocked');
    expect(events).toEqual(['blocked: low on disk']);
    let confirmed = false;
    ch.sendToQueue('disk-work', Buffer.from('during'), { persistent: true }, () => (confirmed = true));
    // Not read while the alarm holds: neither refused (the connection stays open) nor confirmed.
    const observer = await amqp.connect(warren.amqpUrl);
    const och = await observer.createChannel();
    expect((await och.checkQueue('disk-work')).messageCount).toBe(1);
    expect(confirmed).toBe(false);

    server.broker.diskAlarm = false;
    await until(() => confirmed, 'the held publish confirmed');
    expect(events).toEqual(['blocked: low on disk', 'unblocked']);
    expect((await och.checkQueue('disk-work')).messageCount).toBe(2);
    await publisher.close();
    await observer.close();
  });

  it('a cluster leader short of in-sync replicas blocks AMQP publishers (too few in-sync replicas) until they are back', async () => {
    warren = await startWarren();
    const server = warren.server;
    const publisher = await amqp.connect(warren.amqpUrl);
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const ch = await publisher.createConfirmChannel();
    await ch.assertQueue('replicated', { durable: true });

    // The connection has not published yet, so it was not paused: its first persistent publish is held
    // (the connection stays open), not refused with 506.
    server.broker.replicationAlarm = 'only 1 in-sync replica, min-insync is 2';
    await until(() => events.length === 1, 'connection.blocked');
    expect(events).toEqual(['blocked: too few in-sync replicas']);
    let confirmed = false;
    ch.sendToQueue('replicated', Buffer.from('held'), { persistent: true }, () => (confirmed = true));
    ch.sendToQueue('replicated', Buffer.from('transient, behind it'), { persistent: false });
    const observer = await amqp.connect(warren.amqpUrl);
    const och = await observer.createChannel();
    expect((await och.checkQueue('replicated')).messageCount).toBe(0);
    expect(confirmed).toBe(false);
    const health = await fetch(`${warren.url}/api/health/checks/alarms`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain('replication');

    server.broker.replicationAlarm = undefined;
    await until(() => confirmed, 'the held publish confirmed');
    expect(events).toEqual(['blocked: too few in-sync replicas', 'unblocked']);
    expect((await och.checkQueue('replicated')).messageCount).toBe(2);
    // Frames behind the held publish were handled after it, in order.
    ch.sendToQueue('replicated', Buffer.from('after'), { persistent: true });
    await ch.waitForConfirms();
    expect((await och.checkQueue('replicated')).messageCount).toBe(3);
    const bodies: string[] = [];
    for (let got = await och.get('replicated', { noAck: true }); got; got = await och.get('replicated', { noAck: true })) bodies.push(got.content.toString());
    expect(bodies).toEqual(['held', 'transient, behind it', 'after']);
    await publisher.close();
    await observer.close();
  });
});
