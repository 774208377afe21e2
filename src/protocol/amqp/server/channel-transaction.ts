// tx.select mode for one channel: publishes and settlements are held until tx.commit applies them in
// order (and its commit-ok waits until what they wrote is on disk), or tx.rollback drops them.
import type { Done } from '../../../operations/done.js';

export type Transacted = () => Done<unknown>;

export class ChannelTransaction {
  private work: Transacted[] = [];
  private messages = 0;
  private acks = 0;

  get uncommittedMessages(): number {
    return this.messages;
  }

  get uncommittedAcks(): number {
    return this.acks;
  }

  hold(kind: 'publish' | 'settle', work: Transacted): void {
    this.work.push(work);
    if (kind === 'publish') this.messages++;
    else this.acks++;
  }

  /** Applies the held work in order; resolves when everything it wrote is durable. A failure stops the rest. */
  commit(): Promise<void> {
    const work = this.take();
    const durable: Promise<void>[] = [];
    for (const run of work) {
      const done = run();
      if (done.durable) durable.push(done.durable);
    }
    return Promise.all(durable).then(() => undefined);
  }

  rollback(): void {
    this.take();
  }

  private take(): Transacted[] {
    const work = this.work;
    this.work = [];
    this.messages = 0;
    this.acks = 0;
    return work;
  }
}
