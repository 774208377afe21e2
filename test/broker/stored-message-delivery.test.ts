/**
 * A message given to the message store is handed out before its record is on disk, as RabbitMQ does.
 * If the write then fails, only what no queue handed out is refused (taken out of every queue, its
 * publish answered with an error); what a consumer already had is kept, for the store to write again —
 * telling its publisher "not stored" would bring it back as a duplicate. A recording store stands in
 * for the real one; the test says when records are "on disk" or their write "failed".
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import { publish, queueOf, world, type World } from './fixtures.js';
import { RecordingStore } from './recording-store.js';

const PERSISTENT = { deliveryMode: 2 } as const;

function setUp(): { w: World; store: RecordingStore } {
  const store = new RecordingStore();
  const w = world({ messageStore: store });
  w.vhost.declareQueue({ queue: 'q', durable: true }, null);
  w.vhost.declareQueue({ queue: 'idle', durable: true }, null);
  w.vhost.declareQueue({ queue: 'transient', durable: false }, null);
  w.vhost.declareExchange({ exchange: 'fan', type: 'fanout' });
  w.vhost.bind({ source: 'fan', destination: 'q', destinationKind: 'queue' });
  w.vhost.bind({ source: 'fan', destination: 'transient', destinationKind: 'queue' });
  return { w, store };
}

function body(message: Message): string {
  return new TextDecoder().decode(message.body);
}

describe('a stored message does not wait for its record', () => {
  it('is delivered and got before it is on disk, in publish order with the transient ones, and marked handed out', () => {
    const { w, store } = setUp();
    const { channel, sink } = w.channel();
    channel.consume(queueOf(w.vhost, 'q'), { tag: 'c', noAck: false, exclusive: false, arguments: {} });
    publish(w.vhost, '', 'q', 'stored', PERSISTENT);
    publish(w.vhost, '', 'q', 'transient');
    expect(sink.bodies()).toEqual(['stored', 'transient']);
    expect(store.added.map((m) => m.handedOut)).toEqual([true]);

    publish(w.vhost, '', 'idle', 'got', PERSISTENT);
    expect(store.added[1]?.handedOut).toBe(false);
    const got = channel.get(queueOf(w.vhost, 'idle'), true);
    expect(got && body(got.entry.message)).toBe('got');
    expect(store.added[1]?.handedOut).toBe(true);
  });

  it('if its write fails, what nobody received leaves every queue; what a consumer had stays, unacked', () => {
    const { w, store } = setUp();
    const { channel, sink } = w.channel();
    channel.consume(queueOf(w.vhost, 'q'), { tag: 'd', noAck: false, exclusive: false, arguments: {} });
    publish(w.vhost, 'fan', '', 'delivered', PERSISTENT);
    publish(w.vhost, '', 'idle', 'refused', PERSISTENT);
    publish(w.vhost, '', 'idle', 'behind');
    expect(sink.bodies('d')).toEqual(['delivered']);

    const kept = store.fail();
    expect(kept.map(body)).toEqual(['delivered']);
    const q = queueOf(w.vhost, 'q');
    expect(q.unackedCount).toBe(1);
    // The same message waits in the transient queue: it was not refused, so it stays there too.
    expect(queueOf(w.vhost, 'transient').messageCount).toBe(1);
    const idle = queueOf(w.vhost, 'idle');
    expect(idle.messageCount).toBe(1);
    const left = channel.get(idle, true);
    expect(left && body(left.entry.message)).toBe('behind');
    // Acked after the failure: it leaves for good, as any other.
    channel.ack(0, true);
    expect(q.unackedCount).toBe(0);
    expect(store.removed).toContain('q:delivered');
  });

  it('takes a refused message out of a queue nobody consumes, leaving the others in order', () => {
    const { w, store } = setUp();
    publish(w.vhost, '', 'idle', 'kept-1', PERSISTENT);
    store.sync();
    publish(w.vhost, '', 'idle', 'refused', PERSISTENT);
    publish(w.vhost, '', 'idle', 'kept-2');
    store.watcher?.refused(new Set([store.added[1] as Message]));
    store.sync();
    const { channel } = w.channel();
    const bodies: string[] = [];
    for (let got = channel.get(queueOf(w.vhost, 'idle'), true); got; got = channel.get(queueOf(w.vhost, 'idle'), true)) {
      bodies.push(body(got.entry.message));
    }
    expect(bodies).toEqual(['kept-1', 'kept-2']);
  });
});

describe('while the disk alarm is on', () => {
  it('refuses what would have to be written with 506, and allows what would not', () => {
    const { w } = setUp();
    w.broker.diskAlarm = true;
    const refusals = [
      () => w.vhost.declareQueue({ queue: 'new-durable', durable: true }, null),
      () => w.vhost.declareExchange({ exchange: 'new-durable', type: 'direct', durable: true }),
      () => w.vhost.bind({ source: 'amq.direct', destination: 'q', destinationKind: 'queue', routingKey: 'k' }),
      () => w.broker.addVhost('new-vhost'),
      () => w.broker.setClusterName('new-name'),
      () => w.vhost.updateMetadata({ description: 'changed' }),
      () => publish(w.vhost, '', 'q', 'persistent', PERSISTENT),
    ];
    for (const refused of refusals) expect(refused).toThrow(expect.objectContaining({ code: 506 }));
    expect(w.vhost.queues.has('new-durable')).toBe(false);
    expect(w.vhost.exchanges.has('new-durable')).toBe(false);
    expect(w.broker.vhosts.has('new-vhost')).toBe(false);

    // Already there, transient, or a deletion: nothing new to write, or space to win.
    expect(() => w.vhost.declareQueue({ queue: 'q', durable: true }, null)).not.toThrow();
    expect(() => w.vhost.declareQueue({ queue: 'scratch', durable: false }, null)).not.toThrow();
    expect(() => w.vhost.declareQueue({ queue: 'mine', durable: true, exclusive: true }, null)).not.toThrow();
    expect(() => w.vhost.bind({ source: 'fan', destination: 'q', destinationKind: 'queue' })).not.toThrow();
    expect(() => w.vhost.bind({ source: 'amq.direct', destination: 'scratch', destinationKind: 'queue' })).not.toThrow();
    expect(() => publish(w.vhost, '', 'q', 'transient')).not.toThrow();
    expect(() => w.vhost.deleteQueue('q')).not.toThrow();
  });
});
