/**
 * The request side of the connection that needs no connection state: building frames from options,
 * and turning `ok` replies into the results the API promises. Mappers are plain functions, not
 * per-request closures.
 */
import { encodeBase64 } from './codec.js';
import type { GetOk, MessageCountOk, OkReply, PublishFrame, PublishOk, QueueDeclareOk } from './frames.js';
import { ReceivedMessage, type Settler } from './message.js';
import type * as O from './options.js';

/** Turns an `ok` reply into a request's result; runs synchronously as the reply is dispatched. */
export type Mapper = (ok: OkReply, settler: Settler) => unknown;

export const toVoid: Mapper = () => undefined;

export const toPublishResult: Mapper = (ok) => {
  const { routed, scheduled } = ok as OkReply & PublishOk;
  return scheduled ? { routed: routed === true, scheduled: { id: scheduled.id, due: scheduled.due } } : { routed: routed === true };
};

export const toMessageCount: Mapper = (ok) => ({ messageCount: (ok as OkReply & MessageCountOk).messageCount });

export const toQueueDeclare: Mapper = (ok) => {
  const { queue, messageCount, consumerCount } = ok as OkReply & QueueDeclareOk;
  return { queue, messageCount, consumerCount };
};

export const toGetResult: Mapper = (ok, settler) => {
  const { message } = ok as OkReply & GetOk;
  return message ? new ReceivedMessage(settler, message) : null;
};

export function publishFrame(o: O.PublishOptions): PublishFrame {
  const { exchange, routingKey, body, mandatory } = o;
  const properties = o.delay === undefined ? o.properties : withDelay(o.properties, o.delay);
  return typeof body === 'string'
    ? { op: 'publish', exchange, routingKey, body, mandatory, properties }
    : { op: 'publish', exchange, routingKey, body: encodeBase64(body), encoding: 'base64', mandatory, properties };
}

export function bindingFields(o: O.QueueBindOptions): O.QueueBindOptions {
  return { queue: o.queue, exchange: o.exchange, routingKey: o.routingKey, arguments: o.arguments };
}

/** `delay` is the `x-delay` header, on a copy of the caller's properties. */
function withDelay(properties: O.PublishOptions['properties'], delay: number): NonNullable<O.PublishOptions['properties']> {
  if (!Number.isSafeInteger(delay) || delay < 0) throw new RangeError(`delay must be a non-negative integer number of milliseconds, got ${delay}`);
  return { ...properties, headers: { ...properties?.headers, 'x-delay': delay } };
}
