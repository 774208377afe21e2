import { serverName } from '../../broker/names.js';
import { immediate, type Done } from '../../operations/done.js';
import type { Got } from '../../operations/message-operations.js';
import { REPLY_TO_QUEUE } from '../../operations/direct-reply-to.js';
import type { CancelFrame, ConsumeFrame, GetFrame, QosFrame } from '../frames.js';
import type { Session } from '../session.js';
import { propertiesWithDeliveryCount, toWireProperties, wireBody } from '../wire-message.js';
import type { HandlerResult, Reply } from './reply.js';

export function qos(session: Session, frame: QosFrame): HandlerResult {
  session.ops.messages.setPrefetch(session.caller, frame.prefetch);
  return immediate(undefined);
}

export function consume(session: Session, frame: ConsumeFrame): HandlerResult {
  const tag = frame.consumerTag === '' ? serverName('amq.ctag-') : frame.consumerTag;
  if (frame.queue === REPLY_TO_QUEUE) {
    session.replyConsumer.start(tag, frame.noAck);
    return immediate({ consumerTag: tag });
  }
  const { consumer, queue } = session.ops.messages.consume(session.caller, {
    queue: frame.queue,
    tag,
    noAck: frame.noAck,
    exclusive: frame.exclusive,
    prefetch: frame.prefetch,
    arguments: frame.arguments,
  });
  // The ok must reach the client before the first delivery, so deliveries start after the reply.
  session.afterReply(() => queue.dispatch());
  return immediate({ consumerTag: consumer.tag });
}

export function cancel(session: Session, frame: CancelFrame): HandlerResult {
  if (session.replyConsumer.cancel(frame.consumerTag)) return immediate(undefined);
  return session.ops.messages.cancel(session.caller, frame.consumerTag);
}

export function get(session: Session, frame: GetFrame): HandlerResult {
  return { later: session.ops.messages.get(session.caller, frame.queue, frame.noAck).then(getReply) };
}

function getReply({ value: got, durable }: Done<Got | undefined>): Done<Reply> {
  if (!got) return { value: { message: null }, durable };
  const { deliveryTag, entry, redelivered, deliveryCount, messageCount } = got;
  const message = entry.message.content;
  return {
    value: {
      message: {
        deliveryTag,
        redelivered,
        exchange: message.exchange,
        routingKey: message.routingKey,
        messageCount,
        ...wireBody(message),
        properties: toWireProperties(propertiesWithDeliveryCount(message.properties, deliveryCount)),
      },
    },
    durable,
  };
}
