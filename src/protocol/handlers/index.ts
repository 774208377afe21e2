import type { ClientFrames } from '../frames.js';
import type { Session } from '../session.js';
import { ack, nack, recover, reject } from './ack-handlers.js';
import { cancel, consume, get, qos } from './consume-handlers.js';
import { exchangeBind, exchangeDeclare, exchangeDelete, exchangeUnbind } from './exchange-handlers.js';
import { publish } from './publish-handler.js';
import { queueBind, queueDeclare, queueDelete, queuePurge, queueUnbind } from './queue-handlers.js';
import type { HandlerResult } from './reply.js';

export type { HandlerResult, Reply } from './reply.js';

type Handler<K extends keyof ClientFrames> = (session: Session, frame: ClientFrames[K]) => HandlerResult;

/** One handler per op. `connect` and `close` change the session's state and live in the session. */
export const dispatchTable: { readonly [K in Exclude<keyof ClientFrames, 'connect' | 'close'>]: Handler<K> } = {
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
