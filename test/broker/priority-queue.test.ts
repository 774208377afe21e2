import { describe, expect, it } from 'vitest';
import type { VHost } from '../../src/broker/vhost.js';
import { consumerOptions, publish, queueOf, readyBodies, text, world } from './fixtures.js';

/** Publishes `body` to queue `q` with this priority (none when undefined). */
function send(vhost: VHost, body: string, priority?: number): void {
  publish(vhost, '', 'q', body, priority === undefined ? {} : { priority });
}

function priorityQueue(args: Record<string, unknown> = {}): ReturnType<typeof world> {
  const w = world();
  w.vhost.declareQueue({ queue: 'q', arguments: { 'x-max-priority': 5, ...args } }, null);
  return w;
}

describe('priority queue (x-max-priority)', () => {
  it('delivers the highest priority first, FIFO within a level', () => {
    const w = priorityQueue();
    const { vhost } = w;
    send(vhost, 'a1', 1);
    send(vhost, 'b3', 3);
    send(vhost, 'c1', 1);
    send(vhost, 'd5', 5);
    send(vhost, 'e3', 3);
    const { channel, sink } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c', { noAck: true }));
    expect(sink.bodies()).toEqual(['d5', 'b3', 'e3', 'a1', 'c1']);
  });

  it('counts a message without a priority as 0 and one above the maximum as the maximum', () => {
    const { vhost } = priorityQueue();
    send(vhost, 'none');
    send(vhost, 'zero', 0);
    send(vhost, 'max', 5);
    send(vhost, 'above', 200);
    send(vhost, 'one', 1);
    // 'above' counts as 5, after 'max' which came first.
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['max', 'above', 'one', 'none', 'zero']);
  });

  it('puts a requeued message back at its original position within its level', () => {
    const w = priorityQueue();
    const { vhost } = w;
    for (const [body, priority] of [
      ['a2', 2],
      ['b2', 2],
      ['c0', 0],
      ['d2', 2],
    ] as const)
      send(vhost, body, priority);
    const { channel, sink } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c', { prefetch: 2 }));
    expect(sink.bodies()).toEqual(['a2', 'b2']);
    // A newer message of a higher level still goes first; the requeued ones go back in front of d2.
    send(vhost, 'e4', 4);
    channel.cancel('c');
    channel.nack(sink.last().deliveryTag, false, true); // b2
    channel.nack(sink.deliveries[0]?.deliveryTag as number, false, true); // a2
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['e4', 'a2', 'b2', 'd2', 'c0']);
    const redelivered = queueOf(vhost, 'q').peek(0, 5).map((entry) => entry.redelivered);
    expect(redelivered).toEqual([false, true, true, false, false]);
  });

  it('get takes the highest priority, and peek shows queue order from an offset', () => {
    const w = priorityQueue();
    const { vhost } = w;
    send(vhost, 'low', 1);
    send(vhost, 'high', 4);
    send(vhost, 'mid', 2);
    const queue = queueOf(vhost, 'q');
    expect(queue.peek(1, 5).map(text)).toEqual(['mid', 'low']);
    const { channel } = w.channel();
    expect(text(channel.get(queue, true)?.entry ?? fail())).toBe('high');
    expect(readyBodies(queue)).toEqual(['mid', 'low']);
  });

  it('drop-head drops the head, the highest priority, as RabbitMQ does', () => {
    const { vhost, observer } = priorityQueue({ 'x-max-length': 3 });
    send(vhost, 'a1', 1);
    send(vhost, 'b3', 3);
    send(vhost, 'c2', 2);
    send(vhost, 'd1', 1); // the head, b3, makes room
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['c2', 'a1', 'd1']);
    expect(observer.bodies()).toEqual(['b3']);
  });

  it('drop-head drops a message that would itself be the head (RabbitMQ enqueues, then drops heads)', () => {
    const { vhost, observer } = priorityQueue({ 'x-max-length': 2 });
    send(vhost, 'a1', 1);
    send(vhost, 'b2', 2);
    send(vhost, 'c5', 5);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['b2', 'a1']);
    expect(observer.bodies()).toEqual(['c5']);
  });

  it('x-max-length-bytes drops from the head across levels', () => {
    const { vhost, observer } = priorityQueue({ 'x-max-length-bytes': 6 });
    send(vhost, 'aa', 1);
    send(vhost, 'bb', 3);
    send(vhost, 'cc', 2);
    send(vhost, 'dd', 0);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['cc', 'aa', 'dd']);
    expect(observer.bodies()).toEqual(['bb']);
  });

  it('purge empties every level', () => {
    const { vhost } = priorityQueue();
    send(vhost, 'a', 1);
    send(vhost, 'b', 4);
    const queue = queueOf(vhost, 'q');
    expect(queue.purge()).toBe(2);
    expect(queue.messageCount).toBe(0);
    send(vhost, 'c', 0);
    expect(readyBodies(queue)).toEqual(['c']);
  });

  it('a queue without x-max-priority, or with 0, ignores priorities', () => {
    for (const args of [{}, { 'x-max-priority': 0 }]) {
      const { vhost } = world();
      vhost.declareQueue({ queue: 'q', arguments: args }, null);
      send(vhost, 'a', 1);
      send(vhost, 'b', 9);
      send(vhost, 'c');
      expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['a', 'b', 'c']);
    }
  });
});

function fail(): never {
  throw new Error('expected a message');
}
