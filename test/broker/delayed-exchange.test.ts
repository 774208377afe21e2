/**
 * The `x-delayed-message` exchange in the domain, on a fake clock: declare rules, holding and routing at
 * the due time through the bindings as they are then, the alternate exchange, cancel, mandatory returns,
 * and the hand-off to the message store (settled only once the routed copy is on disk).
 */
import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/broker/channel.js';
import type { MessageProperties } from '../../src/broker/message.js';
import { delayOf } from '../../src/broker/scheduled-messages.js';
import type { VHost } from '../../src/broker/vhost.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { bytes, expectBrokerError, publish, queueOf, readyBodies, RecordingSink, world, type World } from './fixtures.js';
import type { StoredQueue } from '../../src/broker/persistence.js';
import type { Message } from '../../src/broker/message.js';
import { RecordingStore } from './recording-store.js';

/** Scheduled records are settled through a content-less stand-in: this store logs settlements by id. */
class HolderStore extends RecordingStore {
  readonly deleted: string[] = [];

  override remove(message: Message, queue: StoredQueue): void {
    this.removed.push(`${queue.name}:${message.id}`);
  }

  override queueDeleted(queue?: StoredQueue): void {
    if (queue) this.deleted.push(queue.name);
  }
}

const delayed = (type: string, extra: Record<string, unknown> = {}) => ({ 'x-delayed-type': type, ...extra });

function setUp(options: { store?: HolderStore; durable?: boolean } = {}): { w: World; clock: FakeClock; vhost: VHost } {
  const clock = new FakeClock();
  const w = world({ clock, messageStore: options.store });
  const vhost = w.vhost;
  vhost.declareExchange({ exchange: 'later', type: 'x-delayed-message', durable: options.durable ?? true, arguments: delayed('direct') });
  vhost.declareQueue({ queue: 'q', durable: true }, null);
  vhost.bind({ source: 'later', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
  return { w, clock, vhost };
}

const withDelay = (delay: unknown, extra: MessageProperties = {}): MessageProperties => ({ ...extra, headers: { 'x-delay': delay as number } });

describe('x-delayed-message: declaring', () => {
  it('needs x-delayed-type naming direct, fanout, topic or headers (406 otherwise, as the plugin)', () => {
    const { vhost } = setUp();
    for (const type of ['direct', 'fanout', 'topic', 'headers']) {
      vhost.declareExchange({ exchange: `ok-${type}`, type: 'x-delayed-message', arguments: delayed(type) });
    }
    expectBrokerError(() => vhost.declareExchange({ exchange: 'none', type: 'x-delayed-message' }), 'PRECONDITION_FAILED', /x-delayed-type' must be an existing exchange type/);
    expectBrokerError(() => vhost.declareExchange({ exchange: 'odd', type: 'x-delayed-message', arguments: delayed('x-consistent-hash') }), 'PRECONDITION_FAILED', /must be an existing exchange type/);
    expectBrokerError(() => vhost.declareExchange({ exchange: 'num', type: 'x-delayed-message', arguments: { 'x-delayed-type': 7 } }), 'PRECONDITION_FAILED');
    expectBrokerError(() => vhost.declareExchange({ exchange: 'self', type: 'x-delayed-message', arguments: delayed('x-delayed-message') }), 'PRECONDITION_FAILED', /can't be used/);
    expect(vhost.exchanges.has('none')).toBe(false);
  });

  it('validates bindings as its routing type does (headers: x-match)', () => {
    const { vhost } = setUp();
    vhost.declareExchange({ exchange: 'h', type: 'x-delayed-message', arguments: delayed('headers') });
    expectBrokerError(() => vhost.bind({ source: 'h', destination: 'q', destinationKind: 'queue', arguments: { 'x-match': 'sometimes' } }), 'PRECONDITION_FAILED');
  });
});

describe('x-delay header', () => {
  it('reads integers only, as the plugin: anything else is no delay', () => {
    expect(delayOf({ 'x-delay': 1500 })).toBe(1500);
    for (const value of [0, -5, 1.5, '1000', null, true, [1], { a: 1 }]) expect(delayOf({ 'x-delay': value as number })).toBe(0);
    expect(delayOf(undefined)).toBe(0);
    expect(delayOf({})).toBe(0);
  });
});

describe('x-delayed-message: holding and routing', () => {
  it('holds a message with x-delay and routes it at its due time, not before', () => {
    const { clock, vhost } = setUp();
    const result = publish(vhost, 'later', 'k', 'm', withDelay(1000));
    expect(result.queues).toEqual([]);
    expect(result.scheduled?.due).toBe(clock.now() + 1000);
    expect(vhost.exchanges.get('later')?.scheduled?.count).toBe(1);
    clock.advance(999);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    clock.advance(1);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['m']);
    expect(vhost.exchanges.get('later')?.scheduled?.count).toBe(0);
  });

  it('routes at once without x-delay, with zero, negative or non-integer delays', () => {
    const { vhost } = setUp();
    publish(vhost, 'later', 'k', 'none');
    publish(vhost, 'later', 'k', 'zero', withDelay(0));
    publish(vhost, 'later', 'k', 'negative', withDelay(-100));
    publish(vhost, 'later', 'k', 'fraction', withDelay(10.5));
    publish(vhost, 'later', 'k', 'string', withDelay('5000'));
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['none', 'zero', 'negative', 'fraction', 'string']);
  });

  it('refuses a delay longer than about a century', () => {
    const { vhost } = setUp();
    expectBrokerError(() => publish(vhost, 'later', 'k', 'm', withDelay(4e12)), 'PRECONDITION_FAILED', /x-delay/);
  });

  it('routes in due order, ties in publish order, whatever the publish order', () => {
    const { clock, vhost } = setUp();
    publish(vhost, 'later', 'k', 'c', withDelay(300));
    publish(vhost, 'later', 'k', 'a1', withDelay(100));
    publish(vhost, 'later', 'k', 'b', withDelay(200));
    publish(vhost, 'later', 'k', 'a2', withDelay(100));
    clock.advance(1000);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('routes through the bindings as they are at the due time', () => {
    const { clock, vhost } = setUp();
    vhost.declareQueue({ queue: 'new', durable: true }, null);
    publish(vhost, 'later', 'k', 'm', withDelay(100));
    vhost.unbind({ source: 'later', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
    vhost.bind({ source: 'later', destination: 'new', destinationKind: 'queue', routingKey: 'k' });
    clock.advance(100);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    expect(readyBodies(queueOf(vhost, 'new'))).toEqual(['m']);
  });

  it('routes as its x-delayed-type: topic patterns, fanout to all', () => {
    const { clock, vhost } = setUp();
    vhost.declareExchange({ exchange: 't', type: 'x-delayed-message', arguments: delayed('topic') });
    vhost.declareExchange({ exchange: 'f', type: 'x-delayed-message', arguments: delayed('fanout') });
    vhost.declareQueue({ queue: 'topics', durable: true }, null);
    vhost.declareQueue({ queue: 'all', durable: true }, null);
    vhost.bind({ source: 't', destination: 'topics', destinationKind: 'queue', routingKey: 'a.*' });
    vhost.bind({ source: 'f', destination: 'all', destinationKind: 'queue', routingKey: 'ignored' });
    publish(vhost, 't', 'a.b', 'match', withDelay(10));
    publish(vhost, 't', 'b.b', 'miss', withDelay(10));
    publish(vhost, 'f', 'anything', 'fan', withDelay(10));
    clock.advance(10);
    expect(readyBodies(queueOf(vhost, 'topics'))).toEqual(['match']);
    expect(readyBodies(queueOf(vhost, 'all'))).toEqual(['fan']);
  });

  it('hands an unroutable message to the alternate exchange as it is at the due time', () => {
    const { clock, vhost } = setUp();
    vhost.declareExchange({ exchange: 'ae', type: 'fanout' });
    vhost.declareQueue({ queue: 'spill', durable: true }, null);
    vhost.bind({ source: 'ae', destination: 'spill', destinationKind: 'queue' });
    vhost.declareExchange({ exchange: 'with-ae', type: 'x-delayed-message', arguments: delayed('direct', { 'alternate-exchange': 'ae' }) });
    publish(vhost, 'with-ae', 'nowhere', 'm', withDelay(50));
    clock.advance(50);
    expect(readyBodies(queueOf(vhost, 'spill'))).toEqual(['m']);
  });

  it('the routed message is new: published at its due time, so a queue TTL counts from then', () => {
    const { clock, vhost } = setUp();
    const result = publish(vhost, 'later', 'k', 'm', withDelay(5000));
    clock.advance(5000);
    const routed = queueOf(vhost, 'q').peek(0, 1)[0];
    expect(routed?.message.id).toBeGreaterThan(result.message.id);
    expect(routed?.message.publishedAt).toBe(clock.now());
    expect(routed?.message.properties.headers?.['x-delay']).toBe(5000);
  });

  it('cancels one by id; the rest still fire', () => {
    const { clock, vhost } = setUp();
    const a = publish(vhost, 'later', 'k', 'a', withDelay(100));
    publish(vhost, 'later', 'k', 'b', withDelay(200));
    const scheduled = vhost.exchanges.get('later')?.scheduled;
    expect(scheduled?.page(0, 10).map((s) => s.seq)).toEqual([a.message.id, a.message.id + 1]);
    expect(scheduled?.cancel(a.message.id)).toBe(true);
    expect(scheduled?.cancel(a.message.id)).toBe(false);
    clock.advance(1000);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['b']);
  });

  it('deleting the exchange drops its scheduled messages and its timer', () => {
    const { clock, vhost } = setUp();
    publish(vhost, 'later', 'k', 'a', withDelay(100));
    vhost.deleteExchange('later');
    expect(clock.pending).toBe(0);
    vhost.declareExchange({ exchange: 'later', type: 'x-delayed-message', durable: true, arguments: delayed('direct') });
    vhost.bind({ source: 'later', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
    clock.advance(1000);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
  });

  it('deleting the vhost drops its delayed exchanges\' scheduled messages, on disk too, and their timers', () => {
    const store = new HolderStore();
    const clock = new FakeClock();
    const w = world({ clock, messageStore: store });
    const vhost = w.broker.addVhost('shop');
    vhost.declareExchange({ exchange: 'later', type: 'x-delayed-message', durable: true, arguments: delayed('direct') });
    publish(vhost, 'later', 'k', 'm', withDelay(100, { deliveryMode: 2 }));
    expect(clock.pending).toBe(1);
    w.broker.deleteVhost('shop');
    expect(clock.pending).toBe(0);
    expect(store.deleted).toEqual(['\u0001x-delayed-message\u0001later']);
  });

  it('returns a mandatory message unroutable at its due time to its channel while open; counts a drop otherwise', () => {
    const { w, clock, vhost } = setUp();
    const returned: string[] = [];
    const sink = new RecordingSink();
    const channel = new Channel('pub', vhost, Object.assign(sink, { sendReturn: (m: { body: Uint8Array }) => returned.push(new TextDecoder().decode(m.body)) }));
    vhost.publish({ exchange: 'later', routingKey: 'nowhere', properties: withDelay(10), body: bytes('back') }, channel);
    vhost.publish({ exchange: 'later', routingKey: 'nowhere', properties: withDelay(10), body: bytes('plain') }, null);
    vhost.publish({ exchange: 'later', routingKey: 'nowhere', properties: withDelay(20), body: bytes('closed') }, channel);
    clock.advance(10);
    expect(returned).toEqual(['back']);
    expect(channel.stats.returnUnroutable).toBe(1);
    channel.close();
    clock.advance(10);
    expect(returned).toEqual(['back']);
    expect(w.broker.stats.returnUnroutable).toBe(1);
    expect(w.broker.stats.dropUnroutable).toBe(2);
  });
});

describe('x-delayed-message and the message store', () => {
  const PERSISTENT = { deliveryMode: 2 } as const;

  it('stores a persistent message of a durable exchange under its holder; settles it once the routed copy is on disk', () => {
    const store = new HolderStore();
    const { clock, vhost } = setUp({ store });
    const result = publish(vhost, 'later', 'k', 'm', withDelay(100, PERSISTENT));
    expect(result.stored).toBe(true);
    const holder = '\u0001x-delayed-message\u0001later';
    expect(store.added.map((m) => m.id)).toEqual([result.message.id]);
    store.sync();
    clock.advance(100);
    expect(store.added.length).toBe(2);
    expect(store.removed).toEqual([]);
    store.sync();
    expect(store.removed).toEqual([`${holder}:${result.message.id}`]);
  });

  it('schedules again a message whose routed copy the store refused; drops one whose own write was refused', () => {
    const store = new HolderStore();
    const { clock, vhost } = setUp({ store });
    publish(vhost, 'later', 'k', 'refused', withDelay(100, PERSISTENT));
    store.fail();
    const kept = publish(vhost, 'later', 'k', 'kept', withDelay(100, PERSISTENT));
    store.sync();
    expect(vhost.exchanges.get('later')?.scheduled?.count).toBe(1);
    clock.advance(100);
    store.fail();
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    expect(vhost.exchanges.get('later')?.scheduled?.count).toBe(1);
    clock.advance(10);
    store.sync();
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['kept']);
    expect(store.removed).toEqual([`\u0001x-delayed-message\u0001later:${kept.message.id}`]);
  });

  it('keeps transient messages, and those of a transient exchange, out of the store', () => {
    const store = new HolderStore();
    const { vhost } = setUp({ store, durable: false });
    expect(publish(vhost, 'later', 'k', 'p', withDelay(100, PERSISTENT)).stored).toBe(false);
    vhost.declareExchange({ exchange: 'durable', type: 'x-delayed-message', durable: true, arguments: delayed('direct') });
    expect(publish(vhost, 'durable', 'k', 't', withDelay(100)).stored).toBe(false);
    expect(store.added).toEqual([]);
  });

  it('waits while the disk alarm is on, then routes', () => {
    const store = new HolderStore();
    const { w, clock, vhost } = setUp({ store });
    publish(vhost, 'later', 'k', 'm', withDelay(100, PERSISTENT));
    store.sync();
    w.broker.diskAlarm = true;
    clock.advance(100);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    w.broker.diskAlarm = false;
    clock.advance(1000);
    store.sync();
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['m']);
  });
});

describe('x-delayed-message as a dead-letter exchange, and in exchange-to-exchange bindings', () => {
  it('holds a dead letter that carries x-delay and routes it at its due time (a retry with back-off)', () => {
    const { w, clock, vhost } = setUp();
    vhost.declareQueue({ queue: 'work', durable: true, arguments: { 'x-dead-letter-exchange': 'later', 'x-dead-letter-routing-key': 'k' } }, null);
    publish(vhost, '', 'work', 'retry-me', withDelay(500));
    const { channel } = w.channel();
    const got = channel.get(queueOf(vhost, 'work'), false);
    if (!got) throw new Error('test setup: nothing to get');
    channel.nack(got.deliveryTag, false, false);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    expect(vhost.exchanges.get('later')?.scheduled?.count).toBe(1);
    clock.advance(499);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual([]);
    clock.advance(1);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['retry-me']);
    const headers = queueOf(vhost, 'q').peek(0, 1)[0]?.message.properties.headers;
    expect((headers?.['x-death'] as Array<Record<string, unknown>>)[0]).toMatchObject({ reason: 'rejected', queue: 'work' });
  });

  it('a dead letter without x-delay goes through at once', () => {
    const { w, vhost } = setUp();
    vhost.declareQueue({ queue: 'work', durable: true, arguments: { 'x-dead-letter-exchange': 'later', 'x-dead-letter-routing-key': 'k' } }, null);
    publish(vhost, '', 'work', 'now');
    const { channel } = w.channel();
    const got = channel.get(queueOf(vhost, 'work'), false);
    if (!got) throw new Error('test setup: nothing to get');
    channel.nack(got.deliveryTag, false, false);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['now']);
  });

  it('refuses a binding into a delayed exchange; a binding out of one is followed at the due time', () => {
    const { clock, vhost } = setUp();
    vhost.declareExchange({ exchange: 'plain', type: 'direct' });
    expectBrokerError(() => vhost.bind({ source: 'plain', destination: 'later', destinationKind: 'exchange', routingKey: 'k' }), 'PRECONDITION_FAILED', /not supported/);
    vhost.declareQueue({ queue: 'downstream', durable: true }, null);
    vhost.bind({ source: 'later', destination: 'plain', destinationKind: 'exchange', routingKey: 'k' });
    vhost.bind({ source: 'plain', destination: 'downstream', destinationKind: 'queue', routingKey: 'k' });
    publish(vhost, 'later', 'k', 'through', withDelay(10));
    clock.advance(10);
    expect(readyBodies(queueOf(vhost, 'downstream'))).toEqual(['through']);
  });
});
