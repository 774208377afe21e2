// One AMQP channel: its frames assembled into commands, each command run against the broker through
// the operations layer, replies sent in the order of their requests, deliveries and returns pushed.
// Channel errors close the channel (channel.close, then wait for close-ok); connection errors are handed
// to the connection.
import { Channel, type CancelReason, type DeliverySink } from '../../../broker/channel.js';
import type { Consumer } from '../../../broker/consumer.js';
import { BrokerError } from '../../../broker/errors.js';
import type { Message } from '../../../broker/message.js';
import type { QueueEntry } from '../../../broker/queue.js';
import type { Caller } from '../../../operations/caller.js';
import { ReplySubscription, type ReplyConsumer } from '../../../operations/direct-reply-to.js';
import type { Operations } from '../../../operations/operations.js';
import { providedName, type ChannelView } from '../../client-connection.js';
import { OrderedReplies } from '../../ordered-replies.js';
import * as basic from './basic-methods.js';
import { buildMethod } from '../build-method.js';
import { asBrokerError, isChannelError, replyTextOf, type Outcome, type Replied } from './channel-outcome.js';
import { ChannelTransaction } from './channel-transaction.js';
import { ContentAssembler, type Command } from '../content-assembler.js';
import { deliverFrames, returnFrames } from './delivery-frames.js';
import { PublishedProperties } from './message-mapping.js';
import { fitReplyText, isAmqpError, type AmqpError } from '../errors.js';
import type { Frame } from '../frame-reader.js';
import { decodeMethod, encodeMethodFrame, methodSpec, type MethodName } from '../method-codec.js';
import { FRAME_HEADER } from '../frame-constants.js';
import { PublisherConfirms } from './publisher-confirms.js';
import * as topology from './topology-methods.js';

/** What a channel needs of its connection. */
export interface ChannelHost {
  readonly id: string;
  /** What the client said of itself at connection.start-ok (`connection_name` among them). */
  readonly clientProperties: Readonly<Record<string, unknown>>;
  readonly ops: Operations;
  readonly frameMax: number;
  /** The largest body a publish may carry (`--max-body-size`). */
  readonly maxBodySize: number;
  /** The client announced `consumer_cancel_notify`: it wants basic.cancel when the broker cancels a consumer. */
  readonly cancelNotify: boolean;
  write(frames: readonly Uint8Array[]): void;
  /** Room for `size` bytes of frames after what was written, to fill at once; undefined when nothing may be written. */
  reserve(size: number): Buffer | undefined;
  /** A connection-level error: the whole connection closes. */
  connectionError(code: number, replyText: string, classId: number, methodId: number): void;
  /** The channel is gone (close-ok sent or received): its number may be opened again. */
  channelGone(number: number): void;
  /** After each publish (a memory alarm blocks publishers). */
  published(): void;
  /** Persistent messages are refused right now (the disk or replication alarm). */
  readonly refusesPersistent: boolean;
  /**
   * Runs `publish` once the alarm clears, and reads nothing more from the connection until then: a
   * persistent publish that arrives during the alarm waits, as RabbitMQ's blocked publishers do,
   * rather than closing the connection with 506.
   */
  holdUntilWritable(publish: () => void): void;
  /** A bug met while handling a method: logged, and the connection closes with 541. */
  internalError(error: unknown, method: string): void;
}

/** open → closing (we sent channel.close) → closed. */
export type AmqpChannelState = 'open' | 'closing' | 'closed';

export class AmqpChannel implements DeliverySink, ReplyConsumer, basic.BasicScope, topology.TopologyScope, ChannelView {
  state: AmqpChannelState = 'open';
  readonly broker: Channel;
  readonly caller: Caller;
  lastQueue: string | undefined;
  confirms: PublisherConfirms | undefined;
  transaction: ChannelTransaction | undefined;
  /** The direct reply-to consumer. */
  readonly replies: ReplySubscription;
  readonly publishedProperties = new PublishedProperties();
  private readonly assembler = new ContentAssembler();
  private readonly ordered: OrderedReplies<Buffer[]>;

  constructor(
    private readonly host: ChannelHost,
    readonly number: number,
    base: Omit<Caller, 'channel'>,
  ) {
    this.broker = new Channel(`${host.id} (${number})`, base.vhost, this, host);
    this.caller = { ...base, channel: this.broker };
    this.broker.origin = { connection: host.id, connectionName: providedName(host.clientProperties), channel: number, user: base.user.name, protocol: 'amqp091' };
    this.replies = new ReplySubscription(host.ops.messages.replyTo, this);
    this.ordered = new OrderedReplies<Buffer[]>(
      (frames) => this.host.write(frames),
      // Nothing more goes out once the channel is closing: a held reply after channel.close would confuse the client.
      () => this.state !== 'open',
    );
  }

  get ops(): Operations {
    return this.host.ops;
  }

  get frameMax(): number {
    return this.host.frameMax;
  }

  get channel(): Channel {
    return this.broker;
  }

  get confirm(): boolean {
    return this.confirms !== undefined;
  }

  get transactional(): boolean {
    return this.transaction !== undefined;
  }

  get unconfirmed(): number {
    return this.confirms?.unconfirmed ?? 0;
  }

  get uncommittedMessages(): number {
    return this.transaction?.uncommittedMessages ?? 0;
  }

  get uncommittedAcks(): number {
    return this.transaction?.uncommittedAcks ?? 0;
  }

  /** A frame for this channel, from the connection. */
  handleFrame(frame: Frame): void {
    if (this.state === 'closed') return;
    if (this.state === 'closing') return this.whileClosing(frame);
    const command = this.assembler.push(frame);
    if (command === undefined) {
      // Refused as soon as the header announces it, so a huge body is never buffered (RabbitMQ's words).
      const size = this.assembler.announcedBodySize;
      const max = this.host.maxBodySize;
      if (size !== undefined && size > max && frame.type === FRAME_HEADER) {
        this.fail(new BrokerError('PRECONDITION_FAILED', `message size ${size} is larger than configured max size ${max}`), 'basic.publish');
      }
      return;
    }
    if (isAmqpError(command)) return this.connectionError(command);
    this.run(command);
  }

  /** The connection is going away: release consumers and requeue unacked deliveries, without a word. */
  release(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.releaseBroker();
  }

  /** A reply for this channel's direct reply-to consumer. */
  deliverReply(message: Message): void {
    const consumerTag = this.replies.tag;
    if (consumerTag === undefined || this.state !== 'open') return;
    const deliveryTag = this.broker.directDeliveryTag();
    deliverFrames(this.host, this.number, { consumerTag, deliveryTag, redelivered: false }, message, 0, this.frameMax);
  }

  /** Everything the channel holds goes back: consumers, unacked deliveries, a transaction, the reply consumer. */
  private releaseBroker(): void {
    this.transaction?.rollback();
    this.replies.stop();
    this.broker.close();
  }

  // DeliverySink

  deliver(consumer: Consumer, deliveryTag: number, entry: QueueEntry): void {
    deliverFrames(this.host, this.number, { consumerTag: consumer.tag, deliveryTag, redelivered: entry.redelivered }, entry.message, entry.deliveryCount, this.frameMax);
  }

  consumerCancelled(consumerTag: string, _reason?: CancelReason): void {
    if (this.state !== 'open' || !this.host.cancelNotify) return;
    this.host.write([encodeMethodFrame(this.number, buildMethod('basic.cancel', { consumerTag, nowait: true }))]);
  }

  sendReturn(message: Message): void {
    if (this.state !== 'open') return;
    this.host.write(returnFrames(this.number, 312, 'NO_ROUTE', message, this.frameMax));
  }

  published(): void {
    this.host.published();
  }

  private run(command: Command): void {
    const method = command.method.method;
    if (method === 'basic.publish' && command.content?.properties.deliveryMode === 2 && this.host.refusesPersistent) {
      this.host.holdUntilWritable(() => this.run(command));
      return;
    }
    let outcome: Outcome;
    try {
      outcome = this.dispatch(command);
    } catch (error) {
      return this.fail(error, method);
    }
    if ('later' in outcome) {
      const text = outcome.later.then(
        (replied) => this.settled(replied, method),
        (error: unknown) => {
          this.fail(error, method);
          return undefined;
        },
      );
      this.ordered.replyWhen(text);
      return;
    }
    this.send(outcome, method);
  }

  private send(replied: Replied, method: MethodName): void {
    const frames = this.framesOf(replied.reply);
    if (frames === undefined && replied.durable === undefined && replied.after === undefined) return;
    this.ordered.reply(frames, replied.after, replied.durable, (error) => {
      this.fail(error, method);
      return undefined;
    });
  }

  /** A `later` reply once it is known: its durability is awaited in its place in the order. */
  private async settled(replied: Replied, method: MethodName): Promise<Buffer[] | undefined> {
    try {
      await replied.durable;
    } catch (error) {
      this.fail(error, method);
      return undefined;
    }
    return this.framesOf(replied.reply);
  }

  private framesOf(reply: Replied['reply']): Buffer[] | undefined {
    if (reply === undefined) return undefined;
    if (Array.isArray(reply)) return reply;
    return [encodeMethodFrame(this.number, reply)];
  }

  private dispatch({ method: m, content }: Command): Outcome {
    switch (m.method) {
      case 'basic.publish':
        // The assembler hands publish over only with its content.
        if (!content) throw new BrokerError('UNEXPECTED_FRAME', 'basic.publish without content');
        return basic.publish(this, m, content.properties, content.header, content.body);
      case 'basic.ack':
        return basic.ack(this, m);
      case 'basic.nack':
        return basic.nack(this, m);
      case 'basic.reject':
        return basic.reject(this, m);
      case 'basic.consume':
        return basic.consume(this, m);
      case 'basic.cancel':
        return basic.cancel(this, m);
      case 'basic.get':
        return basic.get(this, m);
      case 'basic.qos':
        return basic.qos(this, m);
      case 'basic.recover':
      case 'basic.recover-async':
        return basic.recover(this, m);
      case 'exchange.declare':
        return topology.exchangeDeclare(this, m);
      case 'exchange.delete':
        return topology.exchangeDelete(this, m);
      case 'exchange.bind':
        return topology.exchangeBind(this, m);
      case 'exchange.unbind':
        return topology.exchangeUnbind(this, m);
      case 'queue.declare':
        return topology.queueDeclare(this, m);
      case 'queue.bind':
        return topology.queueBind(this, m);
      case 'queue.unbind':
        return topology.queueUnbind(this, m);
      case 'queue.purge':
        return topology.queuePurge(this, m);
      case 'queue.delete':
        return topology.queueDelete(this, m);
      case 'confirm.select':
        return this.confirmSelect(m.nowait);
      case 'tx.select':
        return this.txSelect();
      case 'tx.commit':
        return this.txCommit();
      case 'tx.rollback':
        return this.txRollback();
      case 'channel.flow':
        this.broker.setFlow(m.active);
        return { reply: buildMethod('channel.flow-ok', { active: m.active }) };
      case 'channel.close':
        return this.closedByClient();
      case 'channel.open':
        throw new BrokerError('CHANNEL_ERROR', "second 'channel.open' seen");
      default:
        // Methods only the server sends, connection methods on a channel, and close-ok while open.
        throw new BrokerError('COMMAND_INVALID', `unimplemented method ${m.method} on a channel`);
    }
  }

  private confirmSelect(noWait: boolean): Replied {
    if (this.transaction) throw new BrokerError('PRECONDITION_FAILED', 'cannot switch from tx to confirm mode');
    this.confirms ??= new PublisherConfirms((outcome, tag, multiple) => {
      if (this.state !== 'open') return;
      const confirm =
        outcome === 'ack'
          ? buildMethod('basic.ack', { deliveryTag: BigInt(tag), multiple })
          : buildMethod('basic.nack', { deliveryTag: BigInt(tag), multiple, requeue: false });
      this.host.write([encodeMethodFrame(this.number, confirm)]);
    });
    return { reply: noWait ? undefined : buildMethod('confirm.select-ok', {}) };
  }

  private txSelect(): Replied {
    if (this.confirms) throw new BrokerError('PRECONDITION_FAILED', 'cannot switch from confirm to tx mode');
    this.transaction ??= new ChannelTransaction();
    return { reply: buildMethod('tx.select-ok', {}) };
  }

  private txCommit(): Replied {
    if (!this.transaction) throw new BrokerError('PRECONDITION_FAILED', 'channel is not transactional');
    return { reply: buildMethod('tx.commit-ok', {}), durable: this.transaction.commit() };
  }

  private txRollback(): Replied {
    if (!this.transaction) throw new BrokerError('PRECONDITION_FAILED', 'channel is not transactional');
    this.transaction.rollback();
    return { reply: buildMethod('tx.rollback-ok', {}) };
  }

  /** The client's channel.close: everything it held goes back, then close-ok after the replies before it. */
  private closedByClient(): Replied {
    this.releaseBroker();
    return {
      reply: buildMethod('channel.close-ok', {}),
      after: () => {
        this.state = 'closed';
        this.host.channelGone(this.number);
      },
    };
  }

  /** After our channel.close, only close-ok (or the client's own close) matters; the rest is dropped. */
  private whileClosing(frame: Frame): void {
    if (frame.type !== 1) return;
    const m = decodeMethod(frame.payload);
    if (isAmqpError(m)) return;
    if (m.method === 'channel.close-ok') {
      this.state = 'closed';
      this.host.channelGone(this.number);
    } else if (m.method === 'channel.close') {
      // Both sides closed at once: answer, and the channel is gone.
      this.host.write([encodeMethodFrame(this.number, buildMethod('channel.close-ok', {}))]);
      this.state = 'closed';
      this.host.channelGone(this.number);
    }
  }

  private fail(error: unknown, method: MethodName): void {
    if (this.state !== 'open') return;
    const known = asBrokerError(error);
    if (!known) this.host.internalError(error, method);
    const brokerError = known ?? new BrokerError('INTERNAL_ERROR', `internal error handling ${method}`);
    const { classId, methodId } = methodSpec(method);
    if (!isChannelError(brokerError)) {
      this.host.connectionError(brokerError.code, fitReplyText(replyTextOf(brokerError)), classId, methodId);
      return;
    }
    this.state = 'closing';
    this.releaseBroker();
    const close = buildMethod('channel.close', { replyCode: brokerError.code, replyText: fitReplyText(replyTextOf(brokerError)), classId, methodId });
    this.host.write([encodeMethodFrame(this.number, close)]);
  }

  private connectionError(error: AmqpError): void {
    this.host.connectionError(error.code, error.replyText, error.classId, error.methodId);
  }
}
