import type { QueueBindFrame, QueueDeclareFrame, QueueDeleteFrame, QueuePurgeFrame } from '../frames.js';
import type { Session } from '../session.js';
import type { Reply } from './reply.js';

export function queueDeclare(session: Session, frame: QueueDeclareFrame): Reply {
  const vhost = session.vhost;
  if (!frame.passive) {
    // A server-named queue is checked by its prefix, since its name does not exist yet.
    const name = frame.queue === '' ? 'amq.gen-' : frame.queue;
    session.authorize('configure', 'queue', name);
    const dlx = frame.arguments['x-dead-letter-exchange'];
    if (typeof dlx === 'string' && !vhost.queues.has(frame.queue)) {
      session.authorize('write', 'exchange', dlx);
      session.authorize('read', 'queue', name);
    }
  }
  return { ...vhost.declareQueue(frame, session.channel) };
}

export function queueBind(session: Session, frame: QueueBindFrame): void {
  authorizeBind(session, frame);
  const vhost = session.vhost;
  vhost.useQueue(frame.queue, session.channel);
  vhost.bind({ ...frame, source: frame.exchange, destination: frame.queue, destinationKind: 'queue' });
}

export function queueUnbind(session: Session, frame: QueueBindFrame): void {
  authorizeBind(session, frame);
  const vhost = session.vhost;
  vhost.useQueue(frame.queue, session.channel);
  vhost.unbind({ ...frame, source: frame.exchange, destination: frame.queue, destinationKind: 'queue' });
}

export function queuePurge(session: Session, frame: QueuePurgeFrame): Reply {
  session.authorize('read', 'queue', frame.queue);
  return { messageCount: session.vhost.purgeQueue(frame.queue, session.channel) };
}

export function queueDelete(session: Session, frame: QueueDeleteFrame): Reply {
  session.authorize('configure', 'queue', frame.queue);
  const messageCount = session.vhost.deleteQueue(frame.queue, frame, session.channel);
  return { messageCount };
}

function authorizeBind(session: Session, frame: QueueBindFrame): void {
  session.authorize('write', 'queue', frame.queue);
  session.authorize('read', 'exchange', frame.exchange);
}
