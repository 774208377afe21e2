import type { QueueBindFrame, QueueDeclareFrame, QueueDeleteFrame, QueuePurgeFrame } from '../frames.js';
import type { Session } from '../session.js';
import type { HandlerResult } from './reply.js';

export function queueDeclare(session: Session, frame: QueueDeclareFrame): HandlerResult {
  const { value, durable } = session.ops.topology.declareQueue(session.caller, frame);
  return { value: { queue: value.queue, messageCount: value.messageCount, consumerCount: value.consumerCount }, durable };
}

export function queueBind(session: Session, frame: QueueBindFrame): HandlerResult {
  return session.ops.topology.bind(session.caller, bindingOf(frame));
}

export function queueUnbind(session: Session, frame: QueueBindFrame): HandlerResult {
  return session.ops.topology.unbind(session.caller, bindingOf(frame));
}

export function queuePurge(session: Session, frame: QueuePurgeFrame): HandlerResult {
  const { value, durable } = session.ops.topology.purgeQueue(session.caller, frame.queue);
  return { value: { messageCount: value }, durable };
}

export function queueDelete(session: Session, frame: QueueDeleteFrame): HandlerResult {
  const { value, durable } = session.ops.topology.deleteQueue(session.caller, frame.queue, frame);
  return { value: { messageCount: value }, durable };
}

function bindingOf(frame: QueueBindFrame): { source: string; destination: string; destinationKind: 'queue'; routingKey: string; arguments: Record<string, unknown> } {
  return { source: frame.exchange, destination: frame.queue, destinationKind: 'queue', routingKey: frame.routingKey, arguments: frame.arguments };
}
