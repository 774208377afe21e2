import { describe, expect, it } from 'vitest';
import type { Headers, MessageProperties } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consumerOptions, publish, queueOf, readyBodies, text, world, type World } from './fixtures.js';

/** A world on a fake clock, with a fanout `dlx` into queue `dead`. */
function setup(): World & { clock: FakeClock; declare(name: string, args?: Record<string, unknown>): Queue } {
  const clock = new FakeClock();
  const w = world({ clock });
  w.vhost.declareExchange({ exchange: 'dlx', type: 'fanout' });
  w.vhost.declareQueue({ queue: 'dead', arguments: {} }, null);
  w.vhost.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue' });
  return {
    ...w,
    clock,
    declare(name, args = {}) {
      w.vhost.declareQueue({ queue: name, arguments: { 'x-dead-letter-exchange': 'dlx', ...args } }, null);
      return queueOf(w.vhost, name);
    },
  };
}

function send(w: World, queue: string, body: string, properties: MessageProperties = {}): void {
  publish(w.vhost, '', queue, body, properties);
}

const deadBodies = (w: World): string[] => readyBodies(queueOf(w.vhost, 'dead'));

describe('message TTL', () => {
  it("expires messages after the queue's x-message-ttl and dead-letters them (reason expired)", () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 1000 });
    send(w, 'q', 'a');
    w.clock.advance(500);
    send(w, 'q', 'b');
    w.clock.advance(499);
    expect(readyBodies(q)).toEqual(['a', 'b']);
    w.clock.advance(1);
    expect(readyBodies(q)).toEqual(['b']);
    expect(q.messageCount).toBe(1);
    expect(q.readyBytes).toBe(1);
    expect(deadBodies(w)).toEqual(['a']);
    w.clock.advance(500);
    expect(q.messageCount).toBe(0);
    expect(deadBodies(w)).toEqual(['a', 'b']);
    expect(q.stats.deadLettered.expired).toBe(2);
    const death = (queueOf(w.vhost, 'dead').peek(0, 1)[0]?.message.properties.headers?.['x-death'] as Headers[])[0];
    expect(death).toMatchObject({ reason: 'expired', queue: 'q', count: 1 });
    expect(death).not.toHaveProperty('original-expiration');
  });

  it("expires by the message's own expiration, and by the smaller of both", () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 1000 });
    const plain = w.declare('plain');
    send(w, 'q', 'long', { expiration: '5000' });
    send(w, 'q', 'short', { expiration: '100' });
    send(w, 'plain', 'own', { expiration: '200' });
    send(w, 'plain', 'forever');
    w.clock.advance(100);
    expect(readyBodies(q)).toEqual(['long']);
    w.clock.advance(100);
    expect(readyBodies(plain)).toEqual(['forever']);
    w.clock.advance(800);
    expect(readyBodies(q)).toEqual([]);
    expect(deadBodies(w)).toEqual(['short', 'own', 'long']);
    const dead = queueOf(w.vhost, 'dead').peek(0, 3);
    const deathOf = (i: number): Headers => (dead[i]?.message.properties.headers?.['x-death'] as Headers[])[0] as Headers;
    expect(deathOf(0)['original-expiration']).toBe('100');
    expect(deathOf(2)['original-expiration']).toBe('5000');
    expect(dead[0]?.message.properties.expiration).toBeUndefined();
  });

  it('expires each fanned-out copy on its own queue clock', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'fan', type: 'fanout' });
    const short = w.declare('short', { 'x-message-ttl': 100 });
    const long = w.declare('long', { 'x-message-ttl': 1000 });
    const none = w.declare('none');
    for (const name of ['short', 'long', 'none']) w.vhost.bind({ source: 'fan', destination: name, destinationKind: 'queue' });
    publish(w.vhost, 'fan', '', 'm');
    w.clock.advance(100);
    expect([short.messageCount, long.messageCount, none.messageCount]).toEqual([0, 1, 1]);
    w.clock.advance(900);
    expect([short.messageCount, long.messageCount, none.messageCount]).toEqual([0, 0, 1]);
    expect(text(none.peek(0, 1)[0] as never)).toBe('m');
    expect(deadBodies(w)).toEqual(['m', 'm']);
  });

  it('expires a message in the middle of the queue behind a long-lived head, on time, in an idle queue', () => {
    const w = setup();
    const q = w.declare('q');
    send(w, 'q', 'head', { expiration: '100000' });
    send(w, 'q', 'middle', { expiration: '50' });
    send(w, 'q', 'tail');
    expect(w.clock.pending).toBeGreaterThanOrEqual(1);
    w.clock.advance(50);
    expect(readyBodies(q)).toEqual(['head', 'tail']);
    expect(q.messageCount).toBe(2);
    expect(deadBodies(w)).toEqual(['middle']);
    // peek with an offset passes over the expired one still held in the list.
    expect(q.peek(1, 5).map(text)).toEqual(['tail']);
    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { noAck: true }));
    expect(sink.bodies()).toEqual(['head', 'tail']);
    expect(q.messageCount).toBe(0);
  });

  it('arms one timer per queue, not one per message', () => {
    const w = setup();
    w.declare('q', { 'x-message-ttl': 1000 });
    const before = w.clock.pending;
    for (let i = 0; i < 100; i++) send(w, 'q', `m${i}`);
    expect(w.clock.pending - before).toBe(1);
    w.clock.advance(1000);
    expect(deadBodies(w)).toHaveLength(100);
  });

  it('never expires unacked messages; a requeued one keeps its original expiry', () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 1000 });
    send(w, 'q', 'a');
    send(w, 'q', 'b');
    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { prefetch: 2 }));
    w.clock.advance(5000);
    expect(q.unackedCount).toBe(2);
    expect(deadBodies(w)).toEqual([]);
    channel.cancel('c');
    channel.nack(sink.deliveries[0]?.deliveryTag as number, false, true);
    // Its expiry passed while it was unacked: it expires as soon as it is ready again.
    w.clock.advance(0);
    expect(deadBodies(w)).toEqual(['a']);
    channel.ack(sink.deliveries[1]?.deliveryTag as number, false);
    expect(q.messageCount).toBe(0);
  });

  it('a requeued message expires at its original time, not a fresh TTL', () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 1000 });
    send(w, 'q', 'a');
    const { channel } = w.channel();
    w.clock.advance(600);
    const got = channel.get(q, false);
    w.clock.advance(100);
    channel.nack(got?.deliveryTag as number, false, true);
    expect(readyBodies(q)).toEqual(['a']);
    w.clock.advance(299);
    expect(q.messageCount).toBe(1);
    w.clock.advance(1);
    expect(q.messageCount).toBe(0);
    expect(deadBodies(w)).toEqual(['a']);
  });

  it('x-message-ttl 0: delivered at once to a consumer that can take it, else expired', () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 0 });
    send(w, 'q', 'nobody');
    expect(q.messageCount).toBe(0);
    expect(deadBodies(w)).toEqual(['nobody']);
    const { channel, sink } = w.channel();
    channel.consume(q, consumerOptions('c', { prefetch: 1 }));
    send(w, 'q', 'taken');
    send(w, 'q', 'full');
    expect(sink.bodies()).toEqual(['taken']);
    expect(deadBodies(w)).toEqual(['nobody', 'full']);
    expect(q.messageCount).toBe(0);
  });

  it('get and peek never return an expired message', () => {
    const w = setup();
    const q = w.declare('q', { 'x-message-ttl': 100 });
    send(w, 'q', 'a');
    send(w, 'q', 'b', { expiration: '200000' });
    w.clock.advance(100);
    expect(q.peek(0, 10)).toEqual([]);
    const { channel } = w.channel();
    expect(channel.get(q, true)).toBeUndefined();
    expect(q.messageCount).toBe(0);
  });

  it('without a dead-letter exchange, expired messages are dropped and settled', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-message-ttl': 10 } }, null);
    send(w, 'q', 'a');
    w.clock.advance(10);
    expect(queueOf(w.vhost, 'q').messageCount).toBe(0);
    expect(w.observer.bodies()).toEqual(['a']);
  });

  it('counts expired messages out of x-max-length and purges only live ones', () => {
    const w = setup();
    const q = w.declare('q', { 'x-max-length': 2, 'x-overflow': 'reject-publish' });
    send(w, 'q', 'keep', { expiration: '100000' });
    send(w, 'q', 'goes', { expiration: '10' });
    w.clock.advance(10);
    send(w, 'q', 'fits');
    expect(readyBodies(q)).toEqual(['keep', 'fits']);
    expect(q.purge()).toBe(2);
    expect(q.messageCount).toBe(0);
  });

  it('stops its timer when the queue is deleted', () => {
    const w = setup();
    w.declare('q', { 'x-message-ttl': 1000 });
    send(w, 'q', 'a');
    const pending = w.clock.pending;
    w.vhost.deleteQueue('q');
    expect(w.clock.pending).toBe(pending - 1);
  });
});
