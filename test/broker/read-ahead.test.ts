/**
 * Queues whose messages' contents were released from memory (deep in a durable queue, or recovered):
 * delivery waits for an asynchronous read-ahead; the loader has no way to read on the spot. A fake loader stands in
 * for the message store and hands out each batch only when the test says so.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { Channel } from '../../src/broker/channel.js';
import { Message, TextContent, type ContentLoader, type MessageContent } from '../../src/broker/message.js';
import type { Queue, QueueEntry } from '../../src/broker/queue.js';
import { READ_AHEAD_BYTES, READ_AHEAD_MESSAGES } from '../../src/broker/read-ahead.js';
import type { VHost } from '../../src/broker/vhost.js';
import { consumerOptions, queueOf, RecordingSink } from './fixtures.js';

interface Batch {
  readonly ids: number[];
  /** Hands the batch its contents; the ids listed come back unreadable. */
  complete(unreadable?: readonly number[]): void;
}

/** A message store's reading side: contents are `m<id>` padded to the message's size. */
class FakeLoader implements ContentLoader {
  readonly batches: Batch[] = [];

  load(messages: readonly Message[]): Promise<Array<MessageContent | undefined>> {
    return new Promise((resolve) => {
      this.batches.push({
        ids: messages.map((m) => m.id),
        complete: (unreadable = []) => resolve(messages.map((m) => (unreadable.includes(m.id) ? undefined : contentOf(m)))),
      });
    });
  }

  /** The batches asked for and not yet completed. */
  private completed = 0;

  pending(): Batch[] {
    return this.batches.slice(this.completed);
  }

  /** Completes every batch asked for so far, then lets the queues act on it. */
  async completeAll(unreadable: readonly number[] = []): Promise<void> {
    const open = this.pending();
    this.completed = this.batches.length;
    for (const batch of open) batch.complete(unreadable);
    await settle();
  }

  /** Completes batches (and the ones their completion asks for) until none is left. */
  async drain(): Promise<void> {
    while (this.pending().length > 0) await this.completeAll();
  }
}

function contentOf(message: { id: number; size: number }): MessageContent {
  const body = `m${message.id}`.padEnd(message.size, '.');
  return new TextContent('', 'd', { deliveryMode: 2 }, body, message.size);
}

/** Records which messages left queues for good, by id: their contents may not be in memory. */
class SettlingBroker extends Broker {
  readonly settledIds: number[] = [];

  override settled(queue: Queue, entry: QueueEntry): void {
    this.settledIds.push(entry.message.id);
    super.settled(queue, entry);
  }
}

/** Lets every promise callback that is due run (the loader's resolutions and what they trigger). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let broker: SettlingBroker;
let vhost: VHost;
let queue: Queue;
let channel: Channel;
let sink: RecordingSink;
let loader: FakeLoader;
let nextId: number;

let channels = 0;

function openChannel(): { channel: Channel; sink: RecordingSink } {
  const sink = new RecordingSink();
  return { channel: new Channel(`ch-${++channels}`, vhost, sink), sink };
}

beforeEach(() => {
  broker = new SettlingBroker();
  vhost = broker.vhost('/');
  vhost.declareQueue({ queue: 'd', durable: true }, null);
  queue = queueOf(vhost, 'd');
  ({ channel, sink } = openChannel());
  loader = new FakeLoader();
  nextId = 1;
});

/** Messages whose content is on disk only, as recovery hands them to a queue. */
function restoreReleased(count: number, size = 10, into: Queue = queue): Message[] {
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const message = new Message(nextId++, true, size, Date.now(), undefined, loader);
    into.restore(message, false);
    messages.push(message);
  }
  broker.advanceMessageIds(nextId);
  return messages;
}

function restoreInMemory(count: number): void {
  for (let i = 0; i < count; i++) {
    const id = nextId++;
    queue.restore(new Message(id, true, 10, Date.now(), contentOf({ id, size: 10 })), false);
  }
  broker.advanceMessageIds(nextId);
}

const unpadded = (body: string): string => body.replace(/\.+$/, '');
const delivered = (from: RecordingSink = sink): string[] => from.bodies().map(unpadded);
const names = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe('delivery of released contents', () => {
  it('pauses at a head whose content is not in memory and delivers, in order, once the read completes', async () => {
    restoreReleased(5);
    channel.consume(queue, consumerOptions('c'));
    expect(sink.deliveries).toEqual([]);
    expect(loader.batches.map((b) => b.ids)).toEqual([[1, 2, 3, 4, 5]]);
    await loader.completeAll();
    expect(delivered()).toEqual(names(1, 5));
  });

  it('delivers what is in memory at once and waits only where the released part begins', async () => {
    restoreInMemory(3);
    restoreReleased(3);
    channel.consume(queue, consumerOptions('c'));
    expect(delivered()).toEqual(names(1, 3));
    await loader.completeAll();
    expect(delivered()).toEqual(names(1, 6));
  });

  it('reads a long backlog ahead in bounded batches, the next one while the last is being delivered', async () => {
    const count = 3 * READ_AHEAD_MESSAGES + 17;
    restoreReleased(count);
    channel.consume(queue, consumerOptions('c'));
    await loader.drain();
    expect(delivered()).toEqual(names(1, count));
    const sizes = loader.batches.map((b) => b.ids.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(READ_AHEAD_MESSAGES);
    expect(loader.batches.flatMap((b) => b.ids)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it('stops a batch at the byte limit for big messages', () => {
    const size = READ_AHEAD_BYTES / 4;
    restoreReleased(10, size);
    channel.consume(queue, consumerOptions('c'));
    expect(loader.batches[0]?.ids).toEqual([1, 2, 3, 4]);
  });

  it('keeps delivering under prefetch: acks free capacity, the reads keep up, nothing is read twice', async () => {
    const count = 2 * READ_AHEAD_MESSAGES;
    restoreReleased(count);
    channel.consume(queue, consumerOptions('c', { prefetch: 10 }));
    for (let round = 0; round < 100 && sink.deliveries.length < count; round++) {
      await loader.completeAll();
      if (sink.deliveries.length > 0) channel.ack(sink.last().deliveryTag, true);
    }
    expect(delivered()).toEqual(names(1, count));
    expect(loader.batches.flatMap((b) => b.ids)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it('holds read-back contents only until they are sent: delivered messages are released again', async () => {
    const messages = restoreReleased(READ_AHEAD_MESSAGES);
    channel.consume(queue, consumerOptions('c', { prefetch: 3 }));
    await loader.completeAll();
    expect(sink.deliveries.length).toBe(3);
    expect(messages.slice(0, 3).map((m) => m.inMemory)).toEqual([false, false, false]);
    expect(messages.slice(3).every((m) => m.inMemory)).toBe(true);
  });

  it('serves each of several consumers in turn, in queue order', async () => {
    restoreReleased(6);
    const a = channel.consume(queue, consumerOptions('a'));
    const other = openChannel();
    other.channel.consume(queue, consumerOptions('b'));
    await loader.completeAll();
    expect([...sink.deliveries, ...other.sink.deliveries].sort((x, y) => x.entry.seq - y.entry.seq).map((d) => d.consumerTag)).toEqual([
      'a',
      'b',
      'a',
      'b',
      'a',
      'b',
    ]);
    expect(a.unacked).toBe(3);
  });

  it('drops a message whose content cannot be read and delivers the rest', async () => {
    restoreReleased(4);
    channel.consume(queue, consumerOptions('c'));
    await loader.completeAll([2]);
    expect(delivered()).toEqual(['m1', 'm3', 'm4']);
    expect(queue.messageCount).toBe(0);
    expect(broker.settledIds).toEqual([2]);
    expect(broker.stats.deliver).toBe(3);
  });

  it('redelivers a requeued message by reading it back again', async () => {
    restoreReleased(2);
    channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    await loader.completeAll();
    expect(delivered()).toEqual(['m1']);
    channel.nack(sink.last().deliveryTag, false, true);
    expect(sink.deliveries.length).toBe(1);
    await loader.drain();
    expect(delivered()).toEqual(['m1', 'm1']);
    expect(sink.last().redelivered).toBe(true);
  });

  it('delivers a message held by two queues to both, each after a read', async () => {
    vhost.declareQueue({ queue: 'e', durable: true }, null);
    const other = queueOf(vhost, 'e');
    const message = new Message(nextId++, true, 10, Date.now(), undefined, loader);
    queue.restore(message, false);
    other.restore(message, false);
    channel.consume(queue, consumerOptions('c'));
    const second = openChannel();
    second.channel.consume(other, consumerOptions('d'));
    await loader.drain();
    expect(delivered()).toEqual(['m1']);
    expect(delivered(second.sink)).toEqual(['m1']);
  });
});

describe('a read in flight when the queue changes', () => {
  it('consumer cancelled: nothing is delivered, nothing is kept, the next consumer gets it all in order', async () => {
    const messages = restoreReleased(4);
    channel.consume(queue, consumerOptions('c'));
    channel.cancel('c');
    await loader.completeAll();
    expect(sink.deliveries).toEqual([]);
    expect(messages.some((m) => m.inMemory)).toBe(false);
    channel.consume(queue, consumerOptions('c2'));
    await loader.drain();
    expect(delivered()).toEqual(names(1, 4));
  });

  it('queue purged: nothing is delivered and the contents read are let go', async () => {
    const messages = restoreReleased(4);
    channel.consume(queue, consumerOptions('c'));
    expect(queue.purge()).toBe(4);
    await loader.completeAll();
    expect(sink.deliveries).toEqual([]);
    expect(messages.some((m) => m.inMemory)).toBe(false);
    expect(broker.settledIds).toEqual([1, 2, 3, 4]);
  });

  it('queue deleted: the consumer is cancelled and the read changes nothing', async () => {
    restoreReleased(4);
    channel.consume(queue, consumerOptions('c'));
    expect(vhost.deleteQueue('d')).toBe(4);
    expect(sink.cancelled).toEqual(['c']);
    await loader.completeAll();
    expect(sink.deliveries).toEqual([]);
  });

  it('messages taken meanwhile by basic.get are not delivered twice', async () => {
    restoreReleased(3);
    channel.consume(queue, consumerOptions('c', { prefetch: 2 }));
    const { channel: getter } = openChannel();
    // The get waits on the read the consumer's dispatch started; whoever comes first takes the head.
    const got = getter.getLoaded(queue, true);
    await loader.drain();
    const gotId = (await got)?.entry.message.id;
    expect(delivered()).toEqual(['m1', 'm2']);
    expect(gotId).toBe(3);
  });

  it('consumer without capacity: the read waits for an ack, no reads pile up', async () => {
    restoreReleased(3 * READ_AHEAD_MESSAGES);
    channel.consume(queue, consumerOptions('c', { prefetch: 1 }));
    await loader.completeAll();
    expect(delivered()).toEqual(['m1']);
    for (let i = 0; i < 5; i++) await loader.completeAll();
    expect(loader.batches.length).toBeLessThanOrEqual(2);
  });
});

describe('basic.get of a released head', () => {
  it('getLoaded waits for the read and never reads on the spot', async () => {
    restoreReleased(3);
    const pending = channel.getLoaded(queue, false);
    expect(loader.batches.length).toBe(1);
    await loader.completeAll();
    const got = await pending;
    expect(got?.entry.message.content.exchange).toBe('');
    expect(got?.entry.message.id).toBe(1);
    // The rest was read ahead with it.
    expect((await channel.getLoaded(queue, true))?.entry.message.id).toBe(2);
    expect(loader.batches.length).toBe(1);
  });

  it('a synchronous get never reads on the spot: before the head is read back it is refused as a bug', async () => {
    restoreReleased(3);
    expect(() => channel.get(queue, false)).toThrow(/before its head was read back/);
    const pending = channel.getLoaded(queue, false);
    await loader.completeAll();
    const first = await pending;
    expect(first?.entry.message.inMemory).toBe(true);
    // The rest came with the same read: synchronous gets now find their heads in memory.
    expect(channel.get(queue, false)?.entry.message.id).toBe(2);
    expect(channel.get(queue, false)?.entry.message.id).toBe(3);
    expect(loader.batches.length).toBe(1);
    // A content read back for a get is let go once settled.
    channel.ack(0, true);
    expect(first?.entry.message.inMemory).toBe(false);
  });

  it('an empty queue gives undefined at once', async () => {
    expect(await channel.getLoaded(queue, false)).toBeUndefined();
  });
});

describe('peek of released contents', () => {
  it('shows contents without keeping them in the queue', async () => {
    const messages = restoreReleased(3);
    const peeked = queue.peekLoaded(1, 2);
    await loader.completeAll();
    const entries = await peeked;
    expect(entries.map((e) => e.message.content.body.length)).toEqual([10, 10]);
    expect(entries.map((e) => e.message.id)).toEqual([2, 3]);
    expect(messages.some((m) => m.inMemory)).toBe(false);
  });
});

describe('Message', () => {
  it('never reads on the spot when its content is asked for: a released content must be read back first', () => {
    const [message] = restoreReleased(1);
    expect(() => message?.content).toThrow(/not in memory/);
  });
});
