import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/broker/channel.js';
import { BrokerError } from '../../src/broker/errors.js';
import type { Queue } from '../../src/broker/queue.js';
import type { VHost } from '../../src/broker/vhost.js';
import {
  catchBrokerError,
  consumerOptions,
  expectBrokerError,
  fill,
  queueOf,
  readyBodies,
  text,
  world,
  type RecordingSink,
  type World,
} from './fixtures.js';

let w: World;
let vhost: VHost;
let queue: Queue;
let channel: Channel;
let sink: RecordingSink;

const range = (from: number, to: number, prefix = 'm'): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

function declare(name: string, args: Record<string, unknown> = {}): Queue {
  vhost.declareQueue({ queue: name, arguments: args }, null);
  return queueOf(vhost, name);
}

function tagOf(body: string, from: RecordingSink = sink): number {
  const delivery = from.deliveries.find((d) => d.body === body);
  if (!delivery) throw new Error(`'${body}' was not delivered`);
  return delivery.deliveryTag;
}

beforeEach(() => {
  w = world();
  vhost = w.vhost;
  queue = declare('q');
  ({ channel, sink } = w.channel());
});

describe('consume and deliver', () => {
  it('delivers ready messages in order with delivery tags from 1', () => {
    fill(vhost, 'q', range(1, 3));
    const consumer = channel.consume(queue, consumerOptions('c'));
    expect(sink.bodies()).toEqual(['m1', 'm2', 'm3']);
    expect(sink.tags()).toEqual([1, 2, 3]);
    expect(sink.deliveries.every((d) => d.consumer === consumer && !d.redelivered)).toBe(true);
    expect(queue.messageCount).toBe(0);
    expect(queue.unackedCount).toBe(3);
    expect(channel.unackedCount).toBe(3);
    expect(consumer.unacked).toBe(3);
  });

  it('delivers messages published after the consumer started', () => {
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', ['a', 'b']);
    expect(sink.bodies()).toEqual(['a', 'b']);
  });

  it('with start: false waits for queue.dispatch()', () => {
    fill(vhost, 'q', ['a']);
    channel.consume(queue, consumerOptions('c'), { start: false });
    expect(sink.bodies()).toEqual([]);
    queue.dispatch();
    expect(sink.bodies()).toEqual(['a']);
  });

  it('delivery tags are per channel and increase across consumers and gets', () => {
    const other = declare('other');
    fill(vhost, 'q', ['a']);
    fill(vhost, 'other', ['b', 'c']);
    channel.consume(queue, consumerOptions('c1'));
    const got = channel.get(other, false);
    channel.consume(other, consumerOptions('c2'));
    expect(sink.tags()).toEqual([1, 3]);
    expect(got?.deliveryTag).toBe(2);
    const second = w.channel();
    fill(vhost, 'other', ['d']);
    second.channel.consume(declare('third'), consumerOptions('x'));
    fill(vhost, 'third', ['e']);
    expect(second.sink.tags()).toEqual([1]);
  });
});

describe('prefetch', () => {
  it('a consumer never holds more unacked deliveries than its prefetch', () => {
    const consumer = channel.consume(queue, consumerOptions('c', { prefetch: 3 }));
    let maxOutstanding = 0;
    sink.onDeliver = () => {
      maxOutstanding = Math.max(maxOutstanding, consumer.unacked, channel.unackedCount);
    };
    fill(vhost, 'q', range(1, 20));
    expect(sink.bodies()).toEqual(['m1', 'm2', 'm3']);
    expect(queue.messageCount).toBe(17);
    // settle in various ways; each settlement frees exactly one slot
    channel.ack(1, false);
    expect(sink.bodies()).toEqual(range(1, 4));
    channel.nack(2, false, false);
    channel.ack(4, false);
    expect(sink.bodies()).toEqual(range(1, 6));
    channel.ack(6, true);
    expect(sink.deliveries).toHaveLength(9);
    while (channel.unackedCount > 0) channel.ack(sink.last().deliveryTag, true);
    expect(sink.bodies()).toEqual(range(1, 20)); // each delivered once (m2 then dropped)
    expect(maxOutstanding).toBeLessThanOrEqual(3);
    expect(queue.messageCount).toBe(0);
  });

  it('requeued messages count against the prefetch when redelivered', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 2 }));
    fill(vhost, 'q', range(1, 5));
    channel.nack(1, false, true);
    expect(sink.bodies()).toEqual(['m1', 'm2', 'm1']);
    expect(channel.unackedCount).toBe(2);
  });

  it('qos sets the default for consumers started afterwards only', () => {
    const early = channel.consume(queue, consumerOptions('early'));
    channel.prefetch = 1;
    const late = channel.consume(declare('q2'), consumerOptions('late'));
    const explicit = channel.consume(declare('q3'), consumerOptions('explicit', { prefetch: 5 }));
    expect([early.prefetch, late.prefetch, explicit.prefetch]).toEqual([0, 1, 5]);
    fill(vhost, 'q', range(1, 4));
    fill(vhost, 'q2', range(1, 4, 'n'));
    expect(sink.bodies('early')).toHaveLength(4);
    expect(sink.bodies('late')).toEqual(['n1']);
  });

  it('prefetch 0 is unlimited', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 0 }));
    fill(vhost, 'q', range(1, 100));
    expect(sink.deliveries).toHaveLength(100);
  });

  it('is per consumer: a full consumer does not block another on the same channel', () => {
    channel.consume(queue, consumerOptions('slow', { prefetch: 1 }));
    channel.consume(queue, consumerOptions('fast', { prefetch: 10 }));
    fill(vhost, 'q', range(1, 6));
    expect(sink.bodies('slow')).toEqual(['m1']);
    expect(sink.bodies('fast')).toEqual(['m2', 'm3', 'm4', 'm5', 'm6']);
  });
});

describe('round-robin', () => {
  it('consumers of one queue take turns', () => {
    const other = w.channel();
    channel.consume(queue, consumerOptions('a'));
    other.channel.consume(queue, consumerOptions('b'));
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', range(1, 7));
    expect(sink.bodies('a')).toEqual(['m1', 'm4', 'm7']);
    expect(other.sink.bodies('b')).toEqual(['m2', 'm5']);
    expect(sink.bodies('c')).toEqual(['m3', 'm6']);
  });

  it('continues among the remaining consumers after a cancel', () => {
    channel.consume(queue, consumerOptions('a'));
    channel.consume(queue, consumerOptions('b'));
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', range(1, 2)); // a, b
    channel.cancel('b');
    fill(vhost, 'q', range(3, 6));
    expect(sink.bodies('a')).toEqual(['m1', 'm4', 'm6']);
    expect(sink.bodies('b')).toEqual(['m2']);
    expect(sink.bodies('c')).toEqual(['m3', 'm5']);
  });

  it('skips consumers without capacity', () => {
    channel.consume(queue, consumerOptions('a', { prefetch: 1 }));
    channel.consume(queue, consumerOptions('b'));
    fill(vhost, 'q', range(1, 4));
    expect(sink.bodies('a')).toEqual(['m1']);
    expect(sink.bodies('b')).toEqual(['m2', 'm3', 'm4']);
  });
});

describe('ack', () => {
  beforeEach(() => {
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', range(1, 5));
  });

  it('acks one delivery', () => {
    channel.ack(2, false);
    expect(channel.unackedCount).toBe(4);
    expect(queue.unackedCount).toBe(4);
    expect(w.observer.bodies()).toEqual(['m2']);
  });

  it('multiple acks everything up to and including the tag', () => {
    channel.ack(2, false);
    channel.ack(4, true);
    expect(channel.unackedCount).toBe(1);
    expect(w.observer.bodies()).toEqual(['m2', 'm1', 'm3', 'm4']);
    expectBrokerError(() => channel.ack(3, false), 'PRECONDITION_FAILED');
    channel.ack(5, false);
    expect(channel.unackedCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
  });

  it('multiple with tag 0 acks everything', () => {
    channel.ack(0, true);
    expect(channel.unackedCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
    expect(sink.deliveries[0]?.consumer.unacked).toBe(0);
  });

  it('an unknown tag is 406 PRECONDITION_FAILED and changes nothing', () => {
    const error = catchBrokerError(() => channel.ack(99, false));
    expect(error).toBeInstanceOf(BrokerError);
    expect(error.reason).toBe('PRECONDITION_FAILED');
    expect(error.code).toBe(406);
    expect(error.message).toContain('99');
    expectBrokerError(() => channel.ack(0, false), 'PRECONDITION_FAILED');
    expectBrokerError(() => channel.ack(99, true), 'PRECONDITION_FAILED');
    expectBrokerError(() => channel.nack(99, false, true), 'PRECONDITION_FAILED');
    expectBrokerError(() => channel.nack(99, true, false), 'PRECONDITION_FAILED');
    expect(channel.unackedCount).toBe(5);
    expect(queue.unackedCount).toBe(5);
    expect(w.observer.bodies()).toEqual([]);
  });

  it('an already-acked tag is 406, also as the bound of a multiple ack', () => {
    channel.ack(3, false);
    expectBrokerError(() => channel.ack(3, false), 'PRECONDITION_FAILED');
    expectBrokerError(() => channel.ack(3, true), 'PRECONDITION_FAILED');
    expect(channel.unackedCount).toBe(4);
  });
});

describe('nack and reject', () => {
  it('requeued messages go back to their original position, flagged redelivered', () => {
    fill(vhost, 'q', range(1, 6));
    const tags = [1, 2, 3, 4].map(() => channel.get(queue, false)?.deliveryTag ?? -1);
    expect(readyBodies(queue)).toEqual(['m5', 'm6']);
    channel.nack(tags[2] ?? -1, false, true); // m3
    channel.nack(tags[0] ?? -1, false, true); // m1
    expect(readyBodies(queue)).toEqual(['m1', 'm3', 'm5', 'm6']);
    channel.nack(tags[3] ?? -1, true, true); // m2 and m4
    expect(readyBodies(queue)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(queue.peek(0, 6).map((e) => e.redelivered)).toEqual([true, true, true, true, false, false]);
    expect(channel.unackedCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
  });

  it('a consumer gets requeued messages again, in queue order, with redelivered set and new tags', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 3 }));
    fill(vhost, 'q', range(1, 5));
    expect(sink.bodies()).toEqual(['m1', 'm2', 'm3']);
    channel.setWritable(false); // hold redeliveries so the queue order can be inspected
    channel.nack(3, false, true);
    channel.nack(1, false, true);
    expect(readyBodies(queue)).toEqual(['m1', 'm3', 'm4', 'm5']);
    sink.drain();
    channel.setWritable(true);
    expect(sink.deliveries.map((d) => [d.body, d.redelivered, d.deliveryTag])).toEqual([
      ['m1', true, 4],
      ['m3', true, 5],
    ]);
    channel.ack(0, true);
    expect(sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([
      ['m1', true],
      ['m3', true],
      ['m4', false],
      ['m5', false],
    ]);
  });

  it('nack multiple requeues in original order', () => {
    fill(vhost, 'q', range(1, 4));
    channel.get(queue, false);
    channel.get(queue, false);
    channel.get(queue, false);
    channel.nack(3, true, true);
    expect(readyBodies(queue)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('reject without requeue drops the message and the next one is delivered', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    fill(vhost, 'q', range(1, 3));
    channel.nack(1, false, false);
    expect(sink.bodies()).toEqual(['m1', 'm2']);
    expect(w.observer.bodies()).toEqual(['m1']);
    expect(queue.unackedCount).toBe(1);
    expect(readyBodies(queue)).toEqual(['m3']);
    expectBrokerError(() => channel.ack(1, false), 'PRECONDITION_FAILED');
  });

  it('nack multiple without requeue drops them all', () => {
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', range(1, 3));
    channel.nack(0, true, false);
    expect(w.observer.bodies()).toEqual(['m1', 'm2', 'm3']);
    expect(queue.messageCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
  });
});

describe('recover', () => {
  it('requeues every unacked delivery, which is redelivered in order', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 2 }));
    fill(vhost, 'q', range(1, 4));
    channel.recover();
    expect(sink.deliveries.map((d) => [d.body, d.redelivered, d.deliveryTag])).toEqual([
      ['m1', false, 1],
      ['m2', false, 2],
      ['m1', true, 3],
      ['m2', true, 4],
    ]);
    expect(channel.unackedCount).toBe(2);
    expectBrokerError(() => channel.ack(1, false), 'PRECONDITION_FAILED');
    channel.ack(4, true);
    expect(sink.bodies().slice(4)).toEqual(['m3', 'm4']);
  });

  it('includes basic.get deliveries', () => {
    fill(vhost, 'q', range(1, 2));
    channel.get(queue, false);
    channel.recover();
    expect(readyBodies(queue)).toEqual(['m1', 'm2']);
    expect(queue.peek(0, 1)[0]?.redelivered).toBe(true);
    expect(channel.unackedCount).toBe(0);
  });
});

describe('cancel', () => {
  it('stops deliveries; unacked deliveries stay unacked and can be acked', () => {
    const consumer = channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    fill(vhost, 'q', range(1, 3));
    channel.cancel('c');
    expect(consumer.state).toBe('cancelled');
    expect(queue.consumerCount).toBe(0);
    expect(channel.consumerList).toEqual([]);
    expect(channel.unackedCount).toBe(1);
    channel.ack(1, false);
    expect(sink.bodies()).toEqual(['m1']);
    expect(readyBodies(queue)).toEqual(['m2', 'm3']);
    expect(sink.cancelled).toEqual([]);
  });

  it('an unknown tag is ignored', () => {
    expect(() => channel.cancel('nope')).not.toThrow();
  });

  it('requeued deliveries of a cancelled consumer go to the other consumers', () => {
    channel.consume(queue, consumerOptions('gone', { prefetch: 1 }));
    fill(vhost, 'q', ['m1']);
    channel.cancel('gone');
    const other = w.channel();
    other.channel.consume(queue, consumerOptions('next'));
    channel.nack(1, false, true);
    expect(other.sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([['m1', true]]);
  });
});

describe('close', () => {
  it('requeues unacked deliveries, cancels consumers and refuses further use', () => {
    const other = w.channel();
    const consumer = channel.consume(queue, consumerOptions('c', { prefetch: 2 }));
    fill(vhost, 'q', range(1, 3));
    const side = declare('side');
    fill(vhost, 'side', ['s1']);
    expect(channel.get(side, false)).toBeDefined();
    other.channel.consume(queue, consumerOptions('o', { prefetch: 0 }));
    expect(other.sink.bodies()).toEqual(['m3']);

    channel.close();

    expect(channel.state).toBe('closed');
    expect(consumer.state).toBe('cancelled');
    expect(queue.consumerCount).toBe(1);
    expect(channel.unackedCount).toBe(0);
    expect(channel.consumerList).toEqual([]);
    // not handed back to the closing channel, but to the other consumer, in order and redelivered
    expect(sink.bodies()).toEqual(['m1', 'm2']);
    expect(other.sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([
      ['m3', false],
      ['m1', true],
      ['m2', true],
    ]);
    expect(queue.unackedCount).toBe(3);
    expect(readyBodies(side)).toEqual(['s1']);
    expect(side.unackedCount).toBe(0);

    expectBrokerError(() => channel.consume(queue, consumerOptions('again')), 'CHANNEL_ERROR');
    expectBrokerError(() => channel.get(queue, true), 'CHANNEL_ERROR');
    expect(() => channel.close()).not.toThrow();
  });

  it('requeued messages wait in the queue when nobody else consumes', () => {
    channel.consume(queue, consumerOptions('c'));
    fill(vhost, 'q', range(1, 2));
    channel.close();
    expect(readyBodies(queue)).toEqual(['m1', 'm2']);
    expect(queue.peek(0, 2).every((e) => e.redelivered)).toBe(true);
    expect(queue.unackedCount).toBe(0);
  });

  it('a channel consuming from its own exclusive auto-delete queue closes cleanly', () => {
    const { queue: name } = vhost.declareQueue({ exclusive: true, autoDelete: true }, channel);
    channel.consume(vhost.useQueue(name, channel), consumerOptions('c'));
    channel.consume(queue, consumerOptions('d'));
    fill(vhost, 'q', ['m1']);
    expect(() => channel.close()).not.toThrow();
    expect(channel.state).toBe('closed');
    expect(vhost.queues.has(name)).toBe(false);
    expect(readyBodies(queue)).toEqual(['m1']);
  });
});

describe('noAck consumers', () => {
  it('are not tracked and not limited by prefetch', () => {
    const consumer = channel.consume(queue, consumerOptions('c', { noAck: true, prefetch: 1 }));
    fill(vhost, 'q', range(1, 5));
    expect(sink.bodies()).toEqual(range(1, 5));
    expect(sink.tags()).toEqual([1, 2, 3, 4, 5]);
    expect(channel.unackedCount).toBe(0);
    expect(consumer.unacked).toBe(0);
    expect(queue.unackedCount).toBe(0);
    expect(w.observer.bodies()).toEqual(range(1, 5));
    expectBrokerError(() => channel.ack(1, false), 'PRECONDITION_FAILED');
  });

  it('nothing comes back when the channel closes', () => {
    channel.consume(queue, consumerOptions('c', { noAck: true }));
    fill(vhost, 'q', range(1, 2));
    channel.close();
    expect(queue.messageCount).toBe(0);
  });
});

describe('get', () => {
  it('returns undefined on an empty queue', () => {
    expect(channel.get(queue, false)).toBeUndefined();
    expect(channel.get(queue, true)).toBeUndefined();
    expect(channel.unackedCount).toBe(0);
  });

  it('with ack: takes the head, tracks it until acked', () => {
    fill(vhost, 'q', ['a', 'b']);
    const got = channel.get(queue, false);
    expect(got && text(got.entry)).toBe('a');
    expect(got?.deliveryTag).toBe(1);
    expect(got?.entry.redelivered).toBe(false);
    expect(queue.messageCount).toBe(1);
    expect(queue.unackedCount).toBe(1);
    expect(channel.unackedCount).toBe(1);
    expect(w.observer.bodies()).toEqual([]);
    channel.ack(1, false);
    expect(channel.unackedCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
    expect(w.observer.bodies()).toEqual(['a']);
  });

  it('with ack: a nack puts it back at the head, redelivered', () => {
    fill(vhost, 'q', ['a', 'b']);
    const got = channel.get(queue, false);
    channel.nack(got?.deliveryTag ?? -1, false, true);
    const again = channel.get(queue, false);
    expect(again && text(again.entry)).toBe('a');
    expect(again?.entry.redelivered).toBe(true);
    expect(again?.deliveryTag).toBe(2);
  });

  it('without ack: not tracked, settled at once', () => {
    fill(vhost, 'q', ['a']);
    const got = channel.get(queue, true);
    expect(got && text(got.entry)).toBe('a');
    expect(channel.unackedCount).toBe(0);
    expect(queue.unackedCount).toBe(0);
    expect(w.observer.bodies()).toEqual(['a']);
    expectBrokerError(() => channel.ack(got?.deliveryTag ?? -1, false), 'PRECONDITION_FAILED');
  });

  it('does not count against a consumer prefetch', () => {
    fill(vhost, 'q', range(1, 4));
    const got = channel.get(queue, false);
    const consumer = channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    expect(sink.bodies()).toEqual(['m2']);
    channel.ack(got?.deliveryTag ?? -1, false);
    expect(consumer.unacked).toBe(1);
    expect(sink.bodies()).toEqual(['m2']);
    channel.ack(tagOf('m2'), false);
    expect(sink.bodies()).toEqual(['m2', 'm3']);
  });
});

describe('consumer tags', () => {
  it('a tag in use on the channel is 530 NOT_ALLOWED', () => {
    channel.consume(queue, consumerOptions('c'));
    expectBrokerError(() => channel.consume(queue, consumerOptions('c')), 'NOT_ALLOWED');
    expectBrokerError(() => channel.consume(declare('q2'), consumerOptions('c')), 'NOT_ALLOWED');
    expect(queue.consumerCount).toBe(1);
    expect(channel.consumerList).toHaveLength(1);
  });

  it('can be reused after a cancel, and on another channel', () => {
    channel.consume(queue, consumerOptions('c'));
    w.channel().channel.consume(queue, consumerOptions('c'));
    channel.cancel('c');
    expect(() => channel.consume(queue, consumerOptions('c'))).not.toThrow();
    expect(queue.consumerCount).toBe(2);
  });
});

describe('exclusive consumers', () => {
  it('an exclusive consumer on a queue with consumers is 403', () => {
    const other = w.channel().channel;
    other.consume(queue, consumerOptions('first'));
    expectBrokerError(() => channel.consume(queue, consumerOptions('ex', { exclusive: true })), 'ACCESS_REFUSED');
    expect(queue.consumerCount).toBe(1);
    expect(channel.consumerList).toEqual([]);
  });

  it('no one may consume from a queue with an exclusive consumer (403), not even its channel', () => {
    const other = w.channel().channel;
    channel.consume(queue, consumerOptions('ex', { exclusive: true }));
    expectBrokerError(() => other.consume(queue, consumerOptions('c')), 'ACCESS_REFUSED');
    expectBrokerError(() => channel.consume(queue, consumerOptions('c')), 'ACCESS_REFUSED');
    expectBrokerError(() => other.consume(queue, consumerOptions('c2', { exclusive: true })), 'ACCESS_REFUSED');
    expect(queue.consumerCount).toBe(1);
    expect(other.consumerList).toEqual([]);
    // a failed consume leaves its tag free
    channel.cancel('ex');
    expect(() => other.consume(queue, consumerOptions('c'))).not.toThrow();
  });

  it('an exclusive consumer gets every message', () => {
    channel.consume(queue, consumerOptions('ex', { exclusive: true }));
    fill(vhost, 'q', range(1, 3));
    expect(sink.bodies('ex')).toEqual(range(1, 3));
  });
});

describe('single active consumer', () => {
  let sac: Queue;

  beforeEach(() => {
    sac = declare('sac', { 'x-single-active-consumer': true });
  });

  it('only the first consumer receives, even when it is full', () => {
    const other = w.channel();
    channel.consume(sac, consumerOptions('first', { prefetch: 2 }));
    other.channel.consume(sac, consumerOptions('second'));
    channel.consume(sac, consumerOptions('third'));
    fill(vhost, 'sac', range(1, 5));
    expect(sink.bodies('first')).toEqual(['m1', 'm2']);
    expect(other.sink.bodies()).toEqual([]);
    expect(sink.bodies('third')).toEqual([]);
    expect(sac.messageCount).toBe(3);
    channel.ack(1, false);
    expect(sink.bodies('first')).toEqual(['m1', 'm2', 'm3']);
  });

  it('the next consumer takes over when the active one is cancelled, including requeued messages', () => {
    const other = w.channel();
    channel.consume(sac, consumerOptions('first', { prefetch: 1 }));
    other.channel.consume(sac, consumerOptions('second', { prefetch: 10 }));
    fill(vhost, 'sac', range(1, 3));
    expect(sink.bodies('first')).toEqual(['m1']);
    channel.cancel('first');
    expect(other.sink.bodies()).toEqual(['m2', 'm3']);
    channel.nack(1, false, true);
    expect(other.sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([
      ['m2', false],
      ['m3', false],
      ['m1', true],
    ]);
  });

  it('the next consumer takes over when the active channel closes', () => {
    const other = w.channel();
    channel.consume(sac, consumerOptions('first'));
    other.channel.consume(sac, consumerOptions('second'));
    fill(vhost, 'sac', range(1, 2));
    channel.close();
    expect(other.sink.deliveries.map((d) => [d.body, d.redelivered])).toEqual([
      ['m1', true],
      ['m2', true],
    ]);
  });

  it('a later consumer with a higher priority does not become a second active consumer', () => {
    const other = w.channel();
    channel.consume(sac, consumerOptions('first', { prefetch: 1 }));
    fill(vhost, 'sac', ['m1']);
    other.channel.consume(sac, consumerOptions('urgent', { arguments: { 'x-priority': 10 } }));
    fill(vhost, 'sac', ['m2']);
    // m1 is still unacked by 'first': a second consumer receiving now would break the one-at-a-time guarantee
    expect(other.sink.bodies()).toEqual([]);
    expect(sink.bodies('first')).toEqual(['m1']);
  });
});

describe('consumer priorities', () => {
  it('higher priority consumers are served first while they have capacity', () => {
    const low = channel.consume(queue, consumerOptions('low', { arguments: { 'x-priority': 1 } }));
    const high = channel.consume(queue, consumerOptions('high', { prefetch: 2, arguments: { 'x-priority': 10 } }));
    expect([low.priority, high.priority]).toEqual([1, 10]);
    fill(vhost, 'q', range(1, 4));
    expect(sink.bodies('high')).toEqual(['m1', 'm2']);
    expect(sink.bodies('low')).toEqual(['m3', 'm4']);
    channel.ack(tagOf('m1'), false);
    fill(vhost, 'q', ['m5']);
    expect(sink.bodies('high')).toEqual(['m1', 'm2', 'm5']);
  });

  it('consumers of equal highest priority take turns', () => {
    channel.consume(queue, consumerOptions('low'));
    channel.consume(queue, consumerOptions('h1', { arguments: { 'x-priority': 5 } }));
    channel.consume(queue, consumerOptions('h2', { arguments: { 'x-priority': 5 } }));
    fill(vhost, 'q', range(1, 4));
    expect(sink.bodies('low')).toEqual([]);
    expect(sink.bodies('h1')).toEqual(['m1', 'm3']);
    expect(sink.bodies('h2')).toEqual(['m2', 'm4']);
  });

  it('negative priorities rank below the default', () => {
    channel.consume(queue, consumerOptions('neg', { arguments: { 'x-priority': -5 } }));
    channel.consume(queue, consumerOptions('default', { prefetch: 1 }));
    fill(vhost, 'q', range(1, 3));
    expect(sink.bodies('default')).toEqual(['m1']);
    expect(sink.bodies('neg')).toEqual(['m2', 'm3']);
  });

  it('a non-integer x-priority is refused with 406, as RabbitMQ refuses it (check_int_arg)', () => {
    expect(() => channel.consume(queue, consumerOptions('odd', { arguments: { 'x-priority': '10' } }))).toThrow(/invalid arg 'x-priority' for consume/);
    expect(() => channel.consume(declare('q2'), consumerOptions('frac', { arguments: { 'x-priority': 1.5 } }))).toThrow(/PRECONDITION|x-priority/);
    expect(channel.consumerList).toEqual([]);
  });

  it('an unknown consume argument is refused rather than ignored', () => {
    expect(() => channel.consume(queue, consumerOptions('odd', { arguments: { 'x-stream-offset': 'first' } }))).toThrow(
      "invalid arg 'x-stream-offset' for consume: not supported by Warren",
    );
    expect(channel.consume(queue, consumerOptions('ok', { arguments: { 'x-cancel-on-ha-failover': true } })).priority).toBe(0);
  });

  it('after the high-priority consumer is cancelled, the others get everything', () => {
    channel.consume(queue, consumerOptions('high', { arguments: { 'x-priority': 10 } }));
    channel.consume(queue, consumerOptions('low'));
    fill(vhost, 'q', ['m1']);
    channel.cancel('high');
    fill(vhost, 'q', ['m2', 'm3']);
    expect(sink.bodies('high')).toEqual(['m1']);
    expect(sink.bodies('low')).toEqual(['m2', 'm3']);
  });
});

describe('writability', () => {
  it('setWritable(false) pauses deliveries and setWritable(true) resumes them', () => {
    channel.consume(queue, consumerOptions('c', { prefetch: 10 }));
    fill(vhost, 'q', ['m1']);
    channel.setWritable(false);
    expect(channel.writable).toBe(false);
    fill(vhost, 'q', range(2, 4));
    expect(sink.bodies()).toEqual(['m1']);
    expect(readyBodies(queue)).toEqual(['m2', 'm3', 'm4']);
    channel.ack(1, false); // a settlement does not push past the pause
    expect(sink.bodies()).toEqual(['m1']);
    channel.setWritable(true);
    expect(channel.writable).toBe(true);
    expect(sink.bodies()).toEqual(range(1, 4));
    expect(queue.messageCount).toBe(0);
  });

  it('resumes every queue the channel consumes from, within prefetch', () => {
    const q2 = declare('q2');
    channel.consume(queue, consumerOptions('a', { prefetch: 1 }));
    channel.consume(q2, consumerOptions('b'));
    channel.setWritable(false);
    fill(vhost, 'q', range(1, 2));
    fill(vhost, 'q2', range(1, 2, 'n'));
    expect(sink.bodies()).toEqual([]);
    channel.setWritable(true);
    expect(sink.bodies('a')).toEqual(['m1']);
    expect(sink.bodies('b')).toEqual(['n1', 'n2']);
  });

  it('while paused, other channels on the same queue keep receiving', () => {
    const other = w.channel();
    channel.consume(queue, consumerOptions('paused'));
    other.channel.consume(queue, consumerOptions('busy'));
    channel.setWritable(false);
    fill(vhost, 'q', range(1, 3));
    expect(sink.bodies()).toEqual([]);
    expect(other.sink.bodies()).toEqual(range(1, 3));
  });

  it('setting the same value again does nothing', () => {
    channel.consume(queue, consumerOptions('c'));
    channel.setWritable(true);
    fill(vhost, 'q', ['m1']);
    channel.setWritable(true);
    expect(sink.bodies()).toEqual(['m1']);
  });

  it('does not affect basic.get', () => {
    fill(vhost, 'q', ['m1']);
    channel.setWritable(false);
    const got = channel.get(queue, true);
    expect(got && text(got.entry)).toBe('m1');
  });
});

describe('queue deleted under a consumer', () => {
  it('the sink is told and the consumer is forgotten', () => {
    const consumer = channel.consume(queue, consumerOptions('c'));
    vhost.deleteQueue('q');
    expect(sink.cancelled).toEqual(['c']);
    expect(consumer.state).toBe('cancelled');
    expect(channel.consumerList).toEqual([]);
    expect(() => channel.cancel('c')).not.toThrow();
  });
});
