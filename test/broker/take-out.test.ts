/**
 * Taking a ready message out of the middle of a queue (an operator's move): the ready lists remove only
 * at the head, so it stays as a tombstone until the head gets there, as an expired message does.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import { PriorityReadyList } from '../../src/broker/priority-ready-list.js';
import type { Queue } from '../../src/broker/queue.js';
import { ReadyList } from '../../src/broker/ready-list.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consumerOptions, fill, publish, queueOf, readyBodies, text, world, type World } from './fixtures.js';
import { RecordingStore } from './recording-store.js';

type Item = { seq: number };

const decoder = new TextDecoder();
const body = (message: Message): string => decoder.decode(message.body);

/** The queue's ready message with this body. */
function find(queue: Queue, wanted: string): Message {
  const entry = queue.peek(0, queue.messageCount).find((e) => text(e) === wanted);
  if (!entry) throw new Error(`no ready message '${wanted}'`);
  return entry.message;
}

function plain(bodies: readonly string[], args: Record<string, unknown> = {}, clock?: FakeClock): { w: World; q: Queue } {
  const w = world(clock ? { clock } : {});
  w.vhost.declareQueue({ queue: 'q', arguments: args }, null);
  fill(w.vhost, 'q', bodies);
  return { w, q: queueOf(w.vhost, 'q') };
}

describe('ready lists find an item by position', () => {
  it('ReadyList: fresh and requeued items, and -1 for one no longer listed', () => {
    const list = new ReadyList<{ seq: number }>();
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((seq) => ({ seq })) as [Item, Item, Item, Item, Item];
    for (const item of [a, b, c, d, e]) list.push(item);
    for (let i = 0; i < 3; i++) list.shift();
    list.requeue(c);
    list.requeue(a);
    const same = (target: Item) => (item: Item) => item === target;
    expect([...list].map((item) => item.seq)).toEqual([1, 3, 4, 5]);
    expect(list.indexOf(a, same(a))).toBe(0);
    expect(list.indexOf(c, same(c))).toBe(1);
    expect(list.indexOf(d, same(d))).toBe(2);
    expect(list.indexOf(e, same(e))).toBe(3);
    expect(list.indexOf(b, same(b))).toBe(-1);
    // Same seq, another object: not it.
    const impostor = { seq: 4 };
    expect(list.indexOf(impostor, same(impostor))).toBe(-1);
  });

  it('ReadyList: finds an item in a backlog that is not in strict seq order', () => {
    const list = new ReadyList<{ seq: number }>();
    const items = [1, 5, 2, 3, 9, 4].map((seq) => ({ seq }));
    for (const item of items) list.push(item);
    for (const [i, item] of items.entries()) expect(list.indexOf(item, (x) => x === item)).toBe(i);
  });

  it('PriorityReadyList: the levels above count first', () => {
    const list = new PriorityReadyList<{ seq: number; p: number }>(5, (item) => item.p);
    const items = [
      { seq: 1, p: 1 },
      { seq: 2, p: 3 },
      { seq: 3, p: 1 },
      { seq: 4, p: 9 },
    ];
    for (const item of items) list.push(item);
    expect([...list].map((item) => item.seq)).toEqual([4, 2, 1, 3]);
    for (const item of items) expect(list.indexOf(item, (x) => x === item)).toBe([...list].indexOf(item));
    expect(list.indexOf({ seq: 7, p: 1 }, () => false)).toBe(-1);
  });
});

describe('Queue.takeOut', () => {
  it('takes a message out of the middle: counts at once, delivery skips it, the head drops its tombstone', () => {
    const { w, q } = plain(['a', 'b', 'c', 'd']);
    const entry = q.takeOut(find(q, 'b'));
    expect(entry && text(entry)).toBe('b');
    expect(q.messageCount).toBe(3);
    expect(q.readyBytes).toBe(3);
    expect(readyBodies(q)).toEqual(['a', 'c', 'd']);
    // Taken already: not again.
    expect(q.takeOut(entry?.message as Message)).toBeUndefined();

    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { noAck: true }));
    expect(sink.bodies()).toEqual(['a', 'c', 'd']);
    expect(q.messageCount).toBe(0);
    // Not settled by the queue: whoever took it does that.
    expect(w.observer.bodies()).toEqual(['a', 'c', 'd']);
    q.settleTakenOut(entry as NonNullable<typeof entry>);
    expect(w.observer.bodies()).toEqual(['a', 'c', 'd', 'b']);
  });

  it('drops a message taken from the head at once; put back, it is the head again', () => {
    const { q } = plain(['a', 'b']);
    const a = q.takeOut(find(q, 'a'));
    // Browsing from the start looks at one place: the tombstone is not there to look at.
    expect(q.browse(undefined, 1).entries.map(text)).toEqual(['b']);
    q.putBack(a as NonNullable<typeof a>);
    expect(readyBodies(q)).toEqual(['a', 'b']);
    expect(q.messageCount).toBe(2);
  });

  it('puts a message back in its place while its tombstone is still listed', () => {
    const { w, q } = plain(['a', 'b', 'c']);
    const entry = q.takeOut(find(q, 'b'));
    if (!entry) throw new Error('not taken');
    q.putBack(entry);
    expect(readyBodies(q)).toEqual(['a', 'b', 'c']);
    expect(q.messageCount).toBe(3);
    expect(q.readyBytes).toBe(3);
    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { noAck: true }));
    expect(sink.bodies()).toEqual(['a', 'b', 'c']);
  });

  it('puts a message back at the head once the head has passed its place', () => {
    const { w, q } = plain(['a', 'b', 'c', 'd']);
    const entry = q.takeOut(find(q, 'b'));
    if (!entry) throw new Error('not taken');
    const { channel } = w.channel();
    // Gets 'a' and 'c', passing the tombstone on the way.
    channel.get(q, true);
    channel.get(q, true);
    expect(readyBodies(q)).toEqual(['d']);
    q.putBack(entry);
    expect(readyBodies(q)).toEqual(['b', 'd']);
    expect(q.messageCount).toBe(2);
  });

  it('takes a redelivered message with its flags, and puts it back with them', () => {
    const { w, q } = plain(['a', 'b', 'c']);
    const { channel } = w.channel();
    channel.get(q, false);
    channel.get(q, false);
    channel.nack(0, true, true);
    expect(readyBodies(q)).toEqual(['a', 'b', 'c']);
    const b = q.takeOut(find(q, 'b'));
    expect(b).toMatchObject({ redelivered: true, deliveryCount: 1 });
    expect(readyBodies(q)).toEqual(['a', 'c']);
    q.putBack(b as NonNullable<typeof b>);
    expect(q.peek(0, 3).map((e) => [text(e), e.redelivered])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
  });

  it('works in a priority queue, keeping each level in order', () => {
    const w = world();
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-max-priority': 5 } }, null);
    const q = queueOf(w.vhost, 'q');
    for (const [name, priority] of [['a1', 1], ['b3', 3], ['c1', 1], ['d3', 3], ['e5', 5]] as const) publish(w.vhost, '', 'q', name, { priority });
    expect(readyBodies(q)).toEqual(['e5', 'b3', 'd3', 'a1', 'c1']);
    const d3 = q.takeOut(find(q, 'd3'));
    const a1 = q.takeOut(find(q, 'a1'));
    expect(readyBodies(q)).toEqual(['e5', 'b3', 'c1']);
    expect(q.messageCount).toBe(3);
    q.putBack(a1 as NonNullable<typeof a1>);
    expect(readyBodies(q)).toEqual(['e5', 'b3', 'a1', 'c1']);
    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { noAck: true }));
    expect(sink.bodies()).toEqual(['e5', 'b3', 'a1', 'c1']);
    q.settleTakenOut(d3 as NonNullable<typeof d3>);
    expect(w.observer.bodies()).toContain('d3');
  });

  it('does not take a message whose record is not on disk yet', () => {
    const store = new RecordingStore();
    const w = world({ messageStore: store });
    w.vhost.declareQueue({ queue: 'q', durable: true }, null);
    const q = queueOf(w.vhost, 'q');
    publish(w.vhost, '', 'q', 'p', { deliveryMode: 2 });
    expect(q.takeOut(find(q, 'p'))).toBeUndefined();
    store.sync();
    expect(q.takeOut(find(q, 'p'))).toBeDefined();
  });

  it('leaves taken-out messages to their taker on purge and delete', () => {
    const { w, q } = plain(['a', 'b', 'c']);
    const entry = q.takeOut(find(q, 'b'));
    if (!entry) throw new Error('not taken');
    expect(q.purge()).toBe(2);
    expect(w.observer.bodies()).toEqual(['a', 'c']);
    // It was not there when purged: put back, it is.
    q.putBack(entry);
    expect(readyBodies(q)).toEqual(['b']);
    const again = q.takeOut(find(q, 'b'));
    w.vhost.deleteQueue('q');
    expect(w.observer.bodies()).toEqual(['a', 'c']);
    // Its queue went: put back means gone with it.
    q.putBack(again as NonNullable<typeof again>);
    expect(w.observer.bodies()).toEqual(['a', 'c', 'b']);
  });
});

describe('taking out and expiry', () => {
  function ttlWorld(): { w: World; q: Queue; clock: FakeClock; dead: () => string[] } {
    const clock = new FakeClock();
    const { w, q } = plain([], { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' }, clock);
    w.vhost.declareQueue({ queue: 'dead' }, null);
    return { w, q, clock, dead: () => readyBodies(queueOf(w.vhost, 'dead')) };
  }

  it('an expired message cannot be taken; browse passes over both kinds of tombstone', () => {
    const { w, q, clock } = ttlWorld();
    fill(w.vhost, 'q', ['old']);
    clock.advance(500);
    fill(w.vhost, 'q', ['taken', 'kept']);
    const old = q.peek(0, 1)[0]?.message as Message;
    clock.advance(500);
    expect(q.takeOut(old)).toBeUndefined();
    expect(q.takeOut(find(q, 'taken'))).toBeDefined();
    expect(q.messageCount).toBe(1);
    const { entries, end } = q.browse(undefined, 10);
    expect(entries.map(text)).toEqual(['kept']);
    expect(end).toBe(true);
  });

  it('a taken-out message does not expire while held; put back after its time, it expires and is dead-lettered', () => {
    const { w, q, clock, dead } = ttlWorld();
    fill(w.vhost, 'q', ['a', 'b']);
    const entry = q.takeOut(find(q, 'a'));
    if (!entry) throw new Error('not taken');
    clock.advance(1000);
    expect(dead()).toEqual(['b']);
    expect(q.messageCount).toBe(0);
    q.putBack(entry);
    clock.advance(0);
    expect(dead()).toEqual(['b', 'a']);
    expect(q.messageCount).toBe(0);
    expect(q.readyBytes).toBe(0);
  });

  it('a taken-out message settled after its time is gone: it never expires later', () => {
    const { w, q, clock, dead } = ttlWorld();
    fill(w.vhost, 'q', ['a', 'b']);
    const entry = q.takeOut(find(q, 'a'));
    if (!entry) throw new Error('not taken');
    q.settleTakenOut(entry);
    clock.advance(2000);
    expect(dead()).toEqual(['b']);
    expect(q.messageCount).toBe(0);
    // Both tombstones (taken and expired) drop when a get reaches them.
    expect(w.channel().channel.get(q, true)).toBeUndefined();
  });
});

describe('Queue.browse', () => {
  it('goes on after the last message it saw, and from the head once the head passed it', () => {
    const { w, q } = plain(['a', 'b', 'c', 'd', 'e', 'f']);
    const first = q.browse(undefined, 2);
    expect(first.entries.map(text)).toEqual(['a', 'b']);
    expect(first.end).toBe(false);
    // Taken out meanwhile: passed over, and still a place to go on from.
    q.takeOut(find(q, 'c'));
    const second = q.browse(first.last, 2);
    expect(second.entries.map(text)).toEqual(['d']);
    expect(body(second.last as Message)).toBe('d');
    // A consumer takes a, b, (c's tombstone), d: the cursor left from the head, so on from the head.
    const { channel } = w.channel();
    for (let i = 0; i < 3; i++) channel.get(q, true);
    const third = q.browse(second.last, 10);
    expect(third.entries.map(text)).toEqual(['e', 'f']);
    expect(third.end).toBe(true);
  });
});
