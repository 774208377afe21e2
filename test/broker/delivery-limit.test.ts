/**
 * Delivery counts and `x-delivery-limit`: every way a delivery comes back to its queue counts, and a
 * message returned more times than the limit dies with reason `delivery_limit` (RabbitMQ's quorum rule).
 */
import { describe, expect, it } from 'vitest';
import type { Headers } from '../../src/broker/message.js';
import type { Queue, QueueEntry } from '../../src/broker/queue.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consumerOptions, expectBrokerError, fill, queueOf, readyBodies, text, world } from './fixtures.js';

function setup(args: Record<string, unknown> = {}, consumerTimeout?: number) {
  const clock = new FakeClock();
  const w = world({ clock, consumerTimeout });
  w.vhost.declareExchange({ exchange: 'dlx', type: 'fanout' });
  w.vhost.declareQueue({ queue: 'dead', arguments: {} }, null);
  w.vhost.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue' });
  w.vhost.declareQueue({ queue: 'work', arguments: args }, null);
  const work = queueOf(w.vhost, 'work');
  const dead = queueOf(w.vhost, 'dead');
  return { ...w, clock, work, dead };
}

/** Gets the head with manual ack and says what count it came with. */
function getOne(channel: ReturnType<ReturnType<typeof world>['channel']>['channel'], queue: Queue): { tag: number; entry: QueueEntry; count: number } {
  const got = channel.get(queue, false);
  if (!got) throw new Error(`queue '${queue.name}' is empty`);
  return { tag: got.deliveryTag, entry: got.entry, count: got.entry.deliveryCount };
}

describe('delivery count', () => {
  it('goes up by one on every kind of return: nack, reject, recover, channel close, consumer timeout', () => {
    const w = setup({}, 1_000);
    fill(w.vhost, 'work', ['m']);
    const { channel } = w.channel();
    const seen: number[] = [];

    let got = getOne(channel, w.work);
    seen.push(got.count);
    channel.nack(got.tag, false, true);

    got = getOne(channel, w.work);
    seen.push(got.count);
    channel.nack(got.tag, false, true); // reject is nack of one: the same path

    got = getOne(channel, w.work);
    seen.push(got.count);
    channel.recover();

    got = getOne(channel, w.work);
    seen.push(got.count);
    channel.close();

    const other = w.channel();
    other.channel.consume(w.work, consumerOptions('c'));
    seen.push(other.sink.last().entry.deliveryCount);
    w.clock.advance(1_001);
    expect(other.sink.cancelReasons[0]?.reason).toBe('consumer_timeout');

    got = getOne(other.channel, w.work);
    seen.push(got.count);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.entry.redelivered).toBe(true);
  });

  it('is kept per queue: a fan-out copy returned in one queue is still at 0 in the other', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'fan', type: 'fanout' });
    w.vhost.declareQueue({ queue: 'other', arguments: {} }, null);
    w.vhost.bind({ source: 'fan', destination: 'work', destinationKind: 'queue' });
    w.vhost.bind({ source: 'fan', destination: 'other', destinationKind: 'queue' });
    w.vhost.publish({ exchange: 'fan', routingKey: '', properties: {}, body: new TextEncoder().encode('f') });
    const { channel } = w.channel();
    channel.nack(getOne(channel, w.work).tag, false, true);
    expect(getOne(channel, w.work).count).toBe(1);
    expect(getOne(channel, queueOf(w.vhost, 'other')).count).toBe(0);
  });

  it('leaves never-returned messages bare in the ready list (no entry per backlog message)', () => {
    const w = setup();
    fill(w.vhost, 'work', ['a', 'b']);
    expect(w.work.peek(0, 2).map((e) => e.deliveryCount)).toEqual([0, 0]);
  });
});

describe('x-delivery-limit', () => {
  it('has no limit by default: a message can come back any number of times', () => {
    const w = setup({ 'x-dead-letter-exchange': 'dlx' });
    fill(w.vhost, 'work', ['m']);
    const { channel } = w.channel();
    for (let i = 0; i < 100; i++) channel.nack(getOne(channel, w.work).tag, false, true);
    expect(getOne(channel, w.work).count).toBe(100);
    expect(w.dead.messageCount).toBe(0);
  });

  it('dead-letters a message returned more times than the limit, with reason delivery_limit and x-death', () => {
    const w = setup({ 'x-delivery-limit': 2, 'x-dead-letter-exchange': 'dlx' });
    fill(w.vhost, 'work', ['m']);
    const { channel } = w.channel();
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const got = getOne(channel, w.work);
      counts.push(got.count);
      channel.nack(got.tag, false, true);
    }
    expect(counts).toEqual([0, 1, 2]);
    expect(w.work.messageCount).toBe(0);
    expect(readyBodies(w.dead)).toEqual(['m']);
    const [dead] = w.dead.peek(0, 1);
    const headers = dead?.message.content.properties.headers ?? {};
    expect(headers['x-first-death-reason']).toBe('delivery_limit');
    expect((headers['x-death'] as Headers[])[0]).toMatchObject({ count: 1, reason: 'delivery_limit', queue: 'work' });
    expect(w.work.stats.deadLettered.delivery_limit).toBe(1);
    // The copy in the DLQ starts afresh: a new message, never returned there.
    expect(dead?.deliveryCount).toBe(0);
  });

  it('0 means the first return kills it: delivered once, never redelivered', () => {
    const w = setup({ 'x-delivery-limit': 0, 'x-dead-letter-exchange': 'dlx' });
    fill(w.vhost, 'work', ['m']);
    const { channel } = w.channel();
    channel.nack(getOne(channel, w.work).tag, false, true);
    expect(w.work.messageCount).toBe(0);
    expect(readyBodies(w.dead)).toEqual(['m']);
  });

  it('drops the message when the queue has no dead-letter exchange', () => {
    const w = setup({ 'x-delivery-limit': 1 });
    fill(w.vhost, 'work', ['m', 'n']);
    const { channel } = w.channel();
    channel.nack(getOne(channel, w.work).tag, false, true);
    const again = getOne(channel, w.work);
    expect([text(again.entry), again.count]).toEqual(['m', 1]);
    channel.nack(again.tag, false, true);
    expect(readyBodies(w.work)).toEqual(['n']);
    expect(w.dead.messageCount).toBe(0);
    expect(w.observer.bodies()).toContain('m');
  });

  it('applies to returns by a closed channel too', () => {
    const w = setup({ 'x-delivery-limit': 0, 'x-dead-letter-exchange': 'dlx' });
    fill(w.vhost, 'work', ['m']);
    const { channel } = w.channel();
    getOne(channel, w.work);
    channel.close();
    expect(readyBodies(w.dead)).toEqual(['m']);
  });

  it.each([-1, 1.5, '3', true])('refuses %j with 406', (value) => {
    const w = setup();
    expectBrokerError(
      () => w.vhost.declareQueue({ queue: 'bad', arguments: { 'x-delivery-limit': value } }, null),
      'PRECONDITION_FAILED',
      /x-delivery-limit/,
    );
  });
});
