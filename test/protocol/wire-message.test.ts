/**
 * The deliver frame's content part is encoded once per message for all the deliveries of one task (a
 * fan-out), and the encoding does not outlive the task: no module-global cache, no JSON kept with
 * messages that wait in a backlog or for their ack.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { Channel, type DeliverySink } from '../../src/broker/channel.js';
import type { Consumer } from '../../src/broker/consumer.js';
import { Message } from '../../src/broker/message.js';
import type { QueueEntry } from '../../src/broker/queue.js';
import { messageContentJson } from '../../src/protocol/wire-message.js';

/** Encodes as the WebSocket session does, and keeps the frames. */
class EncodingSink implements DeliverySink {
  readonly frames: string[] = [];

  deliver(consumer: Consumer, deliveryTag: number, entry: QueueEntry): void {
    this.frames.push(`{"consumerTag":${JSON.stringify(consumer.tag)},"deliveryTag":${deliveryTag},${messageContentJson(entry.message)}}`);
  }

  consumerCancelled(): void {}
}

afterEach(() => vi.restoreAllMocks());

function fanoutWorld(consumed: number, idle: number): { broker: Broker; sinks: EncodingSink[] } {
  const broker = new Broker();
  const vhost = broker.vhost('/');
  const sinks: EncodingSink[] = [];
  for (let i = 0; i < consumed + idle; i++) {
    vhost.declareQueue({ queue: `q${i}` }, null);
    vhost.bind({ source: 'amq.fanout', destination: `q${i}`, destinationKind: 'queue' });
    if (i >= consumed) continue;
    const sink = new EncodingSink();
    sinks.push(sink);
    const queue = vhost.queues.get(`q${i}`);
    if (!queue) throw new Error('no queue');
    new Channel(`ch${i}`, vhost, sink).consume(queue, { tag: `c${i}`, noAck: false, exclusive: false, arguments: {} });
  }
  return { broker, sinks };
}

const publish = (broker: Broker, body: string): Message =>
  broker.vhost('/').publish({ exchange: 'amq.fanout', routingKey: '', properties: {}, body: new TextEncoder().encode(body) }).message;

describe('messageContentJson', () => {
  it('encodes a message fanned out to several waiting consumers once, and every frame carries it', () => {
    const { broker, sinks } = fanoutWorld(3, 0);
    const reads = vi.spyOn(Message.prototype, 'content', 'get');
    publish(broker, 'hello');
    expect(reads).toHaveBeenCalledTimes(1);
    expect(sinks.map((s) => JSON.parse(s.frames[0] ?? '{}').body)).toEqual(['hello', 'hello', 'hello']);
  });

  it('encodes each message of a task on its own', () => {
    const { broker, sinks } = fanoutWorld(2, 0);
    publish(broker, 'one');
    publish(broker, 'two');
    expect(sinks.map((s) => s.frames.map((f) => JSON.parse(f).body))).toEqual([
      ['one', 'two'],
      ['one', 'two'],
    ]);
  });

  it('lets the encoding go when the task ends, for a message delivered and one left in a backlog alike', async () => {
    const { broker } = fanoutWorld(2, 1);
    const message = publish(broker, 'kept?');
    expect(message.sharedEncoding).toBeDefined();
    await Promise.resolve();
    expect(message.sharedEncoding).toBeUndefined();
    // A later delivery (from the backlog) encodes again, from the content.
    expect(JSON.parse(`{${messageContentJson(message)}}`).body).toBe('kept?');
  });

  it("keeps each message's encoding with that message: encoding another in between changes nothing", () => {
    const a = Message.create(1, { exchange: 'x', routingKey: 'a', properties: {}, body: new TextEncoder().encode('A') });
    const b = Message.create(2, { exchange: 'x', routingKey: 'b', properties: {}, body: new TextEncoder().encode('B') });
    const first = messageContentJson(a);
    messageContentJson(b);
    expect(messageContentJson(a)).toBe(first);
    expect(JSON.parse(`{${messageContentJson(b)}}`).routingKey).toBe('b');
  });
});
