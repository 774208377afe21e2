// Direct reply-to across protocols: a requester on either protocol consumes from
// `amq.rabbitmq.reply-to` and publishes with it as reply-to; a responder on the other protocol answers
// to the rewritten name through the default exchange, and the answer arrives with no queue between.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren;

beforeAll(async () => {
  warren = await startWarren();
});

afterAll(async () => {
  await warren.stop();
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('direct reply-to', () => {
  it('a JSON requester gets its answer from an AMQP responder', async () => {
    const responder = await amqp.connect(warren.amqpUrl);
    const rch = await responder.createChannel();
    await rch.assertQueue('rpc-json-to-amqp', { exclusive: true });
    const seenReplyTo: string[] = [];
    await rch.consume('rpc-json-to-amqp', (m) => {
      if (!m) return;
      seenReplyTo.push(m.properties.replyTo as string);
      rch.sendToQueue(m.properties.replyTo as string, Buffer.from(`re: ${m.content.toString()}`), { correlationId: m.properties.correlationId as string });
      rch.ack(m);
    });
    const requester = await warren.connect();
    const answers: ReceivedMessage[] = [];
    const consumer = await requester.consume({ queue: 'amq.rabbitmq.reply-to', noAck: true }, (m) => answers.push(m));
    await requester.publish({ routingKey: 'rpc-json-to-amqp', body: 'ping', properties: { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' } });
    await until(() => answers.length === 1, 'the answer');
    expect(answers[0]?.text()).toBe('re: ping');
    expect(answers[0]?.properties.correlationId).toBe('c1');
    expect(answers[0]?.consumerTag).toBe(consumer.consumerTag);
    expect(seenReplyTo[0]).toMatch(/^amq\.rabbitmq\.reply-to\.[A-Za-z0-9_-]+$/);
    await responder.close();
  });

  it('an AMQP requester gets its answer from a JSON responder', async () => {
    const responder = await warren.connect();
    await responder.queueDeclare({ queue: 'rpc-amqp-to-json', exclusive: true });
    await responder.consume({ queue: 'rpc-amqp-to-json' }, (m) => {
      void responder.publish({ routingKey: m.properties.replyTo ?? '', body: `re: ${m.text()}` });
      void m.ack();
    });
    const requester = await amqp.connect(warren.amqpUrl);
    const ch = await requester.createChannel();
    const answers: string[] = [];
    await ch.consume('amq.rabbitmq.reply-to', (m) => m && answers.push(m.content.toString()), { noAck: true });
    ch.sendToQueue('rpc-amqp-to-json', Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to' });
    await until(() => answers.length === 1, 'the answer');
    expect(answers).toEqual(['re: ping']);
    await requester.close();
  });

  it('refuses a JSON reply consumer that acks, and a reply-to without a reply consumer (406)', async () => {
    const conn = await warren.connect();
    await expect(conn.consume({ queue: 'amq.rabbitmq.reply-to', noAck: false })).rejects.toMatchObject({ code: 406, message: 'reply consumer cannot acknowledge' });
    await expect(
      conn.publish({ routingKey: 'anywhere', body: 'x', properties: { replyTo: 'amq.rabbitmq.reply-to' } }),
    ).rejects.toMatchObject({ code: 406, message: 'fast reply consumer does not exist' });
  });

  it('a reply to a requester that is gone is unroutable', async () => {
    const requester = await warren.connect();
    await requester.consume({ queue: 'amq.rabbitmq.reply-to', noAck: true });
    const responder = await amqp.connect(warren.amqpUrl);
    const ch = await responder.createConfirmChannel();
    const returned: string[] = [];
    ch.on('return', (m) => returned.push(m.fields.routingKey));
    await ch.assertQueue('rpc-gone', { exclusive: true });
    const name = await new Promise<string>((resolve) => {
      void ch.consume('rpc-gone', (m) => m && resolve(m.properties.replyTo as string), { noAck: true });
      void requester.publish({ routingKey: 'rpc-gone', body: 'q', properties: { replyTo: 'amq.rabbitmq.reply-to' } });
    });
    await requester.close();
    ch.publish('', name, Buffer.from('late'), { mandatory: true });
    await ch.waitForConfirms();
    await until(() => returned.length === 1, 'the return');
    expect(returned).toEqual([name]);
    await responder.close();
  });
});
