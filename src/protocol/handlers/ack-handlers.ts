import type { AckFrame, NackFrame, RecoverFrame, RejectFrame } from '../frames.js';
import type { Session } from '../session.js';
import type { HandlerResult } from './reply.js';

export function ack(session: Session, frame: AckFrame): HandlerResult {
  return session.ops.messages.ack(session.caller, frame.deliveryTag, frame.multiple);
}

export function nack(session: Session, frame: NackFrame): HandlerResult {
  return session.ops.messages.nack(session.caller, frame.deliveryTag, frame.multiple, frame.requeue);
}

export function reject(session: Session, frame: RejectFrame): HandlerResult {
  return session.ops.messages.nack(session.caller, frame.deliveryTag, false, frame.requeue, 'rejected');
}

export function recover(session: Session, frame: RecoverFrame): HandlerResult {
  return session.ops.messages.recover(session.caller, frame.requeue);
}
