/**
 * The same dead-lettering scenarios against a real RabbitMQ (when one answers at RABBIT_URL) and against a
 * real Warren over its WebSocket, the dead-lettered copies compared field by field, death times excepted.
 * RabbitMQ 3.10 sets no `x-last-death-*` (3.13 does, and so does Warren): those are checked on Warren apart.
 * The recorded 3.10.8 capture of the same scenarios is checked in test/broker/dead-letter.test.ts.
 */
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { comparable } from '../helpers/x-death.js';

const RABBIT_URL = 'amqp://guest:guest@localhost:5672';

/** The connection to RabbitMQ, or why there is none. */
const rabbit: ChannelModel | string = await amqp.connect(RABBIT_URL, { timeout: 2000 }).catch((e: unknown) => String(e));

interface Publish {
  readonly headers?: Record<string, unknown>;
  readonly expiration?: string;
  readonly persistent?: boolean;
}

/** The few operations the scenarios need, on either broker. */
interface Side {
  /** A fanout exchange. */
  exchange(name: string): Promise<void>;
  /** Deleted first, so each run starts empty. */
  queue(name: string, args?: Record<string, unknown>): Promise<void>;
  bind(queue: string, exchange: string): Promise<void>;
  publish(queue: string, body: string, options?: Publish): Promise<void>;
  /** Gets one message and nacks it without requeue. */
  reject(queue: string): Promise<void>;
  /** Gets one message (noAck), or null. */
  get(queue: string): Promise<Dead | null>;
}

interface Dead {
  readonly body: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly headers: Record<string, unknown>;
  readonly deliveryMode: number | undefined;
  readonly expiration: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(what: string, attempt: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const got = await attempt();
    if (got !== null) return got;
    await sleep(20);
  }
  throw new Error(`nothing in ${what}`);
}

const take = (side: Side, queue: string): Promise<Dead> => poll(queue, () => side.get(queue));

function warrenSide(conn: WarrenConnection): Side {
  return {
    exchange: (name) => conn.exchangeDeclare({ exchange: name, type: 'fanout' }),
    async queue(name, args = {}) {
      await conn.queueDelete({ queue: name });
      await conn.queueDeclare({ queue: name, arguments: args });
    },
    bind: (queue, exchange) => conn.queueBind({ queue, exchange }),
    async publish(queue, body, { headers, expiration, persistent } = {}) {
      await conn.publish({
        routingKey: queue,
        body,
        properties: { ...(headers && { headers }), ...(expiration && { expiration }), ...(persistent && { deliveryMode: 2 }) },
      });
    },
    async reject(queue) {
      (await poll(queue, () => conn.get({ queue }))).reject(false);
    },
    async get(queue) {
      const m = await conn.get({ queue, noAck: true });
      if (m === null) return null;
      const { headers, deliveryMode, expiration } = m.properties;
      return { body: m.text(), exchange: m.exchange, routingKey: m.routingKey, headers: { ...headers }, deliveryMode, expiration };
    },
  };
}

function rabbitSide(ch: Channel): Side {
  return {
    exchange: async (name) => void (await ch.assertExchange(name, 'fanout', { durable: false })),
    async queue(name, args = {}) {
      await ch.deleteQueue(name);
      await ch.assertQueue(name, { durable: false, arguments: args });
    },
    bind: async (queue, exchange) => void (await ch.bindQueue(queue, exchange, '')),
    async publish(queue, body, options = {}) {
      ch.sendToQueue(queue, Buffer.from(body), options);
    },
    async reject(queue) {
      ch.nack(await poll(queue, async () => (await ch.get(queue, { noAck: false })) || null), false, false);
    },
    async get(queue) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) return null;
      // amqplib decodes 64-bit integers as bigint where they do not fit a number; none here should.
      const headers = JSON.parse(JSON.stringify(m.properties.headers ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as Record<string, unknown>;
      const { deliveryMode, expiration } = m.properties as { deliveryMode?: number; expiration?: string };
      return { body: m.content.toString('utf8'), exchange: m.fields.exchange, routingKey: m.fields.routingKey, headers, deliveryMode, expiration };
    },
  };
}

interface Scenario {
  readonly name: string;
  run(side: Side): Promise<Dead>;
  /** Warren's `x-last-death-queue`, `-reason`, `-exchange`. */
  readonly last: readonly [string, string, string];
}

/** The scenarios of test/fixtures/rabbitmq-x-death.capture.mjs, with the same names. */
const scenarios: readonly Scenario[] = [
  {
    name: 'rejected (nack without requeue), with an expiration',
    last: ['work', 'rejected', ''],
    async run(b) {
      await b.exchange('dlx');
      await b.queue('dead');
      await b.bind('dead', 'dlx');
      await b.queue('work', { 'x-dead-letter-exchange': 'dlx' });
      await b.publish('work', 'r1', { headers: { a: 1 }, expiration: '60000' });
      await b.reject('work');
      return take(b, 'dead');
    },
  },
  {
    name: 'expired by the queue TTL, with x-dead-letter-routing-key',
    last: ['ttlq', 'expired', ''],
    async run(b) {
      await b.exchange('dlx');
      await b.queue('dead2');
      await b.bind('dead2', 'dlx');
      await b.queue('ttlq', { 'x-message-ttl': 10, 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'rk2' });
      await b.publish('ttlq', 'e1', { persistent: true });
      return take(b, 'dead2');
    },
  },
  {
    name: 'expired by the per-message TTL',
    last: ['msgttl', 'expired', ''],
    async run(b) {
      await b.exchange('dlx');
      await b.queue('dead3');
      await b.bind('dead3', 'dlx');
      await b.queue('msgttl', { 'x-dead-letter-exchange': 'dlx' });
      await b.publish('msgttl', 'e2', { expiration: '10' });
      await sleep(200);
      expect(await b.get('msgttl')).toBeNull(); // also makes RabbitMQ look at its head
      return take(b, 'dead3');
    },
  },
  {
    name: 'maxlen (drop-head)',
    last: ['maxq', 'maxlen', ''],
    async run(b) {
      await b.exchange('dlx');
      await b.queue('dead4');
      await b.bind('dead4', 'dlx');
      await b.queue('maxq', { 'x-max-length': 1, 'x-dead-letter-exchange': 'dlx' });
      await b.publish('maxq', 'm1');
      await b.publish('maxq', 'm2');
      return take(b, 'dead4');
    },
  },
  {
    name: 'rejected three times across two queues (count aggregation, order)',
    last: ['loop', 'rejected', ''],
    async run(b) {
      await b.queue('loop', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop2' });
      await b.queue('loop2', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' });
      await b.publish('loop', 'c1');
      await b.reject('loop');
      await b.reject('loop2');
      await b.reject('loop');
      return take(b, 'loop2');
    },
  },
];

/** What both brokers set, times aside: the copy's body, exchange, routing key, delivery mode, expiration and headers. */
const view = (dead: Dead): Dead => ({ ...dead, headers: comparable(dead.headers) });

/** Each x-death `time`, in seconds: a number from Warren, an AMQP timestamp `{"!":"timestamp",value}` from amqplib. */
function deathTimes(headers: Record<string, unknown>): number[] {
  return (headers['x-death'] as Array<{ time: unknown }>).map(({ time }) =>
    typeof time === 'object' && time !== null && 'value' in time ? Number(time.value) : Number(time),
  );
}

function expectRecentDeaths(dead: Dead): void {
  for (const time of deathTimes(dead.headers)) {
    expect(Number.isInteger(time)).toBe(true);
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(60);
  }
}

let warren: RunningWarren;
let warrenBroker: Side;

beforeAll(async () => {
  warren = await startWarren();
  warrenBroker = warrenSide(await warren.connect());
});
afterAll(async () => {
  await warren.stop();
  if (typeof rabbit !== 'string') await rabbit.close();
});

describe("Warren's x-last-death-* (RabbitMQ 3.13's; 3.10 sets none)", () => {
  it.each(scenarios)('$name', async ({ run, last }) => {
    const dead = await run(warrenBroker);
    const { 'x-last-death-queue': queue, 'x-last-death-reason': reason, 'x-last-death-exchange': exchange } = dead.headers;
    expect([queue, reason, exchange]).toEqual(last);
  });
});

describe.skipIf(typeof rabbit === 'string')(
  typeof rabbit === 'string'
    ? `compared with a live RabbitMQ: skipped, no RabbitMQ answers at ${RABBIT_URL} (${rabbit})`
    : `compared with the live RabbitMQ at ${RABBIT_URL}`,
  () => {
    let rabbitBroker: Side;
    beforeAll(async () => {
      if (typeof rabbit === 'string') return;
      rabbitBroker = rabbitSide(await rabbit.createChannel());
    });

    it.each(scenarios)('$name: the same dead-lettered copy, field by field', async ({ run }) => {
      const fromRabbit = await run(rabbitBroker);
      const fromWarren = await run(warrenBroker);
      expect(view(fromWarren)).toEqual(view(fromRabbit));
      expectRecentDeaths(fromRabbit);
      expectRecentDeaths(fromWarren);
    });
  },
);
