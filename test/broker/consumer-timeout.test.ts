/**
 * Consumer timeouts, driven by a fake clock: a consumer whose oldest unacked delivery waits longer than
 * its timeout is cancelled (the sink told why) and its unacked deliveries go back to the queue.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/broker/channel.js';
import type { Queue } from '../../src/broker/queue.js';
import type { VHost } from '../../src/broker/vhost.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consumerOptions, expectBrokerError, fill, queueOf, readyBodies, world, type RecordingSink, type World } from './fixtures.js';

const TIMEOUT = 30_000;

let clock: FakeClock;
let w: World;
let vhost: VHost;
let channel: Channel;
let sink: RecordingSink;

function declare(name: string, args: Record<string, unknown> = {}): Queue {
  vhost.declareQueue({ queue: name, arguments: args }, null);
  return queueOf(vhost, name);
}

function setUp(consumerTimeout: number | undefined = TIMEOUT): void {
  clock = new FakeClock();
  w = world({ clock, consumerTimeout });
  vhost = w.vhost;
  ({ channel, sink } = w.channel());
}

beforeEach(() => setUp());

describe('a consumer with unacked deliveries', () => {
  it('is cancelled once its oldest unacked delivery has waited the timeout, and told why', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(TIMEOUT - 1);
    expect(sink.cancelled).toEqual([]);
    clock.advance(1);
    expect(sink.cancelled).toEqual(['c']);
    expect(sink.cancelReasons).toEqual([{ reason: 'consumer_timeout', message: `delivery 1 not acknowledged within ${TIMEOUT} ms` }]);
    expect(channel.consumerList).toEqual([]);
    expect(queue.consumerCount).toBe(0);
  });

  it('counts from the oldest unacked delivery, not the newest', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(20_000);
    fill(vhost, 'q', ['m2']);
    clock.advance(10_000);
    expect(sink.cancelReasons).toEqual([{ reason: 'consumer_timeout', message: `delivery 1 not acknowledged within ${TIMEOUT} ms` }]);
  });

  it('stays while it acks in time: the timer re-arms for the next oldest delivery', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(20_000);
    fill(vhost, 'q', ['m2']);
    channel.ack(1, false);
    // m1's deadline passes with m1 acked: m2 (delivered at 20 s) is the oldest now, due at 50 s.
    clock.advance(29_999);
    expect(sink.cancelled).toEqual([]);
    channel.ack(2, false);
    clock.advance(10 * TIMEOUT);
    expect(sink.cancelled).toEqual([]);
    // Idle and all acked: no timer is left running.
    expect(clock.pending).toBe(0);
    fill(vhost, 'q', ['m3']);
    clock.advance(TIMEOUT);
    expect(sink.cancelReasons).toEqual([{ reason: 'consumer_timeout', message: `delivery 3 not acknowledged within ${TIMEOUT} ms` }]);
  });

  it('acks out of order: the oldest still unacked one decides', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(10_000);
    fill(vhost, 'q', ['m2', 'm3']);
    channel.ack(2, false);
    channel.ack(1, false);
    // m3, delivered at 10 s, is due at 40 s.
    clock.advance(TIMEOUT - 1);
    expect(sink.cancelled).toEqual([]);
    clock.advance(1);
    expect(sink.cancelReasons[0]?.message).toBe(`delivery 3 not acknowledged within ${TIMEOUT} ms`);
  });

  it('keeps its bookkeeping bounded when one delivery stays unacked while many are acked around it', () => {
    const queue = declare('q');
    const consumer = channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['stuck']);
    for (let i = 0; i < 10_000; i++) {
      fill(vhost, 'q', [`m${i}`]);
      channel.ack(i + 2, false);
    }
    expect(consumer.timeout?.tracked).toBeLessThan(200);
    clock.advance(TIMEOUT);
    expect(sink.cancelReasons[0]?.message).toBe(`delivery 1 not acknowledged within ${TIMEOUT} ms`);
  });

  it('nack with requeue and recover settle deliveries too', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    fill(vhost, 'q', ['m1']);
    clock.advance(20_000);
    channel.nack(1, false, true); // redelivered at once to the same consumer as tag 2
    clock.advance(20_000);
    expect(sink.cancelled).toEqual([]);
    channel.recover(); // tag 3 at 40 s
    clock.advance(29_999);
    expect(sink.cancelled).toEqual([]);
    clock.advance(1);
    expect(sink.cancelReasons[0]?.message).toBe(`delivery 3 not acknowledged within ${TIMEOUT} ms`);
  });
});

describe('on timeout', () => {
  it('requeues its unacked deliveries, redelivered and in order, to another consumer', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('slow', { prefetch: 3 }));
    fill(vhost, 'q', ['m1', 'm2', 'm3', 'm4', 'm5']);
    channel.ack(2, false); // m4 takes its place
    expect(readyBodies(queue)).toEqual(['m5']);
    clock.advance(TIMEOUT);
    expect(sink.cancelled).toEqual(['slow']);
    expect(readyBodies(queue)).toEqual(['m1', 'm3', 'm4', 'm5']);
    expect(queue.unackedCount).toBe(0);

    const other = w.channel();
    other.channel.consume(queue, consumerOptions('next'));
    expect(other.sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([
      ['m1', true],
      ['m3', true],
      ['m4', true],
      ['m5', false],
    ]);
  });

  it('hands the requeued deliveries to a consumer already waiting, ahead of newer messages', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('slow', { prefetch: 2 }));
    fill(vhost, 'q', ['m1', 'm2']);
    const other = w.channel();
    other.channel.consume(queue, consumerOptions('next', { arguments: { 'x-consumer-timeout': 0 } }));
    fill(vhost, 'q', ['m3']);
    clock.advance(TIMEOUT);
    expect(other.sink.bodies()).toEqual(['m3', 'm1', 'm2']);
    expect(other.sink.deliveries.map((d) => d.redelivered)).toEqual([false, true, true]);
  });

  it('leaves the channel usable: its other consumers go on, the timed-out tags are unknown, new consumers start', () => {
    const slowQueue = declare('slow');
    const fastQueue = declare('fast');
    channel.consume(slowQueue, consumerOptions('slow'));
    channel.consume(fastQueue, consumerOptions('fast', { arguments: { 'x-consumer-timeout': 0 } }));
    fill(vhost, 'slow', ['s1']);
    fill(vhost, 'fast', ['f1']);
    clock.advance(TIMEOUT);
    expect(sink.cancelled).toEqual(['slow']);
    expect(channel.state).toBe('open');
    expect(channel.consumerList.map((c) => c.tag)).toEqual(['fast']);
    expectBrokerError(() => channel.ack(1, false), 'PRECONDITION_FAILED', /unknown delivery tag 1/);
    channel.ack(2, false);
    fill(vhost, 'fast', ['f2']);
    expect(sink.bodies('fast')).toEqual(['f1', 'f2']);
    // The same tag may consume again, and receives the requeued message.
    channel.consume(slowQueue, consumerOptions('slow'));
    expect(sink.deliveries.filter((d) => d.consumerTag === 'slow').map((d) => [d.body, d.redelivered])).toEqual([
      ['s1', false],
      ['s1', true],
    ]);
  });

  it('deletes an auto-delete queue whose last consumer it was, as a cancel does', () => {
    vhost.declareQueue({ queue: 'auto', autoDelete: true }, null);
    channel.consume(queueOf(vhost, 'auto'), consumerOptions('c'));
    fill(vhost, 'auto', ['m1']);
    clock.advance(TIMEOUT);
    expect(vhost.queues.has('auto')).toBe(false);
  });
});

describe('which timeout applies', () => {
  it('the consume argument wins over the queue argument, which wins over the broker', () => {
    const queue = declare('q', { 'x-consumer-timeout': 5_000 });
    const byQueue = channel.consume(queue, consumerOptions('by-queue'));
    const byConsume = channel.consume(queue, consumerOptions('by-consume', { arguments: { 'x-consumer-timeout': 60_000 } }));
    const byBroker = channel.consume(declare('plain'), consumerOptions('by-broker'));
    expect([byQueue.timeoutMs, byConsume.timeoutMs, byBroker.timeoutMs]).toEqual([5_000, 60_000, TIMEOUT]);
  });

  it('acts on the queue argument', () => {
    const queue = declare('q', { 'x-consumer-timeout': 5_000 });
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(5_000);
    expect(sink.cancelReasons[0]?.message).toBe('delivery 1 not acknowledged within 5000 ms');
  });

  it('acts on the consume argument over a shorter queue argument', () => {
    const queue = declare('q', { 'x-consumer-timeout': 5_000 });
    channel.consume(queue, consumerOptions('c', { arguments: { 'x-consumer-timeout': 8_000 } }));
    fill(vhost, 'q', ['m1']);
    clock.advance(7_999);
    expect(sink.cancelled).toEqual([]);
    clock.advance(1);
    expect(sink.cancelReasons[0]?.message).toBe('delivery 1 not acknowledged within 8000 ms');
  });

  it('0 turns it off at each level', () => {
    const offByConsume = declare('a', { 'x-consumer-timeout': 5_000 });
    channel.consume(offByConsume, consumerOptions('a', { arguments: { 'x-consumer-timeout': 0 } }));
    channel.consume(declare('b', { 'x-consumer-timeout': 0 }), consumerOptions('b'));
    fill(vhost, 'a', ['a1']);
    fill(vhost, 'b', ['b1']);
    clock.advance(100 * TIMEOUT);
    expect(sink.cancelled).toEqual([]);
    expect(clock.pending).toBe(0);

    setUp(0);
    channel.consume(declare('q'), consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(100 * TIMEOUT);
    expect(sink.cancelled).toEqual([]);
    expect(channel.consumerList[0]?.timeoutMs).toBe(0);
  });

  it('a queue argument turns it on when the broker has it off', () => {
    setUp(0);
    channel.consume(declare('q', { 'x-consumer-timeout': 1_000 }), consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    clock.advance(1_000);
    expect(sink.cancelled).toEqual(['c']);
  });

  it('the broker default is 30 minutes, as RabbitMQ', () => {
    clock = new FakeClock();
    w = world({ clock });
    ({ channel, sink } = w.channel());
    vhost = w.vhost;
    expect(channel.consume(declare('q'), consumerOptions('c')).timeoutMs).toBe(1_800_000);
  });

  it('never applies to noAck consumers', () => {
    const queue = declare('q', { 'x-consumer-timeout': 1_000 });
    const consumer = channel.consume(queue, consumerOptions('c', { noAck: true, arguments: { 'x-consumer-timeout': 1_000 } }));
    fill(vhost, 'q', ['m1']);
    clock.advance(100 * TIMEOUT);
    expect(sink.cancelled).toEqual([]);
    expect(consumer.timeoutMs).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it.each([-1, 1.5, '1000', true, null, 315_360_000_001])('refuses x-consumer-timeout %j on consume with 406', (value) => {
    const queue = declare('q');
    expectBrokerError(
      () => channel.consume(queue, consumerOptions('c', { arguments: { 'x-consumer-timeout': value } })),
      'PRECONDITION_FAILED',
      /invalid arg 'x-consumer-timeout'/,
    );
    expect(queue.consumerCount).toBe(0);
    expect(channel.consumerList).toEqual([]);
  });
});

describe('no longer timed', () => {
  it('after the client cancels: its unacked deliveries stay with it, as for any cancel', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    channel.cancel('c');
    clock.advance(10 * TIMEOUT);
    expect(sink.cancelled).toEqual([]);
    expect(clock.pending).toBe(0);
    channel.ack(1, false);
  });

  it('after the channel closes', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    channel.close();
    expect(clock.pending).toBe(0);
    expect(readyBodies(queue)).toEqual(['m1']);
  });

  it('after its queue is deleted (cancelled without a reason)', () => {
    const queue = declare('q');
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['m1']);
    vhost.deleteQueue('q');
    expect(sink.cancelReasons).toEqual([undefined]);
    expect(clock.pending).toBe(0);
  });
});
