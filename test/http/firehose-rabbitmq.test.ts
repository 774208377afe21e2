/**
 * The firehose side by side with RabbitMQ's: the same publish and get through amqplib on each broker, and
 * the trace messages compared header by header. Runs only with WARREN_TEST_AGAINST_RABBITMQ=1 and a
 * RabbitMQ answering on localhost:5672 (its management API on :15672, guest/guest); skips otherwise.
 */
import amqp from 'amqplib';
import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startWarren } from '../helpers/warren.js';
import { uniqueName } from '../protocol/amqp/clients/target.js';
import { basic } from './support.js';

const RABBITMQ_AMQP = process.env['WARREN_TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const RABBITMQ_HTTP = process.env['WARREN_TEST_RABBITMQ_HTTP'] ?? 'http://127.0.0.1:15672';

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const rabbitmq = process.env['WARREN_TEST_AGAINST_RABBITMQ'] === '1' && (await answers(5672));

interface Traced {
  readonly routingKey: string;
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

/** Turns tracing on, publishes one message and gets it, and returns the two trace messages; tracing is turned off again. */
async function traceOnce(amqpUrl: string, httpUrl: string): Promise<Traced[]> {
  const setTracing = async (tracing: boolean): Promise<void> => {
    const response = await fetch(`${httpUrl}/api/vhosts/%2F`, {
      method: 'PUT',
      headers: { authorization: basic('guest', 'guest'), 'content-type': 'application/json' },
      body: JSON.stringify({ tracing }),
    });
    if (response.status !== 204 && response.status !== 201) throw new Error(`tracing ${tracing}: ${response.status}`);
  };
  await setTracing(true);
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const traceQueue = uniqueName('firehose-trace');
    const queue = uniqueName('firehose-q');
    await channel.assertQueue(traceQueue, { exclusive: true });
    await channel.bindQueue(traceQueue, 'amq.rabbitmq.trace', `#.${queue}`);
    await channel.bindQueue(traceQueue, 'amq.rabbitmq.trace', 'publish.amq.direct');
    await channel.assertQueue(queue, { exclusive: true });
    await channel.bindQueue(queue, 'amq.direct', queue);
    channel.publish('amq.direct', queue, Buffer.from('compare me'), {
      contentType: 'text/plain',
      messageId: 'cmp-1',
      priority: 4,
      headers: { custom: 'yes', CC: ['cc.key'] },
    });
    const got = await until(() => channel.get(queue, { noAck: true }));
    expect(got.content.toString()).toBe('compare me');
    const traced: Traced[] = [];
    for (let i = 0; i < 2; i++) {
      const message = await until(() => channel.get(traceQueue, { noAck: true }));
      traced.push({ routingKey: message.fields.routingKey, body: message.content.toString(), headers: message.properties.headers ?? {} });
    }
    return traced.map((trace) => ({ ...trace, routingKey: trace.routingKey.replace(queue, '<queue>'), headers: normalise(trace.headers, queue) }));
  } finally {
    await connection.close();
    await setTracing(false);
  }
}

/** What differs by nature between brokers and runs: names of nodes, connections and queues. */
function normalise(headers: Record<string, unknown>, queue: string): Record<string, unknown> {
  const text = JSON.stringify(headers).replaceAll(queue, '<queue>');
  const out = JSON.parse(text) as Record<string, unknown>;
  out.node = typeof out.node === 'string' ? '<node>' : out.node;
  out.connection = typeof out.connection === 'string' ? '<connection>' : out.connection;
  return out;
}

async function until<T>(attempt: () => Promise<T | false>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await attempt();
    if (value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('nothing arrived');
}

describe.skipIf(!rabbitmq)('firehose compared with RabbitMQ', () => {
  it('sends the same trace messages, header for header', async () => {
    const warren = await startWarren();
    try {
      const ours = await traceOnce(warren.amqpUrl, warren.url);
      const theirs = await traceOnce(RABBITMQ_AMQP, RABBITMQ_HTTP);
      expect(ours).toEqual(theirs);
    } finally {
      await warren.stop();
    }
  });
});
