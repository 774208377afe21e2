/**
 * One trace watcher's HTTP response: newline-delimited JSON, a line per event as it happens. A reader
 * that falls behind is never buffered for without bound: past the high-water mark events are dropped
 * and counted, and a `gap` line says how many once the response drains. A reader can also say it is
 * paused (a browser does not pass its page's backpressure on to the socket: Chromium keeps reading into
 * its own buffers), and then it gets nothing but the count, in a `gap` line when it resumes.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { TraceEvent } from '../../broker/trace-event.js';
import type { TraceSink } from '../../operations/trace-watch.js';
import { summarise, traceLine, unknownSummary, type MessageSummary } from './trace-format.js';

/** Bytes a response may hold unsent before events are dropped. */
export const TRACE_HIGH_WATER_MARK = 1024 * 1024;

/** Summaries kept for events whose message is paged out; the oldest are forgotten first. */
const MAX_SUMMARIES = 10_000;

export class TraceStream implements TraceSink {
  /** Names the stream to `PUT /api/trace/{vhost}/stream/{id}`, which pauses and resumes it. */
  readonly id = randomUUID();
  private missed = 0;
  private paused = false;
  private waitingForDrain = false;
  private ended = false;
  private readonly summaries = new Map<string, MessageSummary>();

  constructor(
    private readonly response: ServerResponse,
    private readonly highWaterMark = TRACE_HIGH_WATER_MARK,
  ) {}

  /** The first line. */
  hello(line: object): void {
    this.write(line);
  }

  event(event: TraceEvent, seq: number): boolean {
    if (this.ended) return false;
    if (this.paused || this.missed > 0 || this.response.writableLength > this.highWaterMark) {
      this.missed++;
      if (!this.paused) this.awaitDrain();
      return false;
    }
    this.write(traceLine(event, seq, this.summaryOf(event)));
    return true;
  }

  capped(events: number): void {
    this.end({ type: 'capped', events });
  }

  closed(reason: string): void {
    this.end({ type: 'closed', reason });
  }

  /** The reader left, or the server is closing. */
  end(last?: object): void {
    if (this.ended) return;
    if (last) this.write(last);
    this.ended = true;
    this.response.end();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The reader paused or resumed; on resume the events missed meanwhile are told in a `gap` line. */
  setPaused(paused: boolean): void {
    if (this.ended || paused === this.paused) return;
    this.paused = paused;
    if (!paused && this.missed > 0) this.awaitDrain();
  }

  private awaitDrain(): void {
    if (this.waitingForDrain) return;
    if (this.response.writableLength <= this.highWaterMark) return this.drained();
    this.waitingForDrain = true;
    this.response.once('drain', () => {
      this.waitingForDrain = false;
      this.drained();
    });
  }

  private drained(): void {
    if (this.ended || this.paused || this.missed === 0) return;
    const missed = this.missed;
    this.missed = 0;
    this.write({ type: 'gap', missed });
  }

  private summaryOf(event: TraceEvent): MessageSummary {
    // A message's content never changes: summarised once, from the first event that has it.
    const kept = this.summaries.get(event.traceId);
    if (kept) return kept;
    const content = event.content;
    if (!content) return unknownSummary(event.message.size);
    const summary = summarise(content, event.routingKeys, event.message.size);
    this.summaries.set(event.traceId, summary);
    if (this.summaries.size > MAX_SUMMARIES) {
      const oldest = this.summaries.keys().next().value;
      if (oldest !== undefined) this.summaries.delete(oldest);
    }
    return summary;
  }

  private write(line: object): void {
    if (this.ended || this.response.destroyed) return;
    this.response.write(`${JSON.stringify(line)}\n`);
  }
}
