import { BrokerError } from '../../broker/errors.js';
import type { PublishFrame } from '../frames.js';
import type { Session } from '../session.js';
import { fromWireProperties, publishedContent } from '../wire-message.js';
import type { Reply } from './reply.js';

/**
 * With an `id`, the reply is the publisher confirm. A mandatory message that reached no queue is
 * returned first, so the client sees the return before the confirm, as in AMQP.
 */
export function publish(session: Session, frame: PublishFrame): Reply | void {
  session.authorize('write', 'exchange', frame.exchange);
  const result = session.vhost.publish(
    publishedContent(frame.exchange, frame.routingKey, fromWireProperties(frame.properties), frame.body, frame.encoding),
  );
  session.published();
  const routed = result.queues.length > 0;
  const stats = session.channel.stats;
  stats.publish++;
  if (!routed && result.rejectedBy.length === 0) {
    const global = session.broker.stats;
    if (frame.mandatory) {
      global.returnUnroutable++;
      stats.returnUnroutable++;
      session.sendReturn(result.message);
    } else {
      global.dropUnroutable++;
      stats.dropUnroutable++;
    }
  }
  if (frame.id === undefined) return;
  stats.confirm++;
  session.broker.stats.confirm++;
  const [full] = result.rejectedBy;
  if (full) {
    throw new BrokerError(
      'PRECONDITION_FAILED',
      `message rejected: queue '${full.name}' in vhost '${full.vhost}' is full (x-overflow ${full.limits.overflow})`,
    );
  }
  return { routed };
}
