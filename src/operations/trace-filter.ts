/**
 * Which trace events a watcher sees. A message is chosen by what it was published with (exchange,
 * a routing-key glob, one header's value) and, with `queue`, by being routed to or held in that queue;
 * every later event of a chosen message follows, and so do its dead-lettered copies.
 */
import { Glob } from '../broker/message-filter.js';
import type { HeaderValue } from '../broker/message.js';
import type { TraceEvent } from '../broker/trace-event.js';

export interface TraceFilter {
  readonly exchange?: string | undefined;
  readonly queue?: string | undefined;
  /** `*` any run of characters, `?` exactly one; everything else literal. */
  readonly routingKey?: string | undefined;
  readonly header?: { readonly name: string; readonly value: string } | undefined;
}

/** Names are AMQP short strings; a glob or header longer than that could never match one. */
const MAX_FIELD_BYTES = 255;

/** The filter from query parameters, or the reason it is refused. */
export function parseTraceFilter(query: {
  readonly exchange?: string | undefined;
  readonly queue?: string | undefined;
  readonly routing_key?: string | undefined;
  readonly header?: string | undefined;
}): TraceFilter | { readonly problem: string } {
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_FIELD_BYTES) return { problem: `${name} is longer than ${MAX_FIELD_BYTES} bytes` };
  }
  let header: TraceFilter['header'];
  if (query.header !== undefined) {
    const at = query.header.indexOf('=');
    if (at <= 0) return { problem: 'header must be name=value, with a non-empty name' };
    header = { name: query.header.slice(0, at), value: query.header.slice(at + 1) };
  }
  return { exchange: query.exchange, queue: query.queue, routingKey: query.routing_key, header };
}

/** Enough to follow every message a capped stream can show, and then some; the oldest are forgotten first. */
const MAX_TRACKED = 20_000;

/** One watcher's choice, with the messages it already chose. */
export class TraceSelection {
  private readonly tracked = new Set<string>();
  private readonly routingKey: Glob | undefined;

  constructor(readonly filter: TraceFilter) {
    this.routingKey = filter.routingKey === undefined ? undefined : new Glob(filter.routingKey);
  }

  /** Whether the watcher sees `event`; a chosen message (and its copies) is followed from then on. */
  select(event: TraceEvent): boolean {
    const from = 'fromTraceId' in event ? event.fromTraceId : undefined;
    if (from !== undefined && this.tracked.has(from)) return this.track(event.traceId);
    if (this.tracked.has(event.traceId)) {
      const queue = this.filter.queue;
      return queue === undefined || !('queue' in event) || event.queue === queue;
    }
    return this.matches(event) && this.track(event.traceId);
  }

  /** The event itself meets the filter (what it carries of its message, and where it is). */
  private matches(event: TraceEvent): boolean {
    const { exchange, queue, routingKey, header } = this.filter;
    if (queue !== undefined) {
      const here = 'queue' in event ? event.queue === queue : 'queues' in event && event.queues.includes(queue);
      if (!here) return false;
    }
    if (exchange === undefined && routingKey === undefined && header === undefined) return true;
    const content = event.content;
    if (!content) return false;
    if (exchange !== undefined && content.exchange !== exchange) return false;
    if (this.routingKey && !event.routingKeys.some((key) => this.routingKey?.matches(key))) return false;
    if (header !== undefined && !headerEquals(content.properties.headers?.[header.name], header.value)) return false;
    return true;
  }

  private track(traceId: string): true {
    this.tracked.add(traceId);
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.values().next().value;
      if (oldest !== undefined) this.tracked.delete(oldest);
    }
    return true;
  }
}

/** A header given as text matches a string, number or boolean header spelled the same. */
function headerEquals(value: HeaderValue | undefined, wanted: string): boolean {
  if (typeof value === 'string') return value === wanted;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value) === wanted;
  return false;
}
