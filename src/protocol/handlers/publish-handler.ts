import { BrokerError } from '../../broker/errors.js';
import type { PublishFrame } from '../frames.js';
import type { Session } from '../session.js';
import { fromWireProperties, publishedContent } from '../wire-message.js';
import type { HandlerResult } from './reply.js';

/**
 * With an `id`, the reply is the publisher confirm. A mandatory message that reached no queue is
 * returned first, so the client sees the return before the confirm, as in AMQP.
 */
export function publish(session: Session, frame: PublishFrame): HandlerResult {
  const confirm = frame.id !== undefined;
  const { value: published, durable } = session.ops.messages.publish(
    session.caller,
    publishedContent(
      frame.exchange,
      frame.routingKey,
      session.ops.messages.replyTo.rewrite(fromWireProperties(frame.properties), session.replyConsumer.name),
      frame.body,
      frame.encoding,
    ),
    { mandatory: frame.mandatory, confirm },
  );
  session.published();
  if (published.returned) session.sendReturn(published.message);
  if (!confirm) return { value: undefined, durable };
  const full = published.rejectedBy;
  if (full) {
    throw new BrokerError(
      'PRECONDITION_FAILED',
      `message rejected: queue '${full.name}' in vhost '${full.vhost}' is full (x-overflow ${full.limits.overflow})`,
    );
  }
  const scheduled = published.scheduled;
  return { value: scheduled ? { routed: false, scheduled: { id: scheduled.id, due: scheduled.due } } : { routed: published.routed }, durable };
}
