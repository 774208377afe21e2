import type { Broker } from '../broker/broker.js';
import { Channel, type DeliverySink } from '../broker/channel.js';
import type { Consumer } from '../broker/consumer.js';
import { BrokerError, preconditionFailed } from '../broker/errors.js';
import { Message, type MessageContent } from '../broker/message.js';
import type { Queue, QueueEntry } from '../broker/queue.js';
import type { Held } from '../broker/scheduled-messages.js';
import type { TraceOrigin } from '../broker/trace-event.js';
import type { Caller } from './caller.js';
import { DirectReplyTo, type ReplyConsumer } from './direct-reply-to.js';
import { immediate, type Done, type DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

export interface PublishOptions {
  /** Return the message to the publisher when no queue takes it. */
  readonly mandatory: boolean;
  /** The publisher wants a confirm (counted as one). */
  readonly confirm: boolean;
}

export interface Published {
  readonly message: Message;
  /** At least one queue took the message. */
  readonly routed: boolean;
  /** Mandatory and unroutable: the adapter sends it back to the publisher (before any confirm). */
  readonly returned: boolean;
  /** A full `x-overflow: reject-publish` queue refused it: a confirm becomes a nack. */
  readonly rejectedBy: Queue | undefined;
  /** A delayed exchange holds it until `due` (not routed, not returned yet: see DelayedDelivery). */
  readonly scheduled?: Held | undefined;
}

export interface ConsumeSpec {
  readonly queue: string;
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly prefetch?: number | undefined;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface Got {
  readonly deliveryTag: number;
  readonly entry: QueueEntry;
  /** As handed out: a requeue after the get flags the entry itself redelivered. */
  readonly redelivered: boolean;
  /** As handed out, for the same reason: `x-delivery-count`. */
  readonly deliveryCount: number;
  /** Ready messages left in the queue after this one. */
  readonly messageCount: number;
}

/** A message the management API took: its content is read before it is settled, when it may leave the store. */
export interface Taken extends Got {
  readonly content: MessageContent;
}

export type Settlement = 'ack' | 'requeue' | 'discard';

/** `take` only gets: its channel never has consumers. */
const ignoreDeliveries: DeliverySink = { deliver: () => undefined, consumerCancelled: () => undefined };

/** Publishing, consuming, getting and settling: what moves messages, and the counters that follow them. */
export class MessageOperations {
  /** Requesters consuming from `amq.rabbitmq.reply-to`, whatever protocol their replies come over. */
  readonly replyTo = new DirectReplyTo();
  private takeChannels = 0;

  constructor(
    private readonly broker: Broker,
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  publish(caller: Caller, content: MessageContent, options: PublishOptions): Done<Published> {
    this.permissions.check(caller, 'write', 'exchange', content.exchange);
    this.permissions.checkTopic(caller, 'write', content.exchange, content.routingKey);
    const userId = content.properties.userId;
    if (userId !== undefined && userId !== caller.user.name && !caller.trusted) {
      throw preconditionFailed(`user_id property set to '${userId}' but authenticated user was '${caller.user.name}'`);
    }
    const requester = this.replyTo.consumerFor(content.exchange, content.routingKey);
    if (requester) return this.reply(caller, content, requester, options);
    const mark = this.watch.mark;
    const tracer = caller.vhost.tracer;
    const origin = tracer.active ? originOf(caller) : undefined;
    const result = caller.vhost.publish(content, options.mandatory ? caller.channel : null, origin);
    const routed = result.queues.length > 0;
    const rejectedBy = result.rejectedBy[0];
    const global = this.broker.stats;
    const stats = caller.channel?.stats;
    if (stats) stats.publish++;
    caller.channel?.totals?.messageSizes.observe(result.message.size);
    let returned = false;
    if (!routed && rejectedBy === undefined && !result.scheduled) {
      if (options.mandatory) {
        returned = true;
        global.returnUnroutable++;
        if (stats) stats.returnUnroutable++;
      } else {
        global.dropUnroutable++;
        if (stats) stats.dropUnroutable++;
      }
      if (origin) tracer.unrouted(result.message, returned ? 'returned' : 'unroutable', origin);
    }
    if (options.confirm) {
      global.confirm++;
      if (stats) stats.confirm++;
    }
    const published = { message: result.message, routed, returned, rejectedBy, scheduled: result.scheduled };
    // Only a stored message can be refused by a failed write; any other publish waits for what it wrote (a settlement, say).
    return result.stored ? this.watch.stored(published, mark, result.message) : this.watch.done(published, mark);
  }

  /** A reply to a direct reply-to requester: delivered at once, never stored, so there is nothing to wait for. */
  private reply(caller: Caller, content: MessageContent, requester: ReplyConsumer, options: PublishOptions): Done<Published> {
    const message = Message.create(0, content);
    const stats = caller.channel?.stats;
    this.broker.stats.publish++;
    if (stats) stats.publish++;
    caller.channel?.totals?.messageSizes.observe(message.size);
    if (options.confirm) {
      this.broker.stats.confirm++;
      if (stats) stats.confirm++;
    }
    requester.deliverReply(message);
    return immediate({ message, routed: true, returned: false, rejectedBy: undefined });
  }

  /**
   * Starts a consumer without delivering yet: the adapter sends its consume-ok first, then calls
   * `queue.dispatch()`.
   */
  consume(caller: Caller, spec: ConsumeSpec): { consumer: Consumer; queue: Queue } {
    const channel = channelOf(caller);
    this.permissions.check(caller, 'read', 'queue', spec.queue);
    const queue = caller.vhost.useQueue(spec.queue, channel);
    const { queue: _name, ...options } = spec;
    const consumer = channel.consume(queue, options, { start: false });
    return { consumer, queue };
  }

  /** Cancelling the last consumer of an auto-delete queue deletes it, which may write. */
  cancel(caller: Caller, tag: string): Done<void> {
    const mark = this.watch.mark;
    channelOf(caller).cancel(tag);
    return this.watch.done(undefined, mark);
  }

  /** Default prefetch for the caller's next consumers. */
  setPrefetch(caller: Caller, prefetch: number): void {
    channelOf(caller).prefetch = prefetch;
  }

  /** basic.get: resolves once the head's content is in memory (read ahead without blocking, if it was paged out). */
  async get(caller: Caller, queueName: string, noAck: boolean): Promise<Done<Got | undefined>> {
    const channel = channelOf(caller);
    this.permissions.check(caller, 'read', 'queue', queueName);
    const queue = caller.vhost.useQueue(queueName, channel);
    for (let read = queue.loadHead(); read; read = queue.loadHead()) await read;
    const mark = this.watch.mark;
    const got = channel.get(queue, noAck);
    return this.watch.done(got && { ...got, redelivered: got.entry.redelivered, deliveryCount: got.entry.deliveryCount, messageCount: queue.messageCount }, mark);
  }

  /**
   * The management API's get: takes up to `count` messages on a channel of its own and settles them all
   * at once, so one call never returns the same message twice. Contents are read back from the store
   * without blocking, and kept before the settlement lets them go.
   */
  async take(caller: Caller, queueName: string, count: number, settlement: Settlement): Promise<Done<Taken[]>> {
    this.permissions.check(caller, 'read', 'queue', queueName);
    const queue = caller.vhost.useQueue(queueName, caller.channel);
    const channel = new Channel(`take-${++this.takeChannels}`, caller.vhost, ignoreDeliveries);
    channel.origin = originOf(caller);
    const taken: Taken[] = [];
    let mark: number;
    try {
      for (let i = 0; i < count; i++) {
        const got = await channel.getLoaded(queue, false);
        if (!got) break;
        taken.push({ ...got, content: got.entry.message.content, redelivered: got.entry.redelivered, deliveryCount: got.entry.deliveryCount, messageCount: queue.messageCount });
      }
      mark = this.watch.mark;
      if (settlement === 'ack') channel.ack(0, true);
      else channel.nack(0, true, settlement === 'requeue');
    } finally {
      // Anything still unacked (an error above) goes back to the queue.
      channel.close();
    }
    return this.watch.done(taken, mark);
  }

  /** Ready messages from the head, left exactly as they are (exclusive queues too: it takes nothing). */
  async peek(caller: Caller, queueName: string, offset: number, count: number): Promise<QueueEntry[]> {
    this.permissions.check(caller, 'read', 'queue', queueName);
    const queue = caller.vhost.queues.get(queueName);
    if (!queue) throw new BrokerError('NOT_FOUND', `no queue '${queueName}' in vhost '${caller.vhost.name}'`);
    return queue.peekLoaded(offset, count);
  }

  ack(caller: Caller, deliveryTag: number, multiple: boolean): Done<void> {
    const mark = this.watch.mark;
    channelOf(caller).ack(deliveryTag, multiple);
    return this.watch.lazy(undefined, mark);
  }

  /** `kind` names it in a trace: basic.reject is a nack of one delivery. */
  nack(caller: Caller, deliveryTag: number, multiple: boolean, requeue: boolean, kind: 'nacked' | 'rejected' = 'nacked'): Done<void> {
    const mark = this.watch.mark;
    channelOf(caller).nack(deliveryTag, multiple, requeue, kind);
    return this.watch.lazy(undefined, mark);
  }

  /** basic.recover: every unacked delivery goes back to its queue. Only requeue is implemented. */
  recover(caller: Caller, requeue: boolean): Done<void> {
    if (!requeue) throw new BrokerError('NOT_IMPLEMENTED', 'recover with requeue=false is not supported; use requeue=true');
    channelOf(caller).recover();
    return immediate(undefined);
  }
}

/** The caller's channel says who it is; the management API has none, only its user. */
function originOf(caller: Caller): TraceOrigin {
  return caller.channel?.origin ?? { connection: null, connectionName: null, channel: null, user: caller.user.name, protocol: 'http' };
}

function channelOf(caller: Caller): Channel {
  if (!caller.channel) throw new BrokerError('CHANNEL_ERROR', 'this operation needs a connection');
  return caller.channel;
}
