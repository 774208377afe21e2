// RabbitMQ's tutorials 1–7 with @cloudamqp/amqp-client, over TCP (AMQPClient) and over WebSocket
// (AMQPWebSocketClient on ws://…/amqp, LavinMQ's way; Warren only — RabbitMQ has no such listener).
import type { AMQPBaseClient, AMQPChannel, AMQPMessage } from '@cloudamqp/amqp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAmqpClient, type AmqpClientTransport } from './amqp-client-connect.js';
import { amqpTarget, againstRabbitMQ, uniqueName, type AmqpTarget } from './target.js';
import { collector, deferred, within } from './wait.js';

type Client = AMQPBaseClient;

let target: AmqpTarget;
const open: Client[] = [];

beforeAll(async () => {
  target = await amqpTarget();
});

afterAll(async () => {
  await Promise.all(open.map((c) => (c.closed ? undefined : c.close().catch(() => undefined))));
  await target?.stop();
});

function body(msg: AMQPMessage): string {
  return msg.bodyToString() ?? '';
}

async function consumeTexts(ch: AMQPChannel, queue: string, count: number, what: string): Promise<string[]> {
  const got = collector<string>(count, what);
  await ch.basicConsume(queue, { noAck: true }, (m) => got.push(body(m)));
  return got.done;
}

const transports: AmqpClientTransport[] = ['tcp', 'ws'];

describe.each(transports)('RabbitMQ tutorials with @cloudamqp/amqp-client over %s', (transport) => {
  const skip = transport === 'ws' && againstRabbitMQ;

  async function connect(): Promise<Client> {
    const conn = await connectAmqpClient(target, transport);
    open.push(conn);
    return conn;
  }

  it.skipIf(skip)('1 hello world', async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const queue = uniqueName('hello');
    const q = await ch.queueDeclare(queue, { durable: false, autoDelete: true });
    expect(q).toMatchObject({ name: queue, messageCount: 0, consumerCount: 0 });
    const received = consumeTexts(ch, queue, 1, 'hello messages');
    await ch.basicPublish('', queue, 'Hello World!');
    expect(await received).toEqual(['Hello World!']);
    await conn.close();
  });

  it.skipIf(skip)('2 work queues: prefetch 1, manual ack, redelivery after a worker dies', async () => {
    const conn = await connect();
    const producer = await conn.channel();
    const queue = uniqueName('task_queue');
    await producer.queueDeclare(queue, { durable: true, autoDelete: false });
    const tasks = ['task 1.', 'task 2..', 'task 3...', 'task 4....', 'task 5.....'];
    for (const t of tasks) await producer.basicPublish('', queue, t, { deliveryMode: 2 });

    const dyingConn = await connect();
    const dying = await dyingConn.channel();
    await dying.prefetch(1);
    const first = deferred<AMQPMessage>();
    await dying.basicConsume(queue, { noAck: false }, (m) => first.resolve(m));
    const taken = await within(first.promise, 'the first worker gets a task');
    expect([body(taken), taken.redelivered]).toEqual(['task 1.', false]);
    await dyingConn.close();

    const workerConn = await connect();
    const worker = await workerConn.channel();
    await worker.prefetch(1);
    const done = collector<{ body: string; redelivered: boolean }>(tasks.length, 'tasks');
    let unacked = 0;
    let maxUnacked = 0;
    await worker.basicConsume(queue, { noAck: false }, (m) => {
      unacked++;
      maxUnacked = Math.max(maxUnacked, unacked);
      setTimeout(() => {
        unacked--;
        done.push({ body: body(m), redelivered: m.redelivered });
        void m.ack();
      }, 10);
    });
    const got = await done.done;
    expect(got.map((g) => g.body)).toEqual(tasks);
    expect(got.map((g) => g.redelivered)).toEqual([true, false, false, false, false]);
    expect(maxUnacked).toBe(1);
    // Closing the channel waits for close-ok, which the broker sends after the acks before it.
    await worker.close();
    const after = await producer.queueDeclare(queue, { passive: true });
    expect(after.messageCount).toBe(0);
    await producer.queueDelete(queue);
    await workerConn.close();
    await conn.close();
  });

  it.skipIf(skip)('3 publish/subscribe: fanout to exclusive server-named queues', async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const exchange = uniqueName('logs');
    await ch.exchangeDeclare(exchange, 'fanout', { durable: false, autoDelete: true });
    const subscribers: Promise<string[]>[] = [];
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      const sub = await conn.channel();
      const q = await sub.queueDeclare('', { exclusive: true });
      names.push(q.name);
      await sub.queueBind(q.name, exchange, '');
      subscribers.push(consumeTexts(sub, q.name, 3, `log lines on subscriber ${i}`));
    }
    expect(names.every((n) => n.startsWith('amq.gen-'))).toBe(true);
    expect(names[0]).not.toBe(names[1]);
    for (const line of ['info: one', 'warning: two', 'error: three']) await ch.basicPublish(exchange, '', line);
    for (const s of subscribers) expect(await s).toEqual(['info: one', 'warning: two', 'error: three']);
    await ch.exchangeDelete(exchange);
    await conn.close();
  });

  it.skipIf(skip)('4 routing: direct exchange', async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const exchange = uniqueName('direct_logs');
    await ch.exchangeDeclare(exchange, 'direct', { durable: false, autoDelete: true });
    const errorsOnly = await ch.queueDeclare('', { exclusive: true });
    await ch.queueBind(errorsOnly.name, exchange, 'error');
    const everything = await ch.queueDeclare('', { exclusive: true });
    for (const severity of ['info', 'warning', 'error']) await ch.queueBind(everything.name, exchange, severity);
    const gotErrors = consumeTexts(ch, errorsOnly.name, 2, 'errors');
    const gotAll = consumeTexts(ch, everything.name, 5, 'log lines');
    const sent: [string, string][] = [['info', 'i1'], ['error', 'e1'], ['debug', 'dropped'], ['warning', 'w1'], ['info', 'i2'], ['error', 'e2']];
    for (const [severity, text] of sent) await ch.basicPublish(exchange, severity, text);
    expect(await gotErrors).toEqual(['e1', 'e2']);
    expect(await gotAll).toEqual(['i1', 'e1', 'w1', 'i2', 'e2']);
    await ch.exchangeDelete(exchange);
    await conn.close();
  });

  it.skipIf(skip)('5 topics: * and #', async () => {
    const conn = await connect();
    const ch = await conn.channel();
    const exchange = uniqueName('topic_logs');
    await ch.exchangeDeclare(exchange, 'topic', { durable: false, autoDelete: true });
    const bind = async (...patterns: string[]) => {
      const q = await ch.queueDeclare('', { exclusive: true });
      for (const p of patterns) await ch.queueBind(q.name, exchange, p);
      return q.name;
    };
    const q1 = await bind('*.orange.*');
    const q2 = await bind('*.*.rabbit', 'lazy.#');
    const keys = ['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox', 'lazy.brown.fox', 'lazy.pink.rabbit', 'quick.brown.fox', 'quick.orange.male.rabbit', 'lazy.orange.male.rabbit', 'orange', 'lazy'];
    const got1 = consumeTexts(ch, q1, 3, 'Q1 messages');
    const got2 = consumeTexts(ch, q2, 6, 'Q2 messages');
    for (const key of keys) await ch.basicPublish(exchange, key, key);
    expect(await got1).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox']);
    expect(await got2).toEqual(['quick.orange.rabbit', 'lazy.orange.elephant', 'lazy.brown.fox', 'lazy.pink.rabbit', 'lazy.orange.male.rabbit', 'lazy']);
    await ch.exchangeDelete(exchange);
    await conn.close();
  });

  it.skipIf(skip)('6 RPC with direct reply-to', async () => {
    const serverConn = await connect();
    const server = await serverConn.channel();
    const rpcQueue = uniqueName('rpc_queue');
    await server.queueDeclare(rpcQueue, { durable: false, autoDelete: true });
    await server.prefetch(1);
    await server.basicConsume(rpcQueue, { noAck: false }, async (m) => {
      const n = Number(body(m));
      await server.basicPublish('', m.properties.replyTo ?? '', String(fib(n)), { correlationId: m.properties.correlationId ?? '' });
      await m.ack();
    });

    const clientConn = await connect();
    const client = await clientConn.channel();
    const answers = new Map<string, string>();
    const got = collector<string>(3, 'RPC answers');
    await client.basicConsume('amq.rabbitmq.reply-to', { noAck: true }, (m) => {
      answers.set(m.properties.correlationId ?? '?', body(m));
      got.push(m.properties.correlationId ?? '?');
    });
    for (const [id, n] of [['a', 7], ['b', 12], ['c', 25]] as const) {
      await client.basicPublish('', rpcQueue, String(n), { correlationId: id, replyTo: 'amq.rabbitmq.reply-to' });
    }
    await got.done;
    expect(Object.fromEntries(answers)).toEqual({ a: '13', b: '144', c: '75025' });
    await clientConn.close();
    await serverConn.close();
  });

  it.skipIf(skip)('7 publisher confirms: individually, in batches, asynchronously', async () => {
    const conn = await connect();
    const ch = await conn.channel();
    await ch.confirmSelect();
    const queue = uniqueName('confirms');
    await ch.queueDeclare(queue, { durable: true, autoDelete: false });
    const tags: number[] = [];
    // basicPublish on a confirm channel resolves with the delivery tag once the broker has confirmed it.
    for (let i = 0; i < 5; i++) tags.push(await ch.basicPublish('', queue, `single ${i}`, { deliveryMode: 2 }));
    for (let batch = 0; batch < 3; batch++) {
      const pending: Promise<number>[] = [];
      for (let i = 0; i < 10; i++) pending.push(ch.basicPublish('', queue, `batch ${batch}.${i}`, { deliveryMode: 2 }));
      tags.push(...(await Promise.all(pending)));
    }
    const asyncConfirms = collector<number>(100, 'async confirms');
    for (let i = 0; i < 100; i++) void ch.basicPublish('', queue, `async ${i}`, { deliveryMode: 2 }).then((tag) => asyncConfirms.push(tag));
    tags.push(...(await asyncConfirms.done).sort((a, b) => a - b));
    expect(tags).toEqual(Array.from({ length: 135 }, (_, i) => i + 1));
    const q = await ch.queueDeclare(queue, { passive: true });
    expect(q.messageCount).toBe(135);
    await ch.queueDelete(queue);
    await conn.close();
  });
});

function fib(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
