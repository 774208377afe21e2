import type { Batch } from './write-batch.js';

/**
 * How long a batch that nobody waits for may wait for company: settlements, delivery marks, and messages
 * every one of which a consumer has already. Flushed alone, such a batch takes the disk for one fsync
 * just when the next publishes arrive, and their confirms wait for it; riding along with the next batch
 * of messages it costs nothing. A crash in this window forgets at most these acks (their messages come
 * back, as after any crash before an ack reached the disk) and messages no publisher was told are safe
 * (their confirms wait for this write, or for the consumers' acks — and an acked message needs no
 * record at all: most are settled before the window ends, and never written).
 */
export const LAZY_FLUSH_MS = 10;

/** What the schedule needs of its writer. */
export interface FlushHost {
  pending(): Batch;
  /** Whether an unwritten message of the batch still waits for a consumer (see WriterHooks). */
  awaitsConsumer(batch: Batch): boolean;
  /** Start writing the pending batch now. */
  flush(): void;
  /** A batch is being written, a failed one waits for its retry, or the writer is closed. */
  busy(): boolean;
}

/**
 * When the pending batch goes while the writer is idle: an urgent batch at the end of the event-loop
 * turn (or after the configured interval), any other after the lazy wait — unless, at the end of the
 * turn, one of its unwritten messages turns out to wait for a consumer, which makes it go then.
 */
export class FlushSchedule {
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Whether `timer` is the prompt flush of an urgent batch (else the lazy one). */
  private timerUrgent = false;
  /** At the end of the turn: whether a message added in it waits for a consumer. */
  private checkTimer: NodeJS.Immediate | undefined;

  constructor(
    private readonly flushIntervalMs: number,
    private readonly host: FlushHost,
  ) {}

  /** Something was appended to the pending batch while the writer was idle. */
  appended(batch: Batch): void {
    if (!batch.urgent) {
      // Not the prompt timer: the lazy one keeps its deadline however many turns add to the batch.
      if (batch.unwritten.length > batch.unwrittenChecked) this.checkTimer ??= setImmediate(this.check);
      this.timer ??= setTimeout(this.fire, Math.max(LAZY_FLUSH_MS, this.flushIntervalMs));
      return;
    }
    this.prompt();
  }

  private prompt(): void {
    if (this.timer && !this.timerUrgent) this.clear();
    if (!this.timer) {
      // With no wait configured, the batch is what arrived in this event-loop turn: every frame already
      // read from every socket. While its fsync runs, the next batch gathers on its own.
      this.timerUrgent = true;
      this.timer = this.flushIntervalMs > 0 ? setTimeout(this.fire, this.flushIntervalMs) : setImmediate(this.fire);
    }
  }

  /** The batch must go as soon as the disk is free. */
  mustWrite(batch: Batch): boolean {
    return batch.urgent || this.host.awaitsConsumer(batch);
  }

  /** A flush started (or the writer closed): no timer is needed. */
  clear(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
    this.timerUrgent = false;
    if (this.checkTimer) clearImmediate(this.checkTimer);
    this.checkTimer = undefined;
  }

  /** Either timer's end: what is pending goes now, urgent or not. */
  private readonly fire = (): void => {
    this.timer = undefined;
    this.host.flush();
  };

  private readonly check = (): void => {
    this.checkTimer = undefined;
    // While a batch is written, the writer's loop asks the same when it is done.
    if (this.host.busy() || !this.host.awaitsConsumer(this.host.pending())) return;
    // The end of the turn already: no second wait for it, but a configured interval is kept.
    if (this.flushIntervalMs > 0) this.prompt();
    else this.host.flush();
  };
}
