// Broker behaviour that clients rely on beyond the tutorials, seen through amqplib: mandatory returns,
// basic.get, nack/requeue, server-sent basic.cancel, channel errors that spare the connection, and
// negotiated heartbeats.
import amqplib, { type ChannelModel, type Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpTarget, uniqueName, type AmqpTarget } from './target.js';
import { deferred, sleep, within } from './wait.js';

let target: AmqpTarget;
const open: ChannelModel[] = [];

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await target?.stop();
});

async function connect(url = target.url): Promise<ChannelModel> {
  const conn = await amqplib.connect(url);
  open.push(conn);
  return conn;
}

describe('broker behaviour through amqplib', () => {
  it('a mandatory publish that reaches no queue comes back as basic.return (312 NO_ROUTE)', async () => {
    const conn = await connect();
    const ch = await conn.createConfirmChannel();
    const returned = deferred<Message>();
    ch.on('return', (m: Message) => returned.resolve(m));
    const key = uniqueName('nowhere');
    const confirmed = new Promise<void>((resolve, reject) =>
      ch.publish('', key, Buffer.from('lost'), { mandatory: true, messageId: 'm-1' }, (err) => (err ? reject(new Error('nacked')) : resolve())),
    );
    const m = await within(returned.promise, 'basic.return');
    expect(m.fields).toMatchObject({ replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey: key });
    expect(m.content.toString()).toBe('lost');
    expect(m.properties.messageId).toBe('m-1');
    // An unroutable message is still confirmed (acked), after its return.
    await within(confirmed, 'the confirm after the return');
    await conn.close();
  });

  it('basic.get returns get-ok with the message count, then get-empty', async () => {
    const conn = await connect();
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (const b of ['a', 'b']) ch.sendToQueue(queue, Buffer.from(b));
    await ch.waitForConfirms();
    const first = await ch.get(queue, { noAck: true });
    expect(first && [first.content.toString(), first.fields.messageCount, first.fields.redelivered]).toEqual(['a', 1, false]);
    const second = await ch.get(queue, { noAck: false });
    expect(second && [second.content.toString(), second.fields.messageCount]).toEqual(['b', 0]);
    if (second) ch.ack(second);
    expect(await ch.get(queue)).toBe(false);
    await conn.close();
  });

  it('nack with requeue puts the message back, delivered again with redelivered set', async () => {
    const conn = await connect();
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const deliveries: [string, boolean][] = [];
    const second = deferred<void>();
    await ch.consume(queue, (m) => {
      if (m === null) return;
      deliveries.push([m.content.toString(), m.fields.redelivered]);
      if (deliveries.length === 1) ch.nack(m, false, true);
      else {
        ch.ack(m);
        second.resolve();
      }
    });
    ch.sendToQueue(queue, Buffer.from('again'));
    await within(second.promise, 'the redelivery');
    expect(deliveries).toEqual([['again', false], ['again', true]]);
    await conn.close();
  });

  it('deleting a queue cancels its consumers with a server-sent basic.cancel (consumer_cancel_notify)', async () => {
    const conn = await connect();
    expect(conn.connection.serverProperties.capabilities).toMatchObject({ consumer_cancel_notify: true });
    const ch = await conn.createChannel();
    const queue = uniqueName('cancel-notify');
    await ch.assertQueue(queue, { autoDelete: false });
    const cancelled = deferred<void>();
    // amqplib hands a server-sent basic.cancel to the consumer callback as `null`.
    await ch.consume(queue, (m) => (m === null ? cancelled.resolve() : undefined));
    const other = await conn.createChannel();
    await other.deleteQueue(queue);
    await within(cancelled.promise, 'basic.cancel from the server');
    // The channel survives the cancel.
    const { queue: q2 } = await ch.assertQueue('', { exclusive: true });
    expect(q2).toMatch(/^amq\.gen-/);
    await conn.close();
  });

  it('a channel error (passive declare of a missing queue → 404) closes that channel only', async () => {
    const conn = await connect();
    const survivor = await conn.createConfirmChannel();
    const { queue } = await survivor.assertQueue('', { exclusive: true });
    const doomed = await conn.createChannel();
    const channelClosed = deferred<void>();
    doomed.on('close', () => channelClosed.resolve());
    doomed.on('error', () => undefined);
    const connectionErrors: unknown[] = [];
    conn.on('error', (e: unknown) => connectionErrors.push(e));
    const missing = uniqueName('missing');
    await expect(doomed.checkQueue(missing)).rejects.toThrow(
      `404 (NOT-FOUND) with message "NOT_FOUND - no queue '${missing}' in vhost '/'"`,
    );
    await within(channelClosed.promise, 'the channel close');
    // The other channel and new channels still work on the same connection.
    survivor.sendToQueue(queue, Buffer.from('still here'));
    await survivor.waitForConfirms();
    const m = await survivor.get(queue, { noAck: true });
    expect(m && m.content.toString()).toBe('still here');
    const fresh = await conn.createChannel();
    expect(await fresh.checkQueue(queue)).toMatchObject({ queue, messageCount: 0 });
    expect(connectionErrors).toEqual([]);
    await conn.close();
  });

  it('heartbeats negotiated at 1 s keep an idle connection open for 3 s', async () => {
    const conn = await connect(`${target.url}?heartbeat=1`);
    const closed: unknown[] = [];
    conn.on('close', (e: unknown) => closed.push(e ?? 'closed'));
    conn.on('error', (e: unknown) => closed.push(e));
    expect(Reflect.get(conn.connection, 'heartbeat')).toBe(1);
    const ch = await conn.createConfirmChannel();
    await sleep(3200);
    expect(closed).toEqual([]);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('awake'));
    await ch.waitForConfirms();
    const m = await ch.get(queue, { noAck: true });
    expect(m && m.content.toString()).toBe('awake');
    await conn.close();
  });
});
