// @ts-check
/**
 * Reading the trace stream (`GET /api/trace/{vhost}/stream`, NDJSON). Holding the stream stops calling
 * `reader.read()` and tells the server (`PUT /api/trace/{vhost}/stream/{id}` `{paused: true}`): Chromium
 * does not pass a page's backpressure on to the socket but keeps reading into its own buffers, so only
 * the server can stop the flow. While paused the server counts what it did not send, and says how many
 * in a `gap` line on resume.
 */
import { api, openStream, path } from './api.js';

/**
 * One trace event as the server sends it (see docs: the console's Trace view).
 * @typedef {Object} TraceEvent
 * @property {'event'} type
 * @property {number} seq
 * @property {string} at ISO time
 * @property {string} event published, routed, unroutable, returned, delivered, acked, nacked, rejected, dead-lettered, expired
 * @property {string} trace_id
 * @property {string} [from_trace_id] the message this one came from (a dead letter's original)
 * @property {string | null} exchange null (with no routing keys, properties or payload) when the message was paged out before the stream saw it
 * @property {string[]} routing_keys
 * @property {Record<string, unknown>} properties
 * @property {number} payload_bytes
 * @property {string} payload the first bytes only
 * @property {'string' | 'base64'} payload_encoding
 * @property {string | null} connection
 * @property {string | null} [connection_name] the name the client gave its connection
 * @property {number | null} channel
 * @property {string | null} user
 * @property {string | null} protocol
 * @property {string[]} [queues]
 * @property {string} [queue]
 * @property {string | null} [consumer_tag] null for a get
 * @property {boolean} [redelivered]
 * @property {number} [delivery_count]
 * @property {boolean} [requeue]
 * @property {string} [reason]
 * @property {string | null} [dead_letter_exchange] null when the queue's dead-letter exchange does not exist
 */

/**
 * @typedef {{type: 'hello', vhost: string, stream: string, filter: Record<string, unknown>}
 *   | TraceEvent
 *   | {type: 'gap', missed: number}
 *   | {type: 'capped', events: number}
 *   | {type: 'closed', reason: string}
 *   | {type: 'unreadable', text: string}} TraceLine
 */

/** @typedef {{exchange?: string, queue?: string, routing_key?: string, header?: string, max?: number}} TraceFilter */

/** Splits a byte stream into text lines; a line cut across chunks (or inside a UTF-8 character) is kept whole. */
export class LineSplitter {
  constructor() {
    this.decoder = new TextDecoder();
    this.rest = '';
  }

  /** @param {Uint8Array} chunk @returns {string[]} */
  push(chunk) {
    const lines = (this.rest + this.decoder.decode(chunk, { stream: true })).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '');
  }

  /** @returns {string[]} */
  end() {
    const last = (this.rest + this.decoder.decode()).trim();
    this.rest = '';
    return last ? [last] : [];
  }
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A line the page can use; anything else (not JSON, no known type, an event without its id) is kept as
 * `unreadable` so it is shown rather than silently lost.
 * @param {string} text @returns {TraceLine}
 */
export function parseLine(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'unreadable', text: text.slice(0, 200) };
  }
  if (!isObject(value)) return { type: 'unreadable', text: text.slice(0, 200) };
  switch (value.type) {
    case 'hello':
      return { type: 'hello', vhost: String(value.vhost ?? ''), stream: typeof value.stream === 'string' ? value.stream : '', filter: isObject(value.filter) ? value.filter : {} };
    case 'gap':
      return { type: 'gap', missed: Number(value.missed) || 0 };
    case 'capped':
      return { type: 'capped', events: Number(value.events) || 0 };
    case 'closed':
      return { type: 'closed', reason: String(value.reason ?? '') };
    case 'event':
      if (typeof value.trace_id === 'string' && typeof value.event === 'string') return /** @type {TraceEvent} */ (/** @type {unknown} */ (value));
      return { type: 'unreadable', text: text.slice(0, 200) };
    default:
      return { type: 'unreadable', text: text.slice(0, 200) };
  }
}

/**
 * The query string of a trace request: empty filters are left out; the header filter is one `name=value`.
 * @param {TraceFilter} filter
 * @returns {Record<string, string | number | undefined>}
 */
export function traceQuery(filter) {
  return { exchange: filter.exchange, queue: filter.queue, routing_key: filter.routing_key, header: filter.header, max: filter.max };
}

/**
 * @typedef {Object} StreamHandlers
 * @property {(lines: TraceLine[]) => void} onLines lines of one chunk, in order
 * @property {(outcome: {stopped: boolean, error?: unknown}) => void} onEnd the body ended, failed or was stopped
 * @property {() => void} [onServerPaused] the server took a pause or a resume (see `serverPaused`)
 */

export class TraceStream {
  /** @param {StreamHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.controller = new AbortController();
    this.held = false;
    this.stopped = false;
    /** The server's name for this stream (its hello line), for pause and resume. */
    this.id = '';
    /** The server said it holds back events (a pause it answered, not yet resumed). */
    this.serverPaused = false;
    /** Pauses and resumes go out one after another, so the server ends in the state asked last. */
    this.told = Promise.resolve();
    this.vhost = '';
    /** @type {(() => void) | null} */
    this.wake = null;
  }

  /**
   * Opens the stream; resolves once the server accepted it (rejects with its ApiError, a 403 say), then
   * reads in the background until the end, a failure or `stop`.
   * @param {string} vhost @param {TraceFilter} filter @param {AbortSignal} pageSignal leaving the page stops it
   */
  async start(vhost, filter, pageSignal) {
    const signal = AbortSignal.any([this.controller.signal, pageSignal]);
    this.vhost = vhost;
    const response = await openStream(path`/trace/${vhost}/stream`, traceQuery(filter), signal);
    if (!response.body) throw new Error('The browser gave no readable body for the trace stream.');
    void this.read(response.body.getReader(), signal);
  }

  /**
   * @param {ReadableStreamDefaultReader<Uint8Array>} reader @param {AbortSignal} signal
   */
  async read(reader, signal) {
    const splitter = new LineSplitter();
    try {
      for (;;) {
        while (this.held && !this.stopped && !signal.aborted) await new Promise((resolve) => (this.wake = () => resolve(undefined)));
        if (this.stopped || signal.aborted) break;
        const { value, done } = await reader.read();
        if (done) break;
        const lines = splitter.push(value).map(parseLine);
        for (const line of lines) if (line.type === 'hello' && line.stream) this.id = line.stream;
        if (lines.length > 0) this.handlers.onLines(lines);
      }
      const tail = splitter.end().map(parseLine);
      if (tail.length > 0 && !this.stopped) this.handlers.onLines(tail);
      this.handlers.onEnd({ stopped: this.stopped || signal.aborted });
    } catch (error) {
      this.handlers.onEnd(this.stopped || signal.aborted ? { stopped: true } : { stopped: false, error });
    } finally {
      if (this.stopped || signal.aborted) reader.cancel().catch(() => undefined);
    }
  }

  /** Stops reading until `resume`, and has the server stop sending (it counts what it holds back). */
  hold() {
    if (this.held) return;
    this.held = true;
    this.tellServer(true);
  }

  resume() {
    if (this.held && !this.stopped) this.tellServer(false);
    this.held = false;
    this.wake?.();
    this.wake = null;
  }

  /** @param {boolean} paused */
  tellServer(paused) {
    if (!this.id) return;
    // A stream that ended meanwhile answers 404: nothing left to pause.
    const url = path`/trace/${this.vhost}/stream/${this.id}`;
    this.told = this.told
      .then(() => api.put(url, { paused }))
      .then(() => {
        this.serverPaused = paused;
        this.handlers.onServerPaused?.();
      })
      .catch(() => undefined);
  }

  /** Cancels the request: the server sees the disconnect and drops its subscription. */
  stop() {
    this.stopped = true;
    this.controller.abort();
    this.resume();
  }
}
