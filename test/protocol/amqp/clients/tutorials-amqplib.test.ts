// RabbitMQ's tutorials 1–7 (https://www.rabbitmq.com/tutorials), written as amqplib's own examples do
// them, over TCP: each asserts what the tutorial promises (which messages arrive where, in which order,
// redelivery, RPC answers, a confirm for every publish).
import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpTarget, uniqueName, type AmqpTarget } from './target.js';
import { collector, deferred, within } from './wait.js';

let target: AmqpTarget;
const open: ChannelModel[] = [];

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await target?.stop();
});

async function connect(): Promise<ChannelModel> {
  const conn = await amqplib.connect(target.url);
  open.push(conn);
  return conn;
}

function text(msg: ConsumeMessage | null): string {
  if (msg === null) throw new Error('consumer cancelled by the server');
  return msg.content.toString('utf8');
}

async function consumeTexts(ch: Channel, queue: string, count: number, what: string): Promise<string[]> {
  const got = collector<string>(count, what);
  await ch.consume(queue, (m) => got.push(text(m)), { noAck: true });
  return got.done;
}

describe(`RabbitMQ tutorials with amqplib over TCP`, () => {
  it('1 hello world: a message sent to a queue reaches its consumer', async () => {
    const conn = await connect();
    const ch = await conn.createChannel();
    const queue = uniqueName('hello');
    const ok = await ch.assertQueue(queue, { durable: false, autoDelete: true });
    expect(ok).toMatchObject({ queue, messageCount: 0, consumerCount: 0 });
    const received = consumeTexts(ch, queue, 1, 'hello messages');
    ch.sendToQueue(queue, Buffer.from('Hello World!'));
    expect(await received).toEqual(['Hello World!']);
    await conn.close();
  });

  it('2 work queues: prefetch 1 holds back the next task until the ack; an unacked task is redelivered when its worker dies', async () => {
    const producerConn = await connect();
    const producer = await producerConn.createChannel();
    const queue = uniqueName('task_queue');
    await producer.assertQueue(queue, { durable: true });
    const tasks = ['task 1.', 'task 2..', 'task 3...', 'task 4....', 'task 5.....'];
    for (const t of tasks) producer.sendToQueue(queue, Buffer.from(t), { persistent: true });

    // The first worker takes one task and dies without acking it.
    const dyingConn = await connect();
    const dying = await dyingConn.createChannel();
    await dying.prefetch(1);
    const firstTask = deferred<ConsumeMessage>();
    await dying.consume(queue, (m) => (m === null ? firstTask.reject(new Error('cancelled')) : firstTask.resolve(m)), { noAck: false });
    const taken = await within(firstTask.promise, 'the first worker gets a task');
    expect(text(taken)).toBe('task 1.');
    expect(taken.fields.redelivered).toBe(false);
    await dyingConn.close();

    // The second worker gets everything, task 1 redelivered, and never more than one unacked at a time.
    const workerConn = await connect();
    const worker = await workerConn.createChannel();
    await worker.prefetch(1);
    const done = collector<{ body: string; redelivered: boolean }>(tasks.length, 'tasks');
    let unacked = 0;
    let maxUnacked = 0;
    await worker.consume(
      queue,
      (m) => {
        if (m === null) return;
        unacked++;
        maxUnacked = Math.max(maxUnacked, unacked);
        // The tutorial's worker "works" before acking; meanwhile prefetch 1 must hold back the next task.
        setTimeout(() => {
          unacked--;
          done.push({ body: text(m), redelivered: m.fields.redelivered });
          worker.ack(m);
        }, 10);
      },
      { noAck: false },
    );
    const got = await done.done;
    expect(got.map((g) => g.body)).toEqual(tasks);
    expect(got.map((g) => g.redelivered)).toEqual([true, false, false, false, false]);
    expect(maxUnacked).toBe(1);
    // Closing the channel waits for close-ok, which the broker sends after the acks before it.
    await worker.close();
    expect(await producer.checkQueue(queue)).toMatchObject({ messageCount: 0, consumerCount: 0 });
    await producer.deleteQueue(queue);
    await workerConn.close();
    await producerConn.close();
  });

  it('3 publish/subscribe: a fanout exchange copies every message to each exclusive server-named queue', async () => {
    const conn = await connect();
    const ch = await conn.createChannel();
    const exchange = uniqueName('logs');
    await ch.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
    const subscribers: Promise<string[]>[] = [];
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const sub = await conn.createChannel();
      const q = await sub.assertQueue('', { exclusive: true });
      names.push(q.queue);
      await sub.bindQueue(q.queue, exchange, '');
      subscribers.push(consumeTexts(sub, q.queue, 3, `log lines on subscriber ${i}`));
    }
    expect(names[0]).toMatch(/^amq\.gen-/);
    expect(names[1]).toMatch(/^amq\.gen-/);
    expect(names[0]).not.toBe(names[1]);
    for (const line of ['info: one', 'warning: two', 'error: three']) ch.publish(exchange, '', Buffer.from(line));
    for (const s of subscribers) expect(await s).toEqual(['info: one', 'warning: two', 'error: three']);
    await ch.deleteExchange(exchange);
    await conn.close();
  });

  it('4 routing: a direct exchange delivers by exact routing key, to every queue bound with it', async () => {
    const conn = await connect();
    const ch = await conn.createChannel();
    const exchange = uniqueName('direct_logs');
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    const errorsOnly = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(errorsOnly.queue, exchange, 'error');
    const everything = await ch.assertQueue('', { exclusive: true });
    for (const severity of ['info', 'warning', 'error']) await ch.bindQueue(everything.queue, exchange, severity);
    const gotErrors = consumeTexts(ch, errorsOnly.queue, 2, 'errors');
    const gotAll = consumeTexts(ch, everything.queue, 5, 'log lines');
    const sent: [string, string][] = [
      ['info', 'i1'], ['error', 'e1'], ['debug', 'dropped'], ['warning', 'w1'], ['info', 'i2'], ['error', 'e2'],
    ];
    for (const [severity, body] of sent) ch.publish(exchange, severity, Buffer.from(body));
    expect(await gotErrors).toEqual(['e1', 'e2']);
    expect(await gotAll).toEqual(['i1', 'e1', 'w1', 'i2', 'e2']);
    await ch.deleteExchange(exchange);
    await conn.close();
  });

  it('5 topics: * matches one word, # zero or more', async () => {
    const conn = await connect();
    const ch = await conn.createChannel();
    const exchange = uniqueName('topic_logs');
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    const bind = async (...patterns: string[]) => {
      const q = await ch.assertQueue('', { exclusive: true });
      for (const p of patterns) await ch.bindQueue(q.queue, exchange, p);
      return q.queue;
    };
    const q1 = await bind('*.orange.*');
    const q2 = await bind('*.*.rabbit', 'lazy.#');
    const qAll = await bind('#');
    const keys = [
      'quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox', 'lazy.brown.fox', 'lazy.pink.rabbit',
      'quick.brown.fox', 'quick.orange.male.rabbit', 'lazy.orange.male.rabbit', 'orange', 'lazy',
    ];
    const got1 = consumeTexts(ch, q1, 3, 'Q1 messages');
    const got2 = consumeTexts(ch, q2, 6, 'Q2 messages');
    const gotAll = consumeTexts(ch, qAll, keys.length, '# messages');
    for (const key of keys) ch.publish(exchange, key, Buffer.from(key));
    expect(await got1).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox']);
    // lazy.pink.rabbit matches both of Q2's bindings and still arrives once.
    expect(await got2).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'lazy.brown.fox', 'lazy.pink.rabbit', 'lazy.orange.male.rabbit', 'lazy']);
    expect(await gotAll).toEqual(keys);
    await ch.deleteExchange(exchange);
    await conn.close();
  });

  it('6 RPC: requests answered through direct reply-to (amq.rabbitmq.reply-to), matched by correlation id', async () => {
    const serverConn = await connect();
    const server = await serverConn.createChannel();
    const rpcQueue = uniqueName('rpc_queue');
    await server.assertQueue(rpcQueue, { durable: false, autoDelete: true });
    await server.prefetch(1);
    const replyTos: string[] = [];
    await server.consume(rpcQueue, (m) => {
      if (m === null) return;
      replyTos.push(m.properties.replyTo as string);
      const n = Number(text(m));
      server.sendToQueue(m.properties.replyTo as string, Buffer.from(String(fib(n))), { correlationId: m.properties.correlationId as string });
      server.ack(m);
    });

    const clientConn = await connect();
    const client = await clientConn.createChannel();
    const answers = new Map<string, string>();
    const got = collector<string>(4, 'RPC answers');
    // Direct reply-to: consume the pseudo-queue with no-ack before publishing with it as replyTo.
    await client.consume(
      'amq.rabbitmq.reply-to',
      (m) => {
        if (m === null) return;
        answers.set(m.properties.correlationId as string, text(m));
        got.push(m.properties.correlationId as string);
      },
      { noAck: true },
    );
    const requests = [['c-10', 10], ['c-1', 1], ['c-20', 20], ['c-30', 30]] as const;
    for (const [id, n] of requests) client.sendToQueue(rpcQueue, Buffer.from(String(n)), { correlationId: id, replyTo: 'amq.rabbitmq.reply-to' });
    await got.done;
    expect(Object.fromEntries(answers)).toEqual({ 'c-10': '55', 'c-1': '1', 'c-20': '6765', 'c-30': '832040' });
    // The broker hands the server a routable name for this channel, not the pseudo-queue's own name.
    for (const r of replyTos) expect(r).toMatch(/^amq\.rabbitmq\.reply-to\..+/);
    await clientConn.close();
    await serverConn.close();
  });

  it('7 publisher confirms: individually, in batches, and asynchronously, every publish is acked', async () => {
    const conn = await connect();
    const ch = await conn.createConfirmChannel();
    const queue = uniqueName('confirms');
    await ch.assertQueue(queue, { durable: true });

    // Individually: wait for each confirm before the next publish.
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => ch.sendToQueue(queue, Buffer.from(`single ${i}`), { persistent: true }, (err) => (err ? reject(err) : resolve())));
    }
    // In batches: publish 10, then wait for all outstanding confirms.
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 10; i++) ch.sendToQueue(queue, Buffer.from(`batch ${batch}.${i}`), { persistent: true });
      await ch.waitForConfirms();
    }
    // Asynchronously: a callback per publish; the broker may confirm several at once (multiple=true).
    const acks: { deliveryTag: number; multiple: boolean }[] = [];
    const nacks: unknown[] = [];
    ch.on('ack', (a: { deliveryTag: number; multiple: boolean }) => acks.push(a));
    ch.on('nack', (n: unknown) => nacks.push(n));
    const callbacks = collector<[number, string]>(100, 'confirm callbacks');
    for (let i = 0; i < 100; i++) {
      ch.sendToQueue(queue, Buffer.from(`async ${i}`), { persistent: true }, (err) => callbacks.push([i, err ? 'nacked' : 'acked']));
    }
    expect((await callbacks.done).sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: 100 }, (_, i) => [i, 'acked']));
    expect(nacks).toEqual([]);
    // The acks seen for the async phase cover its delivery tags 36..135 exactly, each once.
    const covered: number[] = [];
    let last = 35;
    for (const a of acks) {
      expect(a.deliveryTag).toBeGreaterThan(last);
      for (let tag = a.multiple ? last + 1 : a.deliveryTag; tag <= a.deliveryTag; tag++) covered.push(tag);
      last = a.deliveryTag;
    }
    expect(covered).toEqual(Array.from({ length: 100 }, (_, i) => 36 + i));
    expect(await ch.checkQueue(queue)).toMatchObject({ messageCount: 135 });
    await ch.deleteQueue(queue);
    await conn.close();
  });
});

function fib(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
