/**
 * Shared helpers for the pure broker-domain tests: a recording DeliverySink, a recording QueueObserver,
 * publish shortcuts and an assertion for BrokerError reasons. No network, no I/O.
 */
import { expect } from 'vitest';
import { Broker, type BrokerOptions } from '../../src/broker/broker.js';
import { Channel, type CancelReason, type DeliverySink } from '../../src/broker/channel.js';
import type { Consumer } from '../../src/broker/consumer.js';
import { BrokerError, ReplyCodes, type ErrorName } from '../../src/broker/errors.js';
import type { MessageProperties } from '../../src/broker/message.js';
import type { Queue, QueueEntry } from '../../src/broker/queue.js';
import type { PublishResult, VHost } from '../../src/broker/vhost.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (text: string): Uint8Array => encoder.encode(text);
export const text = (entry: QueueEntry): string => decoder.decode(entry.message.body);

/** One push to the sink, with `redelivered` captured when it was delivered (entries are mutable). */
export interface RecordedDelivery {
  readonly consumerTag: string;
  readonly consumer: Consumer;
  readonly deliveryTag: number;
  readonly entry: QueueEntry;
  readonly body: string;
  readonly redelivered: boolean;
}

export class RecordingSink implements DeliverySink {
  readonly deliveries: RecordedDelivery[] = [];
  readonly cancelled: string[] = [];
  /** The reason given with each cancellation, in the same order as `cancelled`. */
  readonly cancelReasons: Array<CancelReason | undefined> = [];
  /** Called after each delivery is recorded; lets a test act from inside a delivery. */
  onDeliver: ((delivery: RecordedDelivery) => void) | undefined;

  deliver(consumer: Consumer, deliveryTag: number, entry: QueueEntry): void {
    const delivery: RecordedDelivery = {
      consumerTag: consumer.tag,
      consumer,
      deliveryTag,
      entry,
      body: text(entry),
      redelivered: entry.redelivered,
    };
    this.deliveries.push(delivery);
    this.onDeliver?.(delivery);
  }

  consumerCancelled(consumerTag: string, reason?: CancelReason): void {
    this.cancelled.push(consumerTag);
    this.cancelReasons.push(reason);
  }

  /** Bodies delivered so far (optionally for one consumer tag). */
  bodies(consumerTag?: string): string[] {
    return this.deliveries.filter((d) => consumerTag === undefined || d.consumerTag === consumerTag).map((d) => d.body);
  }

  tags(): number[] {
    return this.deliveries.map((d) => d.deliveryTag);
  }

  last(): RecordedDelivery {
    const delivery = this.deliveries[this.deliveries.length - 1];
    if (!delivery) throw new Error('no delivery recorded');
    return delivery;
  }

  /** Returns what was recorded so far and forgets it. */
  drain(): RecordedDelivery[] {
    return this.deliveries.splice(0, this.deliveries.length);
  }
}

/** What left queues for good (acked, rejected, noAck-delivered, purged, dropped), in order. */
export class SettledLog {
  readonly settledEntries: { queue: string; body: string }[] = [];

  record(queue: Queue, entry: QueueEntry): void {
    this.settledEntries.push({ queue: queue.name, body: text(entry) });
  }

  bodies(): string[] {
    return this.settledEntries.map((s) => s.body);
  }
}

/** The broker is its queues' observer; this one also logs every settlement. */
class RecordingBroker extends Broker {
  readonly log = new SettledLog();

  override settled(queue: Queue, entry: QueueEntry): void {
    this.log.record(queue, entry);
    super.settled(queue, entry);
  }
}

export interface World {
  readonly broker: Broker;
  readonly vhost: VHost;
  /** Every settlement the broker was told of. */
  readonly observer: SettledLog;
  /** A new open channel on the vhost, with its own recording sink. */
  channel(id?: string): { channel: Channel; sink: RecordingSink };
}

let channelCounter = 0;

export function world(options: BrokerOptions = {}): World {
  const broker = new RecordingBroker(options);
  const vhost = broker.vhost('/');
  return {
    broker,
    vhost,
    observer: broker.log,
    channel(id = `ch-${++channelCounter}`) {
      const sink = new RecordingSink();
      return { channel: new Channel(id, vhost, sink), sink };
    },
  };
}

export function publish(
  vhost: VHost,
  exchange: string,
  routingKey: string,
  body: string,
  properties: MessageProperties = {},
): PublishResult {
  return vhost.publish({ exchange, routingKey, properties, body: bytes(body) });
}

/** Publishes each body to the default exchange with the queue's name as routing key. */
export function fill(vhost: VHost, queue: string, bodies: readonly string[]): void {
  for (const body of bodies) publish(vhost, '', queue, body);
}

export function queueOf(vhost: VHost, name: string): Queue {
  const queue = vhost.queues.get(name);
  if (!queue) throw new Error(`test setup: no queue '${name}'`);
  return queue;
}

/** Ready bodies of a queue, head first, without taking them. */
export function readyBodies(queue: Queue): string[] {
  return queue.peek(0, queue.messageCount).map(text);
}

export function consumerOptions(
  tag: string,
  overrides: { noAck?: boolean; exclusive?: boolean; prefetch?: number; arguments?: Record<string, unknown> } = {},
): { tag: string; noAck: boolean; exclusive: boolean; prefetch?: number | undefined; arguments: Record<string, unknown> } {
  return {
    tag,
    noAck: overrides.noAck ?? false,
    exclusive: overrides.exclusive ?? false,
    prefetch: overrides.prefetch,
    arguments: overrides.arguments ?? {},
  };
}

/** Runs `fn`, expects a BrokerError (never another error) and returns it. */
export function catchBrokerError(fn: () => unknown): BrokerError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected a BrokerError, but nothing was thrown');
  if (!(thrown instanceof BrokerError)) throw thrown;
  return thrown;
}

/** Expects `fn` to throw a BrokerError with this reason and its AMQP reply code. */
export function expectBrokerError(fn: () => unknown, reason: ErrorName, message?: RegExp): BrokerError {
  const error = catchBrokerError(fn);
  expect({ reason: error.reason, code: error.code }).toEqual({ reason, code: ReplyCodes[reason] });
  if (message) expect(error.message).toMatch(message);
  return error;
}
