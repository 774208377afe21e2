import { serverName } from '../../broker/names.js';
import type { CancelFrame, ConsumeFrame, GetFrame, QosFrame } from '../frames.js';
import type { Session } from '../session.js';
import { toWireProperties, wireBody } from '../wire-message.js';
import type { Reply } from './reply.js';

export function qos(session: Session, frame: QosFrame): void {
  session.channel.prefetch = frame.prefetch;
}

export function consume(session: Session, frame: ConsumeFrame): Reply {
  session.authorize('read', 'queue', frame.queue);
  const queue = session.vhost.useQueue(frame.queue, session.channel);
  const tag = frame.consumerTag === '' ? serverName('amq.ctag-') : frame.consumerTag;
  const consumer = session.channel.consume(
    queue,
    { tag, noAck: frame.noAck, exclusive: frame.exclusive, prefetch: frame.prefetch, arguments: frame.arguments },
    { start: false },
  );
  // The ok must reach the client before the first delivery, so deliveries start after the reply.
  session.afterReply(() => queue.dispatch());
  return { consumerTag: consumer.tag };
}

export function cancel(session: Session, frame: CancelFrame): void {
  session.channel.cancel(frame.consumerTag);
}

export function get(session: Session, frame: GetFrame): Reply {
  session.authorize('read', 'queue', frame.queue);
  const queue = session.vhost.useQueue(frame.queue, session.channel);
  const got = session.channel.get(queue, frame.noAck);
  if (!got) return { message: null };
  const { deliveryTag, entry } = got;
  const message = entry.message.content;
  return {
    message: {
      deliveryTag,
      redelivered: entry.redelivered,
      exchange: message.exchange,
      routingKey: message.routingKey,
      messageCount: queue.messageCount,
      ...wireBody(message),
      properties: toWireProperties(message.properties),
    },
  };
}
