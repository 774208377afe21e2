// @ts-check
/**
 * The trace view's messages: events grouped by message (trace id, with a dead letter joined to the
 * message it came from), at most `keep` messages (the oldest dropped), each step put in words.
 */
import { exchangeLabel } from './format.js';

/** @typedef {import('./trace-stream.js').TraceEvent} TraceEvent */

/** Steps kept per message: a message requeued in a loop must not grow without end. */
export const STEPS_PER_MESSAGE = 50;

/**
 * @typedef {Object} TracedMessage
 * @property {string} id the first trace id seen for it
 * @property {Set<string>} ids every trace id that belongs to it
 * @property {TraceEvent} first the event that made it appear (the publish, when the trace saw it)
 * @property {TraceEvent[]} steps in arrival order, at most STEPS_PER_MESSAGE
 * @property {number} more steps not kept
 * @property {TraceEvent} last
 */

/**
 * @typedef {Object} Applied
 * @property {Set<TracedMessage>} changed messages that got steps (new ones included)
 * @property {TracedMessage[]} added new messages, oldest first
 * @property {TracedMessage[]} dropped messages pushed out by the cap
 */

export class TraceModel {
  /** @param {number} keep messages kept at most */
  constructor(keep) {
    this.keep = Math.max(1, keep);
    /** Insertion order is arrival order: the first key is the oldest message. @type {Map<string, TracedMessage>} */
    this.messages = new Map();
    /** Any trace id of a kept message → that message. @type {Map<string, TracedMessage>} */
    this.byTraceId = new Map();
    this.droppedCount = 0;
    this.events = 0;
  }

  /** @param {TraceEvent[]} events @returns {Applied} */
  apply(events) {
    /** @type {Applied} */
    const result = { changed: new Set(), added: [], dropped: [] };
    for (const event of events) {
      this.events += 1;
      let message = this.byTraceId.get(event.trace_id) ?? (event.from_trace_id ? this.byTraceId.get(event.from_trace_id) : undefined);
      if (!message) {
        message = { id: event.trace_id, ids: new Set([event.trace_id]), first: event, steps: [], more: 0, last: event };
        this.messages.set(message.id, message);
        result.added.push(message);
      }
      message.ids.add(event.trace_id);
      this.byTraceId.set(event.trace_id, message);
      if (message.steps.length < STEPS_PER_MESSAGE) message.steps.push(event);
      else message.more += 1;
      message.last = event;
      result.changed.add(message);
    }
    while (this.messages.size > this.keep) {
      const oldest = /** @type {TracedMessage} */ (this.messages.values().next().value);
      this.remove(oldest);
      this.droppedCount += 1;
      result.dropped.push(oldest);
      result.changed.delete(oldest);
    }
    result.added = result.added.filter((m) => this.messages.has(m.id));
    return result;
  }

  /** @param {TracedMessage} message */
  remove(message) {
    this.messages.delete(message.id);
    for (const id of message.ids) if (this.byTraceId.get(id) === message) this.byTraceId.delete(id);
  }

  clear() {
    this.messages.clear();
    this.byTraceId.clear();
    this.droppedCount = 0;
    this.events = 0;
  }
}

/** `exchange "x"`, or `the default exchange`. @param {string | null} name null: not known */
function exchangeWords(name) {
  if (name === null) return 'an exchange not known to this trace';
  return name === '' ? 'the default exchange' : `exchange "${name}"`;
}

/** For list rows and details: the exchange, or `(not known)` when the trace never had the message's content. @param {string | null} name */
export function exchangeName(name) {
  return name === null ? '(not known)' : exchangeLabel(name);
}

/** `by connection "c" (user u, amqp091, channel 1)`, or '' when the event names no connection. @param {TraceEvent} e */
export function whoWords(e) {
  const parts = [e.user ? `user ${e.user}` : null, e.protocol ?? null, typeof e.channel === 'number' ? `channel ${e.channel}` : null].filter(Boolean);
  const named = e.connection_name ? `connection "${e.connection_name}" (${e.connection})` : `connection "${e.connection}"`;
  const connection = e.connection ? named : 'the broker';
  return `${connection}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** @param {string[] | undefined} names */
function queueList(names) {
  return (names ?? []).map((q) => `"${q}"`).join(', ');
}

/**
 * One step in words.
 * @param {TraceEvent} e
 * @returns {{label: string, text: string, tone: 'ok' | 'warn' | 'danger' | 'plain'}}
 */
export function describeStep(e) {
  const keys = e.routing_keys.length ? e.routing_keys.map((k) => `"${k}"`).join(', ') : '""';
  const queue = e.queue ? `queue "${e.queue}"` : 'its queue';
  switch (e.event) {
    case 'published':
      return { label: 'published', tone: 'plain', text: `to ${exchangeWords(e.exchange)} with routing key ${keys} by ${whoWords(e)}` };
    case 'routed': {
      const n = e.queues?.length ?? 0;
      return { label: 'routed', tone: 'ok', text: n ? `to ${n === 1 ? 'queue' : `${n} queues:`} ${queueList(e.queues)}` : 'to no queue' };
    }
    case 'unroutable':
      return { label: 'unroutable', tone: 'danger', text: `no queue is bound to ${exchangeWords(e.exchange)} for this key: dropped` };
    case 'returned':
      return { label: 'returned', tone: 'warn', text: `to the publisher, ${whoWords(e)} (mandatory, no route)` };
    case 'delivered': {
      const how = e.consumer_tag ? `to consumer "${e.consumer_tag}" on ${whoWords(e)}` : `fetched with get by ${whoWords(e)}`;
      const again = e.redelivered ? `, redelivered${typeof e.delivery_count === 'number' ? ` (delivery ${e.delivery_count})` : ''}` : '';
      return { label: 'delivered', tone: 'ok', text: `from ${queue} ${how}${again}` };
    }
    case 'acked':
      return { label: 'acked', tone: 'ok', text: `in ${queue} by ${whoWords(e)}` };
    case 'nacked':
      return { label: 'nacked', tone: 'warn', text: `in ${queue} by ${whoWords(e)}${requeueWords(e)}` };
    case 'rejected':
      return { label: 'rejected', tone: 'warn', text: `in ${queue} by ${whoWords(e)}${requeueWords(e)}` };
    case 'dead-lettered':
      return {
        label: 'dead-lettered',
        tone: 'warn',
        text: `from ${queue}${e.reason ? ` (${e.reason})` : ''}${deadLetterWords(e.dead_letter_exchange)}`,
      };
    case 'expired':
      return { label: 'expired', tone: 'warn', text: `in ${queue}${e.reason && e.reason !== 'expired' ? ` (${e.reason})` : ''}` };
    default:
      return { label: e.event, tone: 'plain', text: '' };
  }
}

/** @param {string | null | undefined} exchange null: the queue's dead-letter exchange does not exist */
function deadLetterWords(exchange) {
  if (exchange === undefined) return '';
  if (exchange === null) return ': dropped, its dead-letter exchange does not exist';
  return ` to ${exchangeWords(exchange)}`;
}

/** @param {TraceEvent} e */
function requeueWords(e) {
  if (e.requeue === true) return ': requeued';
  if (e.requeue === false) return ': not requeued';
  return '';
}

/** A short look at the payload for a list row. @param {TraceEvent} e */
export function payloadPreview(e) {
  if (e.payload_encoding === 'base64') return `(binary, ${e.payload_bytes} bytes)`;
  const oneLine = e.payload.replace(/\s+/g, ' ');
  return oneLine.length > 80 ? `${oneLine.slice(0, 80)}…` : oneLine;
}
