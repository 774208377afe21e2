// Publisher confirms for one channel in confirm mode: every publish gets the next sequence number, and
// its basic.ack (or basic.nack) goes out once the broker has it safe — in sequence order, so that a
// run of acks ready at once becomes a single `multiple` ack, as RabbitMQ sends them.

import type { Done } from '../../../operations/done.js';

export type ConfirmOutcome = 'ack' | 'nack';

interface Pending {
  readonly seq: number;
  outcome: ConfirmOutcome | undefined;
}

export class PublisherConfirms {
  private nextSeq = 1;
  private readonly pending: Pending[] = [];
  private head = 0;
  private flushScheduled = false;

  constructor(private readonly send: (outcome: ConfirmOutcome, deliveryTag: number, multiple: boolean) => void) {}

  /** Publishes awaiting their confirm. */
  get unconfirmed(): number {
    return this.pending.length - this.head;
  }

  /**
   * Takes the next sequence number for a publish. The confirm is sent once `outcome` is known: at once,
   * or when the publish is durable (safe: ack; failed: nack, the message was refused).
   */
  publish(outcome: ConfirmOutcome, done?: Pick<Done<unknown>, 'durable' | 'whenDurable'>): void {
    const entry: Pending = { seq: this.nextSeq++, outcome: undefined };
    this.pending.push(entry);
    const safe = (): void => this.ready(entry, 'ack');
    const failed = (): void => this.ready(entry, 'nack');
    if (outcome !== 'ack' || done === undefined) this.ready(entry, outcome);
    else if (done.whenDurable) done.whenDurable(safe, failed);
    else if (done.durable) done.durable.then(safe, failed);
    else this.ready(entry, outcome);
  }

  /** The first outcome counts: a publish can be both settled by its queues and then on disk. */
  private ready(entry: Pending, outcome: ConfirmOutcome): void {
    if (entry.outcome !== undefined) return;
    entry.outcome = outcome;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Publishes read from one socket chunk are confirmed together, after the whole chunk is handled.
    queueMicrotask(() => this.flush());
  }

  /** Sends every confirm that is ready, from the oldest, stopping at the first still waiting. */
  private flush(): void {
    this.flushScheduled = false;
    let lastAck: number | undefined;
    let acks = 0;
    while (this.head < this.pending.length) {
      const entry = this.pending[this.head] as Pending;
      if (entry.outcome === undefined) break;
      this.head++;
      if (entry.outcome === 'ack') {
        lastAck = entry.seq;
        acks++;
        continue;
      }
      if (lastAck !== undefined) this.send('ack', lastAck, acks > 1);
      lastAck = undefined;
      acks = 0;
      this.send('nack', entry.seq, false);
    }
    if (lastAck !== undefined) this.send('ack', lastAck, acks > 1);
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }
}
