import type { ExchangeBindFrame, ExchangeDeclareFrame, ExchangeDeleteFrame } from '../frames.js';
import type { Session } from '../session.js';
import { nothing, type HandlerResult } from './reply.js';

export function exchangeDeclare(session: Session, frame: ExchangeDeclareFrame): HandlerResult {
  return nothing(session.ops.topology.declareExchange(session.caller, frame));
}

export function exchangeDelete(session: Session, frame: ExchangeDeleteFrame): HandlerResult {
  return session.ops.topology.deleteExchange(session.caller, frame.exchange, frame.ifUnused);
}

export function exchangeBind(session: Session, frame: ExchangeBindFrame): HandlerResult {
  return session.ops.topology.bind(session.caller, { ...frame, destinationKind: 'exchange' });
}

export function exchangeUnbind(session: Session, frame: ExchangeBindFrame): HandlerResult {
  return session.ops.topology.unbind(session.caller, { ...frame, destinationKind: 'exchange' });
}
