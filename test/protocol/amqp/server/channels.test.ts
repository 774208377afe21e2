// The AMQP server's channel semantics through real amqplib connections: channels' own tag spaces,
// exclusive queues shared by a connection's channels, transactions, confirms, flow, shared prefetch,
// large bodies split by frame_max, sender-selected distribution and direct reply-to's refusals.
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../../../helpers/warren.js';

let warren: RunningWarren;
const open: ChannelModel[] = [];

beforeAll(async () => {
  warren = await startWarren();
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await warren.stop();
});

async function connect(options: { frameMax?: number } = {}): Promise<ChannelModel> {
  const url = options.frameMax ? `${warren.amqpUrl}?frameMax=${options.frameMax}` : warren.amqpUrl;
  const connection = await amqp.connect(url);
  connection.on('error', () => undefined);
  open.push(connection);
  return connection;
}

/** A channel whose errors are collected rather than thrown. */
async function channel(connection: ChannelModel, errors: Error[] = []): Promise<Channel> {
  const ch = await connection.createChannel();
  ch.on('error', (error: Error) => errors.push(error));
  return ch;
}

function collect(ch: Channel, queue: string, options: { noAck?: boolean } = {}): { messages: ConsumeMessage[]; ready: Promise<string> } {
  const messages: ConsumeMessage[] = [];
  const ready = ch.consume(queue, (m) => m && messages.push(m), options).then((ok) => ok.consumerTag);
  return { messages, ready };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('channels', () => {
  it('each channel has its own delivery tags; acking on the wrong channel is 406 there only', async () => {
    const conn = await connect();
    const errors: Error[] = [];
    const a = await channel(conn);
    const b = await channel(conn, errors);
    await a.assertQueue('tags-a', { exclusive: true });
    await a.assertQueue('tags-b', { exclusive: true });
    a.sendToQueue('tags-a', Buffer.from('1'));
    a.sendToQueue('tags-b', Buffer.from('2'));
    const ga = await a.get('tags-a');
    const gb = await b.get('tags-b');
    expect(ga && ga.fields.deliveryTag).toBe(1);
    expect(gb && gb.fields.deliveryTag).toBe(1);
    if (!ga) throw new Error('no message');
    a.ack(ga);
    b.ack({ ...ga, fields: { ...ga.fields, deliveryTag: 7 } });
    await until(() => errors.length > 0, 'the channel error');
    expect(errors[0]?.message).toMatch(/406.*unknown delivery tag 7/);
    // The connection and its other channel carry on.
    expect((await a.checkQueue('tags-a')).messageCount).toBe(0);
  });

  it("an exclusive queue is usable from every channel of its connection, not from another connection's (405)", async () => {
    const conn = await connect();
    const a = await channel(conn);
    const b = await channel(conn);
    const { queue } = await a.assertQueue('', { exclusive: true });
    await b.checkQueue(queue);
    b.sendToQueue(queue, Buffer.from('x'));
    expect(await b.get(queue, { noAck: true })).toBeTruthy();
    const other = await connect();
    const errors: Error[] = [];
    const c = await channel(other, errors);
    await expect(c.get(queue)).rejects.toThrow(/405/);
    // Closing the declaring channel keeps the queue; closing the connection deletes it.
    await a.close();
    await b.checkQueue(queue);
    await conn.close();
    const d = await channel(other);
    await expect(d.checkQueue(queue)).rejects.toThrow(/404/);
  });

  it('a channel error closes that channel and leaves the others working', async () => {
    const conn = await connect();
    const errors: Error[] = [];
    const broken = await channel(conn, errors);
    const fine = await channel(conn);
    await expect(broken.checkExchange('no-such-exchange')).rejects.toThrow(/404/);
    const { queue } = await fine.assertQueue('', { exclusive: true });
    expect(queue).toMatch(/^amq\.gen-/);
  });
});

/** amqplib has no API for tx.*, channel.flow or global qos: its channel sends any method with `rpc`. */
// amqplib's package exports hide lib/, so defs.js is loaded by path.
const require = createRequire(import.meta.url);
const defs = require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as Record<string, number>;
interface RpcChannel {
  rpc(method: number, fields: object, expect: number): Promise<unknown>;
}
function rpc(ch: Channel, method: string, fields: object = {}): Promise<unknown> {
  const id = defs[method];
  const ok = defs[`${method}Ok`];
  if (id === undefined || ok === undefined) throw new Error(`amqplib has no ${method}`);
  return (ch as unknown as RpcChannel).rpc(id, fields, ok);
}

describe('transactions', () => {
  it('hold publishes and acks until commit, and drop them on rollback', async () => {
    const conn = await connect();
    const ch = await channel(conn);
    const observer = await channel(conn);
    await observer.assertQueue('tx-q', { exclusive: true });
    observer.sendToQueue('tx-q', Buffer.from('to-ack'));
    await until(() => true, 'nothing');
    await rpc(ch, 'TxSelect');
    const got = await ch.get('tx-q');
    if (!got) throw new Error('no message');
    ch.ack(got);
    ch.sendToQueue('tx-q', Buffer.from('held'));
    await rpc(ch, 'TxRollback');
    // Rolled back: the publish never happened, the ack neither (the message is still unacked on ch).
    expect((await observer.checkQueue('tx-q')).messageCount).toBe(0);
    ch.ack(got);
    ch.sendToQueue('tx-q', Buffer.from('committed'));
    expect((await observer.checkQueue('tx-q')).messageCount).toBe(0);
    await rpc(ch, 'TxCommit');
    const after = await observer.get('tx-q', { noAck: true });
    expect(after && after.content.toString()).toBe('committed');
    expect(await observer.get('tx-q', { noAck: true })).toBe(false);
  });

  it('refuse commit without select, and mixing with confirm mode (406)', async () => {
    const conn = await connect();
    const plain = await channel(conn);
    await expect(rpc(plain, 'TxCommit')).rejects.toThrow(/406.*not transactional/);
    const confirming = await conn.createConfirmChannel();
    confirming.on('error', () => undefined);
    await expect(rpc(confirming, 'TxSelect')).rejects.toThrow(/406.*cannot switch from confirm to tx mode/);
  });
});

describe('flow control and prefetch', () => {
  it('channel.flow pauses and resumes deliveries on that channel', async () => {
    const conn = await connect();
    const ch = await channel(conn);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    // Resolves on channel.flow-ok.
    await rpc(ch, 'ChannelFlow', { active: false });
    const { messages, ready } = collect(ch, queue, { noAck: true });
    await ready;
    ch.sendToQueue(queue, Buffer.from('a'));
    expect((await ch.checkQueue(queue)).messageCount).toBe(1);
    expect(messages).toHaveLength(0);
    await rpc(ch, 'ChannelFlow', { active: true });
    await until(() => messages.length === 1, 'the delivery after flow resumed');
  });

  it('global qos limits the unacked deliveries of all the channel consumers together', async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.prefetch(2, true);
    const q1 = (await ch.assertQueue('', { exclusive: true })).queue;
    const q2 = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 3; i++) {
      ch.sendToQueue(q1, Buffer.from(`1-${i}`));
      ch.sendToQueue(q2, Buffer.from(`2-${i}`));
    }
    await ch.checkQueue(q2);
    const first = collect(ch, q1);
    const second = collect(ch, q2);
    await Promise.all([first.ready, second.ready]);
    await until(() => first.messages.length + second.messages.length === 2, 'two deliveries');
    const [held] = [...first.messages, ...second.messages];
    // Still two after a pause: the channel's budget is spent until something is acked.
    expect((await ch.checkQueue(q1)).messageCount + (await ch.checkQueue(q2)).messageCount).toBe(4);
    if (!held) throw new Error('no delivery');
    ch.ack(held);
    await until(() => first.messages.length + second.messages.length === 3, 'a third delivery after the ack');
  });
});

describe('content', () => {
  it('splits a large body by the negotiated frame_max both ways', async () => {
    const conn = await connect({ frameMax: 4096 });
    const ch = await channel(conn);
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const body = Buffer.alloc(100_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    ch.sendToQueue(queue, body);
    const got = await (async () => {
      for (let i = 0; i < 100; i++) {
        const m = await ch.get(queue, { noAck: true });
        if (m) return m;
      }
      return false;
    })();
    expect(got && Buffer.compare(got.content, body)).toBe(0);
  });

  it('routes by CC and BCC headers and hides BCC from consumers', async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertExchange('ssd', 'direct', { autoDelete: true });
    const queues = await Promise.all(['a', 'b', 'c'].map(async (key) => {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, 'ssd', key);
      return queue;
    }));
    ch.publish('ssd', 'a', Buffer.from('m'), { CC: ['b'], BCC: ['c'] });
    for (const queue of queues) {
      let got: ConsumeMessage | false = false;
      for (let i = 0; i < 50 && !got; i++) got = (await ch.get(queue, { noAck: true })) as ConsumeMessage | false;
      expect(got && got.properties.headers).toEqual({ CC: ['b'] });
    }
  });
});

describe('direct reply-to', () => {
  it('refuses an acking reply consumer and a reply-to without one (406)', async () => {
    const conn = await connect();
    const acking = await channel(conn);
    await expect(acking.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: false })).rejects.toThrow(/406.*reply consumer cannot acknowledge/);
    const errors: Error[] = [];
    const lonely = await channel(conn, errors);
    lonely.sendToQueue('anything', Buffer.from('q'), { replyTo: 'amq.rabbitmq.reply-to' });
    await until(() => errors.length > 0, 'the channel error');
    expect(errors[0]?.message).toMatch(/406.*fast reply consumer does not exist/);
  });
});

describe('message size', () => {
  it('refuses a body above --max-body-size at its content header (406), and the connection carries on', async () => {
    const small = await startWarren({ maxBodySize: 1000 });
    try {
      const conn = await amqp.connect(small.amqpUrl);
      conn.on('error', () => undefined);
      const errors: Error[] = [];
      const ch = await conn.createChannel();
      ch.on('error', (error: Error) => errors.push(error));
      await ch.assertQueue('sized', { exclusive: true });
      ch.sendToQueue('sized', Buffer.alloc(5000));
      await until(() => errors.length > 0, 'the channel error');
      expect(errors[0]?.message).toMatch(/406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - message size 5000 is larger than configured max size 1000"/);
      const other = await conn.createChannel();
      other.sendToQueue('sized', Buffer.alloc(1000));
      expect((await other.checkQueue('sized')).messageCount).toBe(1);
      await conn.close();
    } finally {
      await small.stop();
    }
  });
});
