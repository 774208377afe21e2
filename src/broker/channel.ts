import type { ProtocolTotals } from './channel-tally.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { BrokerError, preconditionFailed } from './errors.js';
import type { Message } from './message.js';
import { MessageStats } from './message-stats.js';
import type { Queue, QueueEntry } from './queue.js';
import { UNKNOWN_ORIGIN, type TraceOrigin } from './trace-event.js';
import type { TracedSettlement } from './tracer.js';
import type { VHost } from './vhost.js';

/** Where a channel's pushes go: the protocol session implements this at its edge. */
export interface DeliverySink {
  deliver(consumer: Consumer, deliveryTag: number, entry: QueueEntry): void;
  /** The broker cancelled the consumer: its queue was deleted (no reason given), or it timed out. */
  consumerCancelled(consumerTag: string, reason?: CancelReason): void;
  /** A mandatory message this connection published reached no queue (later, for a delayed message); sinks without returns leave it out. */
  sendReturn?(message: Message): void;
  /** A one-channel protocol's session names its protocol here, as a connection does (`ConnectionIdentity`). */
  readonly protocol?: string;
}

/** Why the broker cancelled a consumer, for the client; `reason` is a stable code, `message` for people. */
export interface CancelReason {
  readonly reason: 'consumer_timeout';
  readonly message: string;
}

/** One handed-out message awaiting settlement. `consumer` is null for basic.get. */
export interface Delivery {
  readonly tag: number;
  readonly queue: Queue;
  readonly entry: QueueEntry;
  readonly consumer: Consumer | null;
}

export type ChannelState = 'open' | 'closed';

/**
 * The connection a channel belongs to: exclusive queues belong to it, not to one of its channels. A
 * protocol with one channel per connection lets the channel stand for itself.
 */
export interface ConnectionIdentity {
  readonly id: string;
  /** The client protocol's name (`ClientConnection.protocol`), for the per-protocol counters. */
  readonly protocol?: string;
}

type Settlement = 'ack' | 'requeue' | 'discard';

/**
 * One channel of a client connection: its consumers, its delivery tags and its unacked deliveries. The
 * JSON protocol has one per connection; AMQP 0-9-1 has many, and their connection owns exclusive queues.
 */
export class Channel {
  state: ChannelState = 'open';
  readonly stats = new MessageStats();
  /** Default prefetch for consumers started after a `qos`. */
  prefetch = 0;
  /**
   * Unacked deliveries all the channel's consumers may hold together; 0 = no limit. AMQP's `basic.qos`
   * with `global` set, as RabbitMQ interprets it (the spec's per-connection meaning is not used).
   */
  sharedPrefetch = 0;
  readonly connection: ConnectionIdentity;
  /**
   * Its protocol's broker-wide totals, which take its counters when it closes; undefined for a channel
   * of no client protocol (the management API's get).
   */
  readonly totals: ProtocolTotals | undefined;
  /** Who it belongs to, for tracing: the protocol adapter that opens it says. */
  origin: TraceOrigin = UNKNOWN_ORIGIN;
  /** Cleared by the transport while its outgoing buffer is full; deliveries pause until it is set again. */
  private isWritable = true;
  /** Cleared by the client's `channel.flow`: deliveries pause until it asks again. */
  private flowActive = true;
  private nextTag = 1;
  /** Deliveries to consumers that await their ack: what `sharedPrefetch` limits (gets are not limited). */
  private consumerUnacked = 0;
  private readonly unacked = new Map<number, Delivery>();
  private readonly consumers = new Map<string, Consumer>();

  constructor(
    readonly id: string,
    readonly vhost: VHost,
    private readonly sink: DeliverySink,
    connection?: ConnectionIdentity,
  ) {
    this.connection = connection ?? this;
    const protocol = connection?.protocol ?? sink.protocol;
    this.totals = protocol === undefined ? undefined : vhost.channelTally.opened(protocol, this);
  }

  /** Whether deliveries may go out at all: the socket has room and the client has not paused them. */
  get writable(): boolean {
    return this.isWritable && this.flowActive;
  }

  /** Whether one more delivery that needs an ack fits under the shared prefetch. */
  get hasSharedRoom(): boolean {
    return this.sharedPrefetch === 0 || this.consumerUnacked < this.sharedPrefetch;
  }

  setWritable(writable: boolean): void {
    if (this.isWritable === writable) return;
    this.isWritable = writable;
    if (writable) this.dispatchAll();
  }

  /** `channel.flow`: the client pauses (false) or resumes (true) deliveries on this channel. */
  setFlow(active: boolean): void {
    if (this.flowActive === active) return;
    this.flowActive = active;
    if (active) this.dispatchAll();
  }

  /** A larger shared prefetch may let waiting messages out at once. */
  setSharedPrefetch(count: number): void {
    const grew = count === 0 || count > this.sharedPrefetch;
    this.sharedPrefetch = count;
    if (grew) this.dispatchAll();
  }

  private dispatchAll(): void {
    for (const queue of new Set([...this.consumers.values()].map((c) => c.queue))) queue.dispatch();
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  get consumerList(): Consumer[] {
    return [...this.consumers.values()];
  }

  /**
   * Starts a consumer. With `start: false` deliveries wait for the caller's `queue.dispatch()`, so a
   * protocol can send its consume-ok before the first delivery.
   */
  consume(
    queue: Queue,
    options: Omit<ConsumerOptions, 'prefetch'> & { prefetch?: number | undefined },
    { start = true }: { start?: boolean } = {},
  ): Consumer {
    this.assertOpen();
    if (this.consumers.has(options.tag)) {
      throw new BrokerError('NOT_ALLOWED', `attempt to reuse consumer tag '${options.tag}'`);
    }
    const consumer = new Consumer(this, queue, { ...options, prefetch: options.prefetch ?? this.prefetch });
    queue.addConsumer(consumer);
    this.consumers.set(consumer.tag, consumer);
    if (start) queue.dispatch();
    return consumer;
  }

  /** Cancels a consumer; unknown tags are ignored, as in AMQP. Its unacked deliveries stay unacked. */
  cancel(tag: string): void {
    const consumer = this.consumers.get(tag);
    if (!consumer) return;
    this.consumers.delete(tag);
    consumer.state = 'cancelled';
    // Its unacked deliveries stay with the client, which cancelled knowingly: they are no longer timed.
    consumer.timeout?.stop();
    consumer.queue.removeConsumer(consumer);
    if (consumer.queue.shouldAutoDelete) this.vhost.deleteQueue(consumer.queue.name, {}, this);
  }

  /** The queue was deleted under the consumer: forget it and tell the client. */
  consumerCancelledByBroker(consumer: Consumer): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    consumer.state = 'cancelled';
    consumer.timeout?.stop();
    this.sink.consumerCancelled(consumer.tag);
  }

  isUnacked(deliveryTag: number): boolean {
    return this.unacked.has(deliveryTag);
  }

  /**
   * The consumer held `deliveryTag` unacked for `ms`: cancel it, tell the client why, and requeue all its
   * unacked deliveries for the queue's other consumers. Unlike RabbitMQ, which closes the whole channel,
   * only this consumer goes: the connection and its other consumers carry on.
   */
  consumerTimedOut(consumer: Consumer, deliveryTag: number, ms: number): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    consumer.state = 'cancelled';
    consumer.timeout?.stop();
    const held: Delivery[] = [];
    for (const delivery of this.unacked.values()) if (delivery.consumer === consumer) held.push(delivery);
    for (const delivery of held) this.unacked.delete(delivery.tag);
    // Requeued before the consumer leaves its queue (leaving dispatches), so they go out first, in order.
    const touched = this.settleEach(held, 'requeue');
    this.sink.consumerCancelled(consumer.tag, {
      reason: 'consumer_timeout',
      message: `delivery ${deliveryTag} not acknowledged within ${ms} ms`,
    });
    consumer.queue.removeConsumer(consumer);
    if (consumer.queue.shouldAutoDelete) this.vhost.deleteQueue(consumer.queue.name, {}, this);
    for (const queue of touched) queue.dispatch();
  }

  /** Called by a queue handing `entry` to `consumer`. */
  deliver(consumer: Consumer, entry: QueueEntry): void {
    const tag = this.nextTag++;
    if (consumer.noAck) this.stats.deliverNoAck++;
    else {
      this.stats.deliver++;
      consumer.unacked++;
      this.consumerUnacked++;
      this.unacked.set(tag, { tag, queue: consumer.queue, entry, consumer });
      consumer.timeout?.delivered(tag);
    }
    if (entry.redelivered) this.stats.redeliver++;
    if (this.vhost.tracer.active) this.vhost.tracer.delivered(consumer.queue.name, entry, consumer.tag, this.origin);
    this.sink.deliver(consumer, tag, entry);
  }

  /** A delivery tag for a message handed over without a queue (a direct reply-to reply), counted as a no-ack delivery. */
  directDeliveryTag(): number {
    this.stats.deliverNoAck++;
    return this.nextTag++;
  }

  /** basic.get. Returns the delivery tag with the entry, or undefined when the queue is empty. */
  get(queue: Queue, noAck: boolean): { deliveryTag: number; entry: QueueEntry } | undefined {
    this.assertOpen();
    const entry = queue.take(noAck);
    if (!entry) {
      this.stats.getEmpty++;
      queue.stats.getEmpty++;
      return undefined;
    }
    const tag = this.nextTag++;
    if (noAck) this.stats.getNoAck++;
    else {
      this.stats.get++;
      this.unacked.set(tag, { tag, queue, entry, consumer: null });
    }
    if (entry.redelivered) this.stats.redeliver++;
    if (this.vhost.tracer.active) this.vhost.tracer.delivered(queue.name, entry, null, this.origin);
    return { deliveryTag: tag, entry };
  }

  /**
   * basic.get for a caller that can wait: the head's content is read back first, asynchronously, so
   * nothing is read on the spot (see `Queue.take`). Undefined when the queue is empty.
   */
  async getLoaded(queue: Queue, noAck: boolean): Promise<{ deliveryTag: number; entry: QueueEntry } | undefined> {
    for (let read = queue.loadHead(); read; read = queue.loadHead()) await read;
    return this.get(queue, noAck);
  }

  ack(deliveryTag: number, multiple: boolean): void {
    this.settle(this.take(deliveryTag, multiple), 'ack');
  }

  /** `kind` only names it in a trace: basic.reject settles as a nack of one delivery. */
  nack(deliveryTag: number, multiple: boolean, requeue: boolean, kind: 'nacked' | 'rejected' = 'nacked'): void {
    this.settle(this.take(deliveryTag, multiple), requeue ? 'requeue' : 'discard', kind);
  }

  /** basic.recover with requeue: every unacked delivery goes back to its queue. */
  recover(): void {
    this.settle(this.takeAll(), 'requeue');
  }

  /** A mandatory message it published turned out unroutable at its due time: back to the publisher, if still connected. */
  returnUnroutable(message: Message): boolean {
    if (this.state !== 'open' || !this.sink.sendReturn) return false;
    this.sink.sendReturn(message);
    return true;
  }

  /** The connection went away: cancel consumers, requeue unacked, delete exclusive queues. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.totals) this.vhost.channelTally.closed(this.totals, this);
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    // Requeue before any consumer leaves its queue: leaving dispatches, and the requeued messages must
    // go out ahead of the ones behind them, to other consumers, never back to this channel.
    for (const consumer of consumers) {
      consumer.state = 'cancelled';
      consumer.timeout?.stop();
    }
    const touched = this.settleEach(this.takeAll(), 'requeue');
    for (const consumer of consumers) {
      consumer.queue.removeConsumer(consumer);
      if (consumer.queue.shouldAutoDelete) this.vhost.deleteQueue(consumer.queue.name, {}, this);
    }
    for (const queue of touched) queue.dispatch();
    // A channel that is its own connection takes its exclusive queues with it; a multi-channel
    // connection deletes them when it closes.
    if (this.connection === this) this.vhost.deleteExclusiveQueues(this);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new BrokerError('CHANNEL_ERROR', 'channel is closed');
  }

  private take(deliveryTag: number, multiple: boolean): Delivery[] {
    if (multiple && deliveryTag === 0) return this.takeAll();
    if (!this.unacked.has(deliveryTag)) throw preconditionFailed(`unknown delivery tag ${deliveryTag}`);
    if (!multiple) {
      const delivery = this.unacked.get(deliveryTag) as Delivery;
      this.unacked.delete(deliveryTag);
      return [delivery];
    }
    // Map iteration follows insertion order, which is tag order.
    const taken: Delivery[] = [];
    for (const [tag, delivery] of this.unacked) {
      if (tag > deliveryTag) break;
      taken.push(delivery);
    }
    for (const delivery of taken) this.unacked.delete(delivery.tag);
    return taken;
  }

  private takeAll(): Delivery[] {
    const all = [...this.unacked.values()];
    this.unacked.clear();
    return all;
  }

  /** Settles the deliveries, then lets each queue they came from hand out what that freed up. */
  private settle(deliveries: Delivery[], how: Settlement, kind?: TracedSettlement): void {
    if (this.vhost.tracer.active) this.traceSettled(deliveries, kind ?? (how === 'ack' ? 'acked' : 'nacked'), how === 'requeue');
    const [only] = deliveries;
    if (deliveries.length === 1 && only && this.sharedPrefetch === 0) {
      // The common single ack: no set of queues to build.
      this.settleOne(only, how);
      only.queue.dispatch();
      return;
    }
    const touched = this.settleEach(deliveries, how);
    // Room under a shared prefetch is room for every consumer of the channel, whatever queue it reads.
    if (this.sharedPrefetch > 0) for (const consumer of this.consumers.values()) touched.add(consumer.queue);
    for (const queue of touched) queue.dispatch();
  }

  private traceSettled(deliveries: readonly Delivery[], kind: TracedSettlement, requeue: boolean): void {
    for (const { queue, entry } of deliveries) this.vhost.tracer.settled(queue.name, entry, kind, requeue, this.origin);
  }

  /** Settles without dispatching; returns the queues touched. */
  private settleEach(deliveries: Delivery[], how: Settlement): Set<Queue> {
    const touched = new Set<Queue>();
    for (const delivery of deliveries) {
      this.settleOne(delivery, how);
      touched.add(delivery.queue);
    }
    return touched;
  }

  private settleOne({ queue, entry, consumer }: Delivery, how: Settlement): void {
    if (consumer) {
      consumer.unacked--;
      this.consumerUnacked--;
      consumer.timeout?.settled(consumer.unacked);
    }
    if (how === 'requeue') queue.requeue(entry);
    else {
      const outcome = how === 'ack' ? 'ack' : 'reject';
      queue.settle(entry, outcome);
      this.stats[outcome]++;
    }
  }
}
