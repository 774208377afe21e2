import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deadLetterContent, isDeathCycle } from '../../src/broker/dead-letter.js';
import type { Headers, MessageContent } from '../../src/broker/message.js';
import type { QueueEntry } from '../../src/broker/queue.js';
import type { VHost } from '../../src/broker/vhost.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { comparable } from '../helpers/x-death.js';
import { bytes, publish, queueOf, readyBodies, text, world } from './fixtures.js';

interface Captured {
  readonly fields: { readonly exchange: string; readonly routingKey: string };
  readonly properties: { readonly headers: Record<string, unknown> };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/rabbitmq-3.10.8-x-death.json', import.meta.url), 'utf8')) as Record<
  string,
  Captured
>;

const NOW = 1_796_056_944_500;

function expectLikeFixture(name: string, entry: QueueEntry): void {
  const reference = fixture[name] as Captured;
  const content = entry.message.content;
  expect({ exchange: content.exchange, routingKey: content.routingKey }).toEqual({
    exchange: reference.fields.exchange,
    routingKey: reference.fields.routingKey,
  });
  expect(comparable(content.properties.headers)).toEqual(comparable(reference.properties.headers));
  for (const death of content.properties.headers?.['x-death'] as Headers[]) expect(death.time).toBe(Math.floor(NOW / 1000));
  expect(content.properties.expiration).toBeUndefined();
}

function setup(): ReturnType<typeof world> & { take(queue: string): QueueEntry; reject(queue: string): void } {
  const w = world({ clock: new FakeClock(NOW) });
  const { channel } = w.channel();
  const take = (queue: string): QueueEntry => {
    const got = channel.get(queueOf(w.vhost, queue), true);
    if (!got) throw new Error(`queue '${queue}' is empty`);
    return got.entry;
  };
  const reject = (queue: string): void => {
    const got = channel.get(queueOf(w.vhost, queue), false);
    if (!got) throw new Error(`queue '${queue}' is empty`);
    channel.nack(got.deliveryTag, false, false);
  };
  return { ...w, take, reject };
}

function declare(vhost: VHost, queue: string, args: Record<string, unknown> = {}): void {
  vhost.declareQueue({ queue, arguments: args }, null);
}

function deadLetterExchange(vhost: VHost, ...queues: string[]): void {
  vhost.declareExchange({ exchange: 'dlx', type: 'fanout' });
  for (const queue of queues) {
    declare(vhost, queue);
    vhost.bind({ source: 'dlx', destination: queue, destinationKind: 'queue' });
  }
}

describe('dead-lettering, compared with RabbitMQ 3.10.8', () => {
  it('rejected: republished to the DLX with its own routing key; original-expiration kept, expiration removed', () => {
    const { vhost, reject, take } = setup();
    deadLetterExchange(vhost, 'dead');
    declare(vhost, 'work', { 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'work', 'r1', { headers: { a: 1 }, expiration: '60000' });
    reject('work');
    expect(queueOf(vhost, 'work').messageCount).toBe(0);
    const dead = take('dead');
    expect(text(dead)).toBe('r1');
    expectLikeFixture('rejected', dead);
    expect(dead.message.content.properties.headers).toMatchObject({
      'x-last-death-queue': 'work',
      'x-last-death-reason': 'rejected',
      'x-last-death-exchange': '',
    });
  });

  it('maxlen (drop-head): the head pushed out is dead-lettered', () => {
    const { vhost, take } = setup();
    deadLetterExchange(vhost, 'dead4');
    declare(vhost, 'maxq', { 'x-max-length': 1, 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'maxq', 'm1');
    publish(vhost, '', 'maxq', 'm2');
    expect(readyBodies(queueOf(vhost, 'maxq'))).toEqual(['m2']);
    expectLikeFixture('maxlen', take('dead4'));
  });

  it('expired, queue TTL with a dead-letter routing key (the rule the TTL work calls)', () => {
    const content: MessageContent = { exchange: '', routingKey: 'ttlq', properties: { deliveryMode: 2 }, body: bytes('e1') };
    const dead = deadLetterContent(content, { queue: 'ttlq', reason: 'expired', time: 1 }, { exchange: 'dlx', routingKey: 'rk2' });
    const reference = fixture.expiredQueueTtl as Captured;
    expect([dead.exchange, dead.routingKey]).toEqual([reference.fields.exchange, reference.fields.routingKey]);
    expect(comparable(dead.properties.headers)).toEqual(comparable(reference.properties.headers));
    expect(dead.properties.deliveryMode).toBe(2);
  });

  it('expired, per-message TTL, through a queue: original-expiration recorded', () => {
    const { vhost, take } = setup();
    deadLetterExchange(vhost, 'dead3');
    declare(vhost, 'msgttl', { 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'msgttl', 'e2', { expiration: '10' });
    const queue = queueOf(vhost, 'msgttl');
    const entry = queue.peek(0, 1)[0] as QueueEntry;
    queue.purge();
    queue.bury(entry, 'expired');
    expectLikeFixture('expiredMessageTtl', take('dead3'));
    expect(queue.stats.deadLettered.expired).toBe(1);
  });

  it('rejected three times across two queues: counts aggregate per {queue, reason}, newest first', () => {
    const { vhost, reject, take } = setup();
    declare(vhost, 'loop', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop2' });
    declare(vhost, 'loop2', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' });
    publish(vhost, '', 'loop', 'c1');
    reject('loop');
    reject('loop2');
    reject('loop');
    const dead = take('loop2');
    expectLikeFixture('rejectedThreeTimesAcrossTwoQueues', dead);
    // The first death's fields stay: a raised count keeps its entry's time, exchange and routing keys.
    expect(dead.message.content.properties.headers?.['x-last-death-queue']).toBe('loop');
  });
});

describe('dead-lettering', () => {
  it('x-dead-letter-routing-key overrides the routing key', () => {
    const { vhost, reject, take } = setup();
    vhost.declareExchange({ exchange: 'dlx-direct', type: 'direct' });
    declare(vhost, 'by-key');
    vhost.bind({ source: 'dlx-direct', destination: 'by-key', destinationKind: 'queue', routingKey: 'failed' });
    declare(vhost, 'work', { 'x-dead-letter-exchange': 'dlx-direct', 'x-dead-letter-routing-key': 'failed' });
    publish(vhost, '', 'work', 'x');
    reject('work');
    const dead = take('by-key');
    expect([dead.message.content.exchange, dead.message.content.routingKey]).toEqual(['dlx-direct', 'failed']);
    expect((dead.message.content.properties.headers?.['x-death'] as Headers[])[0]?.['routing-keys']).toEqual(['work']);
  });

  it('a missing dead-letter exchange drops the message, counted', () => {
    const { vhost, broker, reject } = setup();
    declare(vhost, 'work', { 'x-dead-letter-exchange': 'nowhere' });
    publish(vhost, '', 'work', 'x');
    reject('work');
    const queue = queueOf(vhost, 'work');
    expect(queue.messageCount + queue.unackedCount).toBe(0);
    expect(queue.stats.deadLettered.rejected).toBe(1);
    expect(queue.stats.deadLetterDropped).toBe(1);
    expect(broker.stats.deadLetterDropped).toBe(1);
  });

  it('the copy is a publish into the broker: counted on the exchange and broker-wide', () => {
    const { vhost, broker, reject } = setup();
    deadLetterExchange(vhost, 'dead');
    declare(vhost, 'work', { 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'work', 'x');
    const before = broker.stats.publish;
    reject('work');
    expect(broker.stats.publish).toBe(before + 1);
    expect(vhost.exchanges.get('dlx')?.stats.publishOut).toBe(1);
    expect(broker.stats.deadLettered.rejected).toBe(1);
  });

  it('a queue without a dead-letter exchange drops what dies, as before', () => {
    const { vhost, observer, reject } = setup();
    declare(vhost, 'plain', { 'x-max-length': 1 });
    publish(vhost, '', 'plain', 'a');
    publish(vhost, '', 'plain', 'b');
    reject('plain');
    expect(observer.bodies()).toEqual(['a', 'b']);
    expect(queueOf(vhost, 'plain').stats.deadLettered).toEqual({ rejected: 0, expired: 0, maxlen: 0, delivery_limit: 0 });
  });

  it('an automatic cycle is dropped: a maxlen queue dead-lettering to itself', () => {
    const { vhost, observer } = setup();
    declare(vhost, 'self', { 'x-max-length': 1, 'x-dead-letter-exchange': '' });
    publish(vhost, '', 'self', 'a');
    publish(vhost, '', 'self', 'b');
    const queue = queueOf(vhost, 'self');
    expect(readyBodies(queue)).toEqual(['b']);
    expect(queue.stats.deadLettered.maxlen).toBe(1);
    expect(queue.stats.deadLetterDropped).toBe(1);
    expect(observer.bodies()).toEqual(['a']);
  });

  it('an automatic cycle across two full queues ends', () => {
    const { vhost } = setup();
    declare(vhost, 'ping', { 'x-max-length': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'pong' });
    declare(vhost, 'pong', { 'x-max-length': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'ping' });
    publish(vhost, '', 'pong', 'p');
    for (let i = 0; i < 5; i++) publish(vhost, '', 'ping', `m${i}`);
    const ping = queueOf(vhost, 'ping');
    const pong = queueOf(vhost, 'pong');
    expect(ping.messageCount).toBe(1);
    expect(pong.messageCount).toBe(1);
    const held = [...readyBodies(ping), ...readyBodies(pong)];
    expect(held).toContain('m4');
  });

  it('a rejection in the loop is not a cycle: rejecting into itself comes back with a growing count', () => {
    const { vhost, reject } = setup();
    declare(vhost, 'retry', { 'x-dead-letter-exchange': '' });
    publish(vhost, '', 'retry', 'x');
    reject('retry');
    reject('retry');
    const [entry] = queueOf(vhost, 'retry').peek(0, 1);
    const deaths = entry?.message.content.properties.headers?.['x-death'] as Headers[];
    expect(deaths.map((d) => [d.queue, d.reason, d.count])).toEqual([['retry', 'rejected', 2]]);
  });

  it('reject-publish-dlx: the refused message is dead-lettered (maxlen) and the publish still reports the refusal', () => {
    const { vhost, take } = setup();
    deadLetterExchange(vhost, 'dead');
    declare(vhost, 'full', { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'full', 'kept');
    const refused = publish(vhost, '', 'full', 'refused');
    expect(refused.rejectedBy.map((q) => q.name)).toEqual(['full']);
    expect(readyBodies(queueOf(vhost, 'full'))).toEqual(['kept']);
    const dead = take('dead');
    expect(text(dead)).toBe('refused');
    expect((dead.message.content.properties.headers?.['x-death'] as Headers[])[0]).toMatchObject({ reason: 'maxlen', queue: 'full' });
  });

  it('reject-publish (without dlx) only refuses', () => {
    const { vhost } = setup();
    deadLetterExchange(vhost, 'dead');
    declare(vhost, 'full', { 'x-max-length': 0, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'dlx' });
    publish(vhost, '', 'full', 'refused');
    expect(queueOf(vhost, 'dead').messageCount).toBe(0);
  });

  it('a message whose content was released is read back first; the source settles only after the copy', async () => {
    const w = setup();
    deadLetterExchange(w.vhost, 'dead');
    declare(w.vhost, 'work', { 'x-dead-letter-exchange': 'dlx' });
    publish(w.vhost, '', 'work', 'paged');
    const settledIn: string[] = [];
    w.broker.settled = (queue) => void settledIn.push(queue.name);
    const { channel } = w.channel();
    const delivered = channel.get(queueOf(w.vhost, 'work'), false);
    if (!delivered) throw new Error('nothing to get');
    const content = delivered.entry.message.content;
    delivered.entry.message.release({ load: async () => [content] });
    channel.nack(delivered.deliveryTag, false, false);
    expect(queueOf(w.vhost, 'dead').messageCount).toBe(0);
    expect(settledIn).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(text(w.take('dead'))).toBe('paged');
    expect(settledIn).toEqual(['work', 'dead']);
  });

  it('the cycle rule reads the history newest first', () => {
    const deaths = (...d: Array<[string, string]>): Headers => ({ 'x-death': d.map(([queue, reason]) => ({ queue, reason, count: 1 })) });
    expect(isDeathCycle('a', deaths(['b', 'maxlen'], ['a', 'expired']))).toBe(true);
    expect(isDeathCycle('a', deaths(['b', 'rejected'], ['a', 'expired']))).toBe(false);
    expect(isDeathCycle('a', deaths(['a', 'rejected']))).toBe(false);
    expect(isDeathCycle('c', deaths(['b', 'maxlen'], ['a', 'expired']))).toBe(false);
    expect(isDeathCycle('a', { 'x-death': ['junk', { queue: 'a', reason: 'maxlen' }] })).toBe(false);
    expect(isDeathCycle('a', undefined)).toBe(false);
  });
});
