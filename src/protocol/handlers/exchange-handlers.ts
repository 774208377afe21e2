import type { ExchangeBindFrame, ExchangeDeclareFrame, ExchangeDeleteFrame } from '../frames.js';
import type { Session } from '../session.js';

export function exchangeDeclare(session: Session, frame: ExchangeDeclareFrame): void {
  const vhost = session.vhost;
  if (!frame.passive) {
    session.authorize('configure', 'exchange', frame.exchange);
    const ae = frame.arguments['alternate-exchange'];
    // As RabbitMQ: naming an alternate exchange needs write on it and read on the new exchange.
    if (typeof ae === 'string' && !vhost.exchanges.has(frame.exchange)) {
      session.authorize('write', 'exchange', ae);
      session.authorize('read', 'exchange', frame.exchange);
    }
  }
  vhost.declareExchange(frame);
}

export function exchangeDelete(session: Session, frame: ExchangeDeleteFrame): void {
  session.authorize('configure', 'exchange', frame.exchange);
  session.vhost.deleteExchange(frame.exchange, frame.ifUnused);
}

export function exchangeBind(session: Session, frame: ExchangeBindFrame): void {
  authorizeBind(session, frame);
  session.vhost.bind({ ...frame, destinationKind: 'exchange' });
}

export function exchangeUnbind(session: Session, frame: ExchangeBindFrame): void {
  authorizeBind(session, frame);
  session.vhost.unbind({ ...frame, destinationKind: 'exchange' });
}

function authorizeBind(session: Session, frame: ExchangeBindFrame): void {
  session.authorize('write', 'exchange', frame.destination);
  session.authorize('read', 'exchange', frame.source);
}
