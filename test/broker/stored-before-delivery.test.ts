/**
 * A message given to the message store is handed out only once its record is on disk: if the write
 * fails, its publish is answered with an error, and it must not have reached anyone. A recording store
 * stands in for the real one; the test says when records are "on disk" or "refused".
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
  w.vhost.declareQueue({ queue: 'transient', durable: false }, null);
  w.vhost.declareExchange({ exchange: 'fan', type: 'fanout' });
  w.vhost.bind({ source: 'fan', destination: 'q', destinationKind: 'queue' });
  w.vhost.bind({ source: 'fan', destination: 'transient', destinationKind: 'queue' });
  return { w, store };
}

describe('a stored message waits for its record', () => {
  it('is delivered once on disk, in order with the transient ones behind it', () => {
    const { w, store } = setUp();
    const { channel, sink } = w.channel();
    channel.consume(queueOf(w.vhost, 'q'), { tag: 'c', noAck: false, exclusive: false, arguments: {} });
    publish(w.vhost, '', 'q', 'stored', PERSISTENT);
    publish(w.vhost, '', 'q', 'transient');
    expect(sink.bodies()).toEqual([]);
    expect(channel.get(queueOf(w.vhost, 'q'), true)).toBeUndefined();

    store.sync();
    expect(sink.bodies()).toEqual(['stored', 'transient']);
    // Nothing stored is waiting now: the next transient one goes out at once.
    publish(w.vhost, '', 'q', 'right away');
    expect(sink.bodies()).toEqual(['stored', 'transient', 'right away']);
  });

  it('is taken out of every queue it reached if its write fails, and never delivered; what is behind it goes on', () => {
    const { w, store } = setUp();
    const { channel, sink } = w.channel();
    channel.consume(queueOf(w.vhost, 'q'), { tag: 'd', noAck: false, exclusive: false, arguments: {} });
    channel.consume(queueOf(w.vhost, 'transient'), { tag: 't', noAck: true, exclusive: false, arguments: {} });
    publish(w.vhost, 'fan', '', 'refused', PERSISTENT);
    publish(w.vhost, 'fan', '', 'behind');
    expect(sink.bodies()).toEqual([]);

    store.fail();
    expect(sink.bodies('d')).toEqual(['behind']);
    expect(sink.bodies('t')).toEqual(['behind']);
    expect(queueOf(w.vhost, 'q').messageCount).toBe(0);
    expect(queueOf(w.vhost, 'q').readyBytes).toBe(0);
  });

  it('takes a refused message out of a queue nobody consumes, leaving the others in order', () => {
    const { w, store } = setUp();
    publish(w.vhost, '', 'q', 'kept-1', PERSISTENT);
    store.sync();
    publish(w.vhost, '', 'q', 'refused', PERSISTENT);
    publish(w.vhost, '', 'q', 'kept-2');
    store.watcher?.refused(new Set([store.added[1] as Message]));
    store.sync();
    const { channel } = w.channel();
    const bodies: string[] = [];
    for (let got = channel.get(queueOf(w.vhost, 'q'), true); got; got = channel.get(queueOf(w.vhost, 'q'), true)) {
      bodies.push(new TextDecoder().decode(got.entry.message.body));
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
