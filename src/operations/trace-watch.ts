/**
 * A live watch of one vhost's trace: subscribes to its tracer (which stays active while any watch or
 * the firehose listens), picks the events its filter selects, numbers them and stops after `max`.
 * Where the events go, and what happens when they cannot go fast enough, is the sink's business.
 */
import type { TraceEvent, TraceListener } from '../broker/trace-event.js';
import type { VHost } from '../broker/vhost.js';
import { TraceSelection, type TraceFilter } from './trace-filter.js';

export interface TraceSink {
  /** A selected event, numbered from 1; false when the sink had to drop it (it counts its own gaps). */
  event(event: TraceEvent, seq: number): boolean;
  /** `max` events went out: the watch has stopped. */
  capped(events: number): void;
  /** The vhost went away: the watch has stopped. */
  closed(reason: string): void;
}

export const DEFAULT_TRACE_MAX = 1000;
export const MAX_TRACE_MAX = 10_000;

export class TraceWatch implements TraceListener {
  private readonly selection: TraceSelection;
  private readonly unsubscribe: () => void;
  private seq = 0;
  private sent = 0;
  private stopped = false;

  constructor(
    vhost: VHost,
    filter: TraceFilter,
    private readonly max: number,
    private readonly sink: TraceSink,
  ) {
    this.selection = new TraceSelection(filter);
    this.unsubscribe = vhost.tracer.subscribe(this);
  }

  get active(): boolean {
    return !this.stopped;
  }

  event(event: TraceEvent): void {
    if (this.stopped || !this.selection.select(event)) return;
    if (!this.sink.event(event, ++this.seq)) return;
    if (++this.sent < this.max) return;
    this.stop();
    this.sink.capped(this.sent);
  }

  closed(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sink.closed(reason);
  }

  /** The watcher left (or was capped); the tracer goes inactive once nobody else listens. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
  }
}
