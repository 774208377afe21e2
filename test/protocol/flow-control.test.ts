import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren | undefined;

afterEach(async () => {
  await warren?.stop();
  warren = undefined;
});

/** Polls a condition about the server's state (not about time): resolves once it holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

describe('flow control', () => {
  it('a consumer that stops reading makes deliveries pause instead of buffering without bound, and resume when it reads again', async () => {
    warren = await startWarren();
    const publisher = await warren.connect();
    await publisher.queueDeclare({ queue: 'slow' });

    // A raw consumer whose socket we can stop reading.
    const raw = new WebSocket(warren.wsUrl);
    await new Promise((resolve) => raw.once('open', resolve));
    let delivered = 0;
    const replies: Array<Record<string, unknown>> = [];
    raw.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.op === 'deliver') delivered++;
      else replies.push(frame);
    });
    raw.send(JSON.stringify({ op: 'connect', id: 1, username: 'guest', password: 'guest' }));
    raw.send(JSON.stringify({ op: 'consume', id: 2, queue: 'slow', noAck: true }));
    await until(() => replies.some((r) => r.id === 2), 'consume-ok');
    raw.pause();

    const body = 'x'.repeat(64 * 1024);
    const total = 800; // 50 MiB: far more than the socket buffers on both sides hold
    await Promise.all(Array.from({ length: total }, () => publisher.publish({ routingKey: 'slow', body })));

    const queue = warren.server.broker.vhost('/').queues.get('slow');
    const channel = warren.server.connections
      .list()
      .flatMap((c) => c.channels())
      .find((v) => v.channel.consumerList.length > 0)?.channel;
    expect(channel?.writable).toBe(false);
    // The broker kept what the consumer could not take in its queue, not in a socket buffer.
    expect(queue?.messageCount).toBeGreaterThan(total / 2);

    raw.resume();
    await until(() => delivered === total, 'every message delivered after the consumer read again');
    expect(queue?.messageCount).toBe(0);
    expect(channel?.writable).toBe(true);
    raw.close();
  });

  it('above the memory high watermark publishers stop being read while consumers keep draining; below it they go on', async () => {
    warren = await startWarren();
    const server = warren.server;
    const publisher = await warren.connect();
    const consumer = await warren.connect();
    await publisher.queueDeclare({ queue: 'work' });
    await publisher.publish({ routingKey: 'work', body: 'before' });

    const limit = server.memory.limitBytes;
    server.memory.limitBytes = 1;
    server.memory.check();
    expect(server.broker.memoryAlarm).toBe(true);

    // The publisher's connection is no longer read: its next publish waits.
    let confirmed = false;
    const pending = publisher.publish({ routingKey: 'work', body: 'during' }).then(() => (confirmed = true));
    // The consumer's connection is still served.
    const got = await consumer.get({ queue: 'work', noAck: true });
    expect(got?.text()).toBe('before');
    await consumer.queueDeclare({ queue: 'work', passive: true });
    expect(confirmed).toBe(false);

    const alarms = await server.app.inject({
      url: '/api/health/checks/alarms',
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    expect(alarms.statusCode).toBe(503);
    expect(alarms.json()).toMatchObject({ status: 'failed', alarms: [{ resource: 'memory' }] });

    server.memory.limitBytes = limit;
    server.memory.check();
    await pending;
    expect(confirmed).toBe(true);
    expect((await consumer.get({ queue: 'work', noAck: true }))?.text()).toBe('during');
  });
});
