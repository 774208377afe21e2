/**
 * RabbitMQ's firehose: with a vhost's `tracing` on, publishes and deliveries are also published to
 * `amq.rabbitmq.trace` (`publish.<exchange>`, `deliver.<queue>`) with RabbitMQ's trace headers. Real
 * clients bind a queue there, as RabbitMQ's users do.
 */
import amqp, { type ConsumeMessage } from 'amqplib';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, unique, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeEach(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterEach(async () => {
  await warren.stop();
});

async function setTracing(on: boolean, vhost = '%2F'): Promise<void> {
  const response = await api('PUT', `/api/vhosts/${vhost}`, { body: { tracing: on } });
  expect(response.status).toBe(204);
}

/** Collects messages from a queue on an amqplib channel. */
function collect(channel: amqp.Channel, queue: string): { messages: ConsumeMessage[]; waitFor(count: number): Promise<void> } {
  const messages: ConsumeMessage[] = [];
  const waiters: Array<() => void> = [];
  void channel.consume(
    queue,
    (message) => {
      if (!message) return;
      messages.push(message);
      for (const waiter of [...waiters]) waiter();
    },
    { noAck: true },
  );
  return {
    messages,
    waitFor(count) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out: ${messages.length} of ${count} trace messages`)), 10_000);
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          resolve();
        };
        waiters.push(check);
        check();
      });
    },
  };
}

describe('firehose', () => {
  it('is on for a vhost created with tracing, and for one imported from definitions with it', async () => {
    expect((await api('PUT', '/api/vhosts/fh-created', { body: { tracing: true } })).status).toBe(201);
    expect(warren.server.broker.vhost('fh-created').tracer.firehoseOn).toBe(true);
    const imported = await api('POST', '/api/definitions', { body: { vhosts: [{ name: 'fh-imported', tracing: true }] } });
    expect(imported.status).toBeLessThan(300);
    expect(warren.server.broker.vhost('fh-imported').tracer.firehoseOn).toBe(true);
  });

  it('publishes publish.<exchange> and deliver.<queue> trace messages with RabbitMQ headers (amqplib)', async () => {
    await setTracing(true);
    const connection = await amqp.connect(warren.amqpUrl);
    try {
      const tracer = await connection.createChannel();
      const { queue: traceQueue } = await tracer.assertQueue('', { exclusive: true });
      await tracer.bindQueue(traceQueue, 'amq.rabbitmq.trace', '#');
      const traces = collect(tracer, traceQueue);

      const channel = await connection.createChannel();
      const queue = unique('fh-q');
      await channel.assertQueue(queue, { exclusive: true });
      channel.publish('', queue, Buffer.from('firehose body'), { contentType: 'text/plain', headers: { app: 'x' }, messageId: 'id-1' });
      const got = await waitForGet(channel, queue);
      channel.ack(got);
      await traces.waitFor(2);
      const [publish, deliver] = traces.messages as [ConsumeMessage, ConsumeMessage];

      expect(publish.fields.exchange).toBe('amq.rabbitmq.trace');
      expect(publish.fields.routingKey).toBe('publish.');
      expect(publish.content.toString()).toBe('firehose body');
      expect(publish.properties.headers).toEqual({
        exchange_name: '',
        routing_keys: [queue],
        properties: { content_type: 'text/plain', headers: { app: 'x' }, message_id: 'id-1' },
        node: expect.stringMatching(/^warren@/),
        vhost: '/',
        connection: expect.stringMatching(/^amqp-/),
        channel: 2,
        user: 'guest',
        routed_queues: [queue],
      });
      expect(publish.properties.contentType).toBeUndefined();

      expect(deliver.fields.routingKey).toBe(`deliver.${queue}`);
      expect(deliver.content.toString()).toBe('firehose body');
      expect(deliver.properties.headers).toEqual({
        exchange_name: '',
        routing_keys: [queue],
        properties: { content_type: 'text/plain', headers: { app: 'x' }, message_id: 'id-1' },
        node: expect.stringMatching(/^warren@/),
        redelivered: 0,
        vhost: '/',
        connection: publish.properties.headers?.connection,
        channel: 2,
        user: 'guest',
      });
      // Consuming the trace queue is not itself traced: only the two.
      await channel.assertQueue(unique('fh-sync'), { exclusive: true });
      expect(traces.messages).toHaveLength(2);
    } finally {
      await connection.close();
    }
  });

  it('traces the JSON client and the management API publish, and an unroutable publish with no routed queues', async () => {
    await setTracing(true);
    const watcher = await warren.connect();
    const { queue: traceQueue } = await watcher.queueDeclare({ exclusive: true });
    await watcher.queueBind({ queue: traceQueue, exchange: 'amq.rabbitmq.trace', routingKey: 'publish.#' });
    const conn = await warren.connect();
    await conn.publish({ exchange: 'amq.topic', routingKey: 'nobody.home', body: 'lost' });
    const published = await api('POST', '/api/exchanges/%2F/amq.topic/publish', {
      body: { routing_key: 'also.nobody', payload: 'via http', payload_encoding: 'string', properties: {} },
    });
    expect(published.status).toBe(200);
    const first = await watcher.get({ queue: traceQueue, noAck: true });
    const second = await watcher.get({ queue: traceQueue, noAck: true });
    expect(first?.routingKey).toBe('publish.amq.topic');
    expect(first?.properties.headers).toMatchObject({ exchange_name: 'amq.topic', routing_keys: ['nobody.home'], routed_queues: [], channel: 1, user: 'guest', vhost: '/' });
    expect(new TextDecoder().decode(first?.body)).toBe('lost');
    expect(second?.properties.headers).toMatchObject({ exchange_name: 'amq.topic', routing_keys: ['also.nobody'], routed_queues: [], connection: '', channel: 0, user: 'guest' });

    // The management API's get is a delivery too.
    await watcher.queueBind({ queue: traceQueue, exchange: 'amq.rabbitmq.trace', routingKey: 'deliver.#' });
    const queue = unique('fh-http-get');
    await conn.queueDeclare({ queue });
    await conn.publish({ routingKey: queue, body: 'to get' });
    const got = await api('POST', `/api/queues/%2F/${queue}/get`, { body: { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' } });
    expect(got.status).toBe(200);
    await watcher.get({ queue: traceQueue, noAck: true });
    const delivered = await watcher.get({ queue: traceQueue, noAck: true });
    expect(delivered?.routingKey).toBe(`deliver.${queue}`);
    expect(delivered?.properties.headers).toMatchObject({ redelivered: 0, connection: '', channel: 0, user: 'guest', vhost: '/' });
  });

  it('stops at once when tracing is turned off, and is off again after a restart only if it was off', async () => {
    const dataDir = warren.dataDir;
    await setTracing(true);
    const conn = await warren.connect();
    const traceQueue = unique('fh-durable');
    await conn.queueDeclare({ queue: traceQueue, durable: true });
    await conn.queueBind({ queue: traceQueue, exchange: 'amq.rabbitmq.trace', routingKey: 'publish.#' });
    await conn.publish({ exchange: 'amq.fanout', routingKey: '', body: 'one' });
    await setTracing(false);
    await conn.publish({ exchange: 'amq.fanout', routingKey: '', body: 'two' });
    await setTracing(true);
    await conn.publish({ exchange: 'amq.fanout', routingKey: '', body: 'three' });
    const bodies = async (): Promise<string[]> => {
      const out: string[] = [];
      for (let m = await conn.get({ queue: traceQueue, noAck: true }); m; m = await conn.get({ queue: traceQueue, noAck: true })) {
        out.push(new TextDecoder().decode(m.body));
      }
      return out;
    };
    expect(await bodies()).toEqual(['one', 'three']);
    await conn.close();
    await warren.server.close();

    // Restarted on the same data dir: tracing is still on.
    warren = await startWarren({ dataDir });
    api = apiClient(warren.server.app);
    expect((await api('GET', '/api/vhosts/%2F')).body).toMatchObject({ tracing: true });
    expect(warren.server.broker.vhost('/').tracer.firehoseOn).toBe(true);
    const again = await warren.connect();
    await again.publish({ exchange: 'amq.fanout', routingKey: '', body: 'four' });
    const four = await again.get({ queue: traceQueue, noAck: true });
    expect(four && new TextDecoder().decode(four.body)).toBe('four');
    await setTracing(false);
    await again.close();
    await warren.server.close();
    warren = await startWarren({ dataDir });
    api = apiClient(warren.server.app);
    expect(warren.server.broker.vhost('/').tracer.firehoseOn).toBe(false);
    expect(warren.server.broker.vhost('/').tracer.active).toBe(false);
    await warren.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
});

async function waitForGet(channel: amqp.Channel, queue: string): Promise<amqp.GetMessage> {
  for (let i = 0; i < 500; i++) {
    const got = await channel.get(queue);
    if (got) return got;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing arrived in ${queue}`);
}
