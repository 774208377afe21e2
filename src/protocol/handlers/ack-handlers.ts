import { BrokerError } from '../../broker/errors.js';
import type { AckFrame, NackFrame, RecoverFrame, RejectFrame } from '../frames.js';
import type { Session } from '../session.js';

export function ack(session: Session, frame: AckFrame): void {
  session.channel.ack(frame.deliveryTag, frame.multiple);
}

export function nack(session: Session, frame: NackFrame): void {
  session.channel.nack(frame.deliveryTag, frame.multiple, frame.requeue);
}

export function reject(session: Session, frame: RejectFrame): void {
  session.channel.nack(frame.deliveryTag, false, frame.requeue);
}

export function recover(session: Session, frame: RecoverFrame): void {
  if (!frame.requeue) {
    throw new BrokerError('NOT_IMPLEMENTED', 'recover with requeue=false is not supported; use requeue=true');
  }
  session.channel.recover();
}
