// The channel errors applications meet most, as amqplib reports them: the code and RabbitMQ's exact
// reply text (clients and their users match on both), and the connection staying usable afterwards.
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpTarget, uniqueName, type AmqpTarget } from './target.js';
import { deferred, within } from './wait.js';

let target: AmqpTarget;
let conn: ChannelModel;

beforeAll(async () => {
  target = await amqpTarget();
  conn = await amqplib.connect(target.url);
});

afterAll(async () => {
  await conn?.close().catch(() => undefined);
  await target?.stop();
});

/** Runs `act` on a fresh channel and resolves with the error that closed the channel. */
async function channelError(act: (ch: Channel) => unknown): Promise<string> {
  const ch = await conn.createChannel();
  const closed = deferred<string>();
  ch.on('error', (e: Error) => closed.resolve(e.message));
  ch.on('close', () => closed.resolve('closed without an error'));
  try {
    await act(ch);
  } catch (e) {
    // RPCs reject with the same error the channel emits; the emitted one is what is compared.
    void e;
  }
  return within(closed.promise, 'the channel to be closed by the broker');
}

describe('channel errors through amqplib', () => {
  it('publishing to a missing exchange: 404', async () => {
    const exchange = uniqueName('no-such-exchange');
    expect(await channelError((ch) => ch.publish(exchange, 'k', Buffer.from('x')))).toBe(
      `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${exchange}' in vhost '/'"`,
    );
  });

  // RabbitMQ quotes both values ('true'), names flags as the protocol does (auto_delete), and describes
  // an argument present on one side only by its value and wire type.
  it.each([
    ['durable flag', { durable: false }, { durable: true }, "inequivalent arg 'durable' for queue 'Q' in vhost '/': received 'true' but current is 'false'"],
    ['auto_delete flag', { autoDelete: true }, { autoDelete: false }, "inequivalent arg 'auto_delete' for queue 'Q' in vhost '/': received 'false' but current is 'true'"],
    ['x-max-length', { arguments: { 'x-max-length': 10 } }, { arguments: { 'x-max-length': 20 } }, "inequivalent arg 'x-max-length' for queue 'Q' in vhost '/': received '20' but current is '10'"],
    ['x-dead-letter-exchange', { arguments: { 'x-dead-letter-exchange': 'a' } }, { arguments: { 'x-dead-letter-exchange': 'b' } }, "inequivalent arg 'x-dead-letter-exchange' for queue 'Q' in vhost '/': received 'b' but current is 'a'"],
    ['x-max-length where it had none', {}, { arguments: { 'x-max-length': 20 } }, "inequivalent arg 'x-max-length' for queue 'Q' in vhost '/': received the value '20' of type 'byte' but current is none"],
  ])('redeclaring a queue with another %s: 406 inequivalent arg', async (_what, first, second, text) => {
    const queue = uniqueName('inequivalent');
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: true, ...first });
    const message = await channelError((c) => c.assertQueue(queue, { durable: false, autoDelete: true, ...second }));
    expect(message).toBe(`Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - ${text.replace("'Q'", `'${queue}'`)}"`);
    await ch.deleteQueue(queue);
    await ch.close();
  });

  it('using another connection’s exclusive queue: 405 RESOURCE_LOCKED', async () => {
    const owner = await amqplib.connect(target.url);
    try {
      const { queue } = await (await owner.createChannel()).assertQueue('', { exclusive: true });
      const message = await channelError((ch) => ch.consume(queue, () => undefined));
      expect(message).toBe(
        `Channel closed by server: 405 (RESOURCE-LOCKED) with message "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${queue}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."`,
      );
    } finally {
      await owner.close();
    }
  });

  it('acking a delivery twice: 406 unknown delivery tag', async () => {
    const message = await channelError(async (ch) => {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(queue, Buffer.from('once'));
      let m = await ch.get(queue, { noAck: false });
      while (m === false) m = await ch.get(queue, { noAck: false });
      ch.ack(m);
      ch.ack(m);
    });
    expect(message).toBe(`Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - unknown delivery tag 1"`);
  });

  it('declaring a queue named amq.*: 403', async () => {
    const message = await channelError((ch) => ch.assertQueue('amq.mine'));
    expect(message).toBe(`Channel closed by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq.*'"`);
  });

  it('after all of these the connection still works', async () => {
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('fine'));
    await ch.waitForConfirms();
    const m = await ch.get(queue, { noAck: true });
    expect(m && m.content.toString()).toBe('fine');
  });
});
