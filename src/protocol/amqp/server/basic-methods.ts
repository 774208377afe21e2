// basic.* on a channel: qos, consume, cancel, publish, get and the settlements. Each becomes one
// operations-layer call; deliveries reach the channel through the broker channel's DeliverySink.
import type { Channel } from '../../../broker/channel.js';
import { BrokerError, notFound, preconditionFailed } from '../../../broker/errors.js';
import type { Message } from '../../../broker/message.js';
import { REPLY_TO_QUEUE, type ReplySubscription } from '../../../operations/direct-reply-to.js';
import { serverName } from '../../../broker/names.js';
import type { Caller } from '../../../operations/caller.js';
import type { Done } from '../../../operations/done.js';
import type { Operations } from '../../../operations/operations.js';
import { buildMethod } from '../build-method.js';
import { AmqpContent } from './amqp-content.js';
import type { ChannelTransaction } from './channel-transaction.js';
import { replyAfter, type Outcome, type Replied } from './channel-outcome.js';
import { getOkFrames } from './delivery-frames.js';
import { tableToJson, type PublishedProperties } from './message-mapping.js';
import type { MethodOf } from '../method-codec.js';
import type { PublisherConfirms } from './publisher-confirms.js';
import type { BasicProperties } from '../spec/methods.js';

/** What the basic methods need of their channel. */
export interface BasicScope {
  readonly ops: Operations;
  readonly caller: Caller;
  readonly broker: Channel;
  readonly number: number;
  readonly frameMax: number;
  lastQueue: string | undefined;
  readonly confirms: PublisherConfirms | undefined;
  readonly transaction: ChannelTransaction | undefined;
  /** A mandatory message reached no queue: basic.return, before its confirm. */
  sendReturn(message: Message): void;
  /** Called after each publish (a publisher under a memory alarm stops being read). */
  published(): void;
  /** The channel's consumer on `amq.rabbitmq.reply-to` (direct reply-to). */
  readonly replies: ReplySubscription;
  /** Maps its publishes' properties, reusing the last mapping for repeated ones. */
  readonly publishedProperties: PublishedProperties;
}

function queueName(scope: BasicScope, name: string): string {
  if (name !== '') return name;
  if (scope.lastQueue === undefined) throw notFound('no previously declared queue');
  return scope.lastQueue;
}

/** A delivery tag from the wire; tags Warren never issued are unknown, whatever their size. */
function tagOf(tag: bigint): number {
  return tag > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(tag);
}

export function qos(scope: BasicScope, m: MethodOf<'basic.qos'>): Replied {
  if (m.prefetchSize !== 0) throw new BrokerError('NOT_IMPLEMENTED', `prefetch_size!=0 (${m.prefetchSize})`);
  // RabbitMQ's reading (not the spec's): global = shared by the channel's consumers, else per consumer.
  if (m.global) scope.broker.setSharedPrefetch(m.prefetchCount);
  else scope.ops.messages.setPrefetch(scope.caller, m.prefetchCount);
  return { reply: buildMethod('basic.qos-ok', {}) };
}

export function consume(scope: BasicScope, m: MethodOf<'basic.consume'>): Replied {
  const tag = m.consumerTag === '' ? serverName('amq.ctag-') : m.consumerTag;
  if (m.queue === REPLY_TO_QUEUE) {
    scope.replies.start(tag, m.noAck);
    return { reply: m.nowait ? undefined : buildMethod('basic.consume-ok', { consumerTag: tag }) };
  }
  const { queue } = scope.ops.messages.consume(scope.caller, {
    queue: queueName(scope, m.queue),
    tag,
    noAck: m.noAck,
    exclusive: m.exclusive,
    arguments: tableToJson(m.arguments),
  });
  // The consume-ok goes before the first delivery.
  return { reply: m.nowait ? undefined : buildMethod('basic.consume-ok', { consumerTag: tag }), after: () => queue.dispatch() };
}

export function cancel(scope: BasicScope, m: MethodOf<'basic.cancel'>): Replied {
  if (scope.replies.cancel(m.consumerTag)) return { reply: m.nowait ? undefined : buildMethod('basic.cancel-ok', { consumerTag: m.consumerTag }) };
  const done = scope.ops.messages.cancel(scope.caller, m.consumerTag);
  return replyAfter(done, buildMethod('basic.cancel-ok', { consumerTag: m.consumerTag }), m.nowait);
}

export function publish(scope: BasicScope, m: MethodOf<'basic.publish'>, properties: BasicProperties, header: Uint8Array, body: Buffer): Replied {
  if (m.immediate) throw new BrokerError('NOT_IMPLEMENTED', 'immediate=true');
  const mapped = scope.publishedProperties.map(properties);
  const sent = scope.ops.messages.replyTo.rewrite(mapped, scope.replies.name);
  // The body is a view into a socket chunk: the copy lets the chunk go. The header (already a copy) goes
  // out again as it came (exact field widths, cluster-id), unless a rewritten reply-to changed it.
  const content =
    sent === mapped
      ? AmqpContent.copied(m.exchange, m.routingKey, sent, header, body)
      : { exchange: m.exchange, routingKey: m.routingKey, properties: sent, body: Buffer.from(body) };
  const transaction = scope.transaction;
  if (transaction) {
    // Checked now, as RabbitMQ does; routed at commit.
    if (!scope.caller.vhost.exchanges.has(m.exchange)) throw notFound(`no exchange '${m.exchange}' in vhost '${scope.caller.vhost.name}'`);
    transaction.hold('publish', () => publishNow(scope, content, m.mandatory));
    return {};
  }
  publishNow(scope, content, m.mandatory);
  return {};
}

function publishNow(scope: BasicScope, content: Parameters<Operations['messages']['publish']>[1], mandatory: boolean): Done<unknown> {
  const confirms = scope.confirms;
  const done = scope.ops.messages.publish(scope.caller, content, { mandatory, confirm: confirms !== undefined });
  const published = done.value;
  if (published.returned) scope.sendReturn(published.message);
  confirms?.publish(published.rejectedBy ? 'nack' : 'ack', done);
  scope.published();
  return done;
}

export function get(scope: BasicScope, m: MethodOf<'basic.get'>): Outcome {
  const later = scope.ops.messages.get(scope.caller, queueName(scope, m.queue), m.noAck).then(({ value: got, durable }): Replied => {
    if (!got) return { reply: buildMethod('basic.get-empty', { clusterId: '' }), durable };
    const frames = getOkFrames(
      scope.number,
      { deliveryTag: got.deliveryTag, redelivered: got.redelivered, messageCount: got.messageCount },
      got.entry.message,
      got.deliveryCount,
      scope.frameMax,
    );
    return { reply: frames, durable };
  });
  return { later };
}

type Settle = { readonly how: 'ack' } | { readonly how: 'nack'; readonly requeue: boolean; readonly kind?: 'rejected' };

function settle(scope: BasicScope, rawTag: bigint, multiple: boolean, how: Settle): Replied {
  const tag = tagOf(rawTag);
  const run = (): Done<void> =>
    how.how === 'ack' ? scope.ops.messages.ack(scope.caller, tag, multiple) : scope.ops.messages.nack(scope.caller, tag, multiple, how.requeue, how.kind);
  const transaction = scope.transaction;
  if (transaction) {
    if (!(multiple && tag === 0) && !scope.broker.isUnacked(tag)) throw preconditionFailed(`unknown delivery tag ${rawTag}`);
    transaction.hold('settle', run);
    return {};
  }
  // A settlement has no reply; what it wrote is waited for by nothing but the confirms that follow.
  run();
  return {};
}

export function ack(scope: BasicScope, m: MethodOf<'basic.ack'>): Replied {
  return settle(scope, m.deliveryTag, m.multiple, { how: 'ack' });
}

export function nack(scope: BasicScope, m: MethodOf<'basic.nack'>): Replied {
  return settle(scope, m.deliveryTag, m.multiple, { how: 'nack', requeue: m.requeue });
}

export function reject(scope: BasicScope, m: MethodOf<'basic.reject'>): Replied {
  return settle(scope, m.deliveryTag, false, { how: 'nack', requeue: m.requeue, kind: 'rejected' });
}

export function recover(scope: BasicScope, m: MethodOf<'basic.recover'> | MethodOf<'basic.recover-async'>): Replied {
  const done = scope.ops.messages.recover(scope.caller, m.requeue);
  return m.method === 'basic.recover' ? replyAfter(done, buildMethod('basic.recover-ok', {})) : {};
}
