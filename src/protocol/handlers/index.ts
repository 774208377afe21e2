import type { ClientFrames } from '../frames.js';
import type { Session } from '../session.js';
import { ack, nack, recover, reject } from './ack-handlers.js';
import { cancel, consume, get, qos } from './consume-handlers.js';
import { exchangeBind, exchangeDeclare, exchangeDelete, exchangeUnbind } from './exchange-handlers.js';
import { publish } from './publish-handler.js';
import { queueBind, queueDeclare, queueDelete, queuePurge, queueUnbind } from './queue-handlers.js';
import type { HandlerResult } from './reply.js';

export type { HandlerResult, Reply } from './reply.js';

/** `connect`, `close` and `update-token` change the session's state and live in the session. */
type DispatchedOp = Exclude<keyof ClientFrames, 'connect' | 'close' | 'update-token'>;

type Handler<K extends DispatchedOp> = (session: Session, frame: ClientFrames[K]) => HandlerResult;

/** One handler per op. */
const dispatchTable: { readonly [K in DispatchedOp]: Handler<K> } = {
  'exchange.declare': exchangeDeclare,
  'exchange.delete': exchangeDelete,
  'exchange.bind': exchangeBind,
  'exchange.unbind': exchangeUnbind,
  'queue.declare': queueDeclare,
  'queue.bind': queueBind,
  'queue.unbind': queueUnbind,
  'queue.purge': queuePurge,
  'queue.delete': queueDelete,
  publish,
  qos,
  consume,
  cancel,
  ack,
  nack,
  reject,
  recover,
  get,
};

/** Runs the handler of the frame's op. */
export function dispatch(session: Session, frame: ClientFrames[DispatchedOp]): HandlerResult {
  return dispatchOp(session, frame.op, frame);
}

/**
 * Generic in the op, so TypeScript sees that the table's handler and the frame belong to the same op
 * (a mapped table indexed by a type parameter) and no cast to one handler type is needed.
 */
function dispatchOp<K extends DispatchedOp>(session: Session, op: K, frame: ClientFrames[K]): HandlerResult {
  const handler = dispatchTable[op];
  return handler(session, frame);
}
