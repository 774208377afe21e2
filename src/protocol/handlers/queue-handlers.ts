import type { QueueBindFrame, QueueDeclareFrame, QueueDeleteFrame, QueuePurgeFrame } from '../frames.js';
import type { Session } from '../session.js';
import type { Reply } from './reply.js';

export function queueDeclare(session: Session, frame: QueueDeclareFrame): Reply {
  return { ...session.vhost.declareQueue(frame, session.channel) };
}

export function queueBind(session: Session, frame: QueueBindFrame): void {
  const vhost = session.vhost;
  vhost.useQueue(frame.queue, session.channel);
  vhost.bind({ ...frame, source: frame.exchange, destination: frame.queue, destinationKind: 'queue' });
}

export function queueUnbind(session: Session, frame: QueueBindFrame): void {
  const vhost = session.vhost;
  vhost.useQueue(frame.queue, session.channel);
  vhost.unbind({ ...frame, source: frame.exchange, destination: frame.queue, destinationKind: 'queue' });
}

export function queuePurge(session: Session, frame: QueuePurgeFrame): Reply {
  return { messageCount: session.vhost.purgeQueue(frame.queue, session.channel) };
}

export function queueDelete(session: Session, frame: QueueDeleteFrame): Reply {
  const messageCount = session.vhost.deleteQueue(frame.queue, frame, session.channel);
  return { messageCount };
}
