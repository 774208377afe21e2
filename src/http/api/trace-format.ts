/**
 * Trace events as the JSON lines of `GET /api/trace/{vhost}/stream` (docs/tracing.md): the message as the
 * get-messages API shows it (RabbitMQ's `properties`, a payload preview), who acted and where.
 */
import { contentSize, TextContent, type MessageContent } from '../../broker/message.js';
import type { TraceEvent, TraceProtocol } from '../../broker/trace-event.js';
import { toRabbitProperties } from './message-format.js';

/** Bytes of the body a line shows. */
export const PREVIEW_BYTES = 256;

/** What a line says of the message itself; kept per message, for events that come when its content is paged out. */
export interface MessageSummary {
  readonly exchange: string | null;
  readonly routing_keys: readonly string[];
  readonly properties: Record<string, unknown>;
  readonly payload_bytes: number;
  readonly payload: string;
  readonly payload_encoding: 'string' | 'base64';
}

export interface TraceLine extends MessageSummary {
  readonly type: 'event';
  readonly seq: number;
  readonly at: string;
  readonly event: TraceEvent['kind'];
  readonly trace_id: string;
  readonly from_trace_id?: string;
  readonly connection: string | null;
  readonly connection_name: string | null;
  readonly channel: number | null;
  readonly user: string | null;
  readonly protocol: TraceProtocol | null;
  readonly queues?: readonly string[];
  readonly queue?: string;
  readonly consumer_tag?: string | null;
  readonly redelivered?: boolean;
  readonly delivery_count?: number;
  readonly requeue?: boolean;
  readonly reason?: string;
  readonly dead_letter_exchange?: string | null;
}

export function summarise(content: MessageContent, routingKeys: readonly string[], size: number): MessageSummary {
  const { payload, payload_encoding } = preview(content);
  return { exchange: content.exchange, routing_keys: [...routingKeys], properties: toRabbitProperties(content.properties), payload_bytes: size, payload, payload_encoding };
}

/** When neither the event nor anything kept has the content: only its size is known. */
export function unknownSummary(size: number): MessageSummary {
  return { exchange: null, routing_keys: [], properties: {}, payload_bytes: size, payload: '', payload_encoding: 'string' };
}

/** Built field by field rather than spread together: a spread with fields added costs microseconds an event. */
export function traceLine(event: TraceEvent, seq: number, summary: MessageSummary): TraceLine {
  const { origin } = event;
  const line: Mutable<TraceLine> = {
    type: 'event',
    seq,
    at: new Date(event.at).toISOString(),
    event: event.kind,
    trace_id: event.traceId,
    exchange: summary.exchange,
    routing_keys: summary.routing_keys,
    properties: summary.properties,
    payload_bytes: summary.payload_bytes,
    payload: summary.payload,
    payload_encoding: summary.payload_encoding,
    connection: origin.connection,
    connection_name: origin.connectionName,
    channel: origin.channel,
    user: origin.user,
    protocol: origin.protocol,
  };
  switch (event.kind) {
    case 'published':
      line.queues = event.queues;
      break;
    case 'routed':
      line.queues = event.queues;
      if (event.fromTraceId !== undefined) line.from_trace_id = event.fromTraceId;
      break;
    case 'unroutable':
    case 'returned':
      if (event.fromTraceId !== undefined) line.from_trace_id = event.fromTraceId;
      break;
    case 'delivered':
      line.queue = event.queue;
      line.consumer_tag = event.consumerTag;
      line.redelivered = event.redelivered;
      line.delivery_count = event.deliveryCount;
      break;
    case 'acked':
    case 'expired':
      line.queue = event.queue;
      break;
    case 'nacked':
    case 'rejected':
      line.queue = event.queue;
      line.requeue = event.requeue === true;
      break;
    case 'dead-lettered':
      line.queue = event.queue;
      line.reason = event.reason;
      line.dead_letter_exchange = event.deadLetterExchange;
      break;
  }
  return line;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The first PREVIEW_BYTES bytes: as text when they are UTF-8 (cut at a character boundary), else base64. */
function preview(content: MessageContent): { payload: string; payload_encoding: 'string' | 'base64' } {
  // A text body is cut before it is encoded: a large one is never encoded whole for a preview.
  const bytes = content instanceof TextContent ? Buffer.from(content.text.slice(0, PREVIEW_BYTES), 'utf8') : content.body;
  const head = bytes.subarray(0, PREVIEW_BYTES);
  // A cut inside a character leaves up to three bytes of it: drop those rather than call the preview binary.
  const cut = head.length < contentSize(content);
  for (let drop = 0; drop <= (cut ? Math.min(3, head.length) : 0); drop++) {
    try {
      return { payload: strictUtf8.decode(head.subarray(0, head.length - drop)), payload_encoding: 'string' };
    } catch {
      // Not text at this length: try a shorter cut, or fall through to base64.
    }
  }
  return { payload: Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('base64'), payload_encoding: 'base64' };
}
