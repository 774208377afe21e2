import type { ExchangeBindFrame, ExchangeDeclareFrame, ExchangeDeleteFrame } from '../frames.js';
import type { Session } from '../session.js';

export function exchangeDeclare(session: Session, frame: ExchangeDeclareFrame): void {
  session.vhost.declareExchange(frame);
}

export function exchangeDelete(session: Session, frame: ExchangeDeleteFrame): void {
  session.vhost.deleteExchange(frame.exchange, frame.ifUnused);
}

export function exchangeBind(session: Session, frame: ExchangeBindFrame): void {
  session.vhost.bind({ ...frame, destinationKind: 'exchange' });
}

export function exchangeUnbind(session: Session, frame: ExchangeBindFrame): void {
  session.vhost.unbind({ ...frame, destinationKind: 'exchange' });
}
