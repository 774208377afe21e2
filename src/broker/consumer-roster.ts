import type { Consumer } from './consumer.js';
import { accessRefused } from './errors.js';

/**
 * A queue's consumers and the choice of who gets the next message: round-robin among those with
 * capacity, the highest `x-priority` first when priorities differ, or only the oldest consumer with a
 * single active consumer. The queue's ready messages and the channels' prefetch are elsewhere.
 */
export class ConsumerRoster {
  private consumers: Consumer[] = [];
  private roundRobin = 0;
  private mixedPriorities = false;
  /** Whether it ever had a consumer: an auto-delete queue goes only once it has had one. */
  hadConsumer = false;

  constructor(
    private readonly singleActive: boolean,
    /** For the refusal's message. */
    private readonly describeQueue: () => string,
  ) {}

  get size(): number {
    return this.consumers.length;
  }

  get list(): readonly Consumer[] {
    return this.consumers;
  }

  add(consumer: Consumer): void {
    const holder = this.consumers.find((c) => c.exclusive);
    if (holder || (consumer.exclusive && this.consumers.length > 0)) {
      throw accessRefused(`cannot obtain exclusive access to locked queue ${this.describeQueue()}`);
    }
    this.consumers.push(consumer);
    this.hadConsumer = true;
    this.mixedPriorities = this.consumers.some((c) => c.priority !== this.consumers[0]?.priority);
    // A single active consumer keeps its place whatever the priorities; the next in line is the oldest.
    if (this.mixedPriorities && !this.singleActive) this.consumers.sort((a, b) => b.priority - a.priority);
  }

  /** Returns false when it was not there. */
  remove(consumer: Consumer): boolean {
    const at = this.consumers.indexOf(consumer);
    if (at < 0) return false;
    this.consumers.splice(at, 1);
    if (at < this.roundRobin) this.roundRobin--;
    this.mixedPriorities = this.consumers.some((c) => c.priority !== this.consumers[0]?.priority);
    return true;
  }

  /** Empties the roster (the queue was deleted), handing back who was in it. */
  clear(): Consumer[] {
    const consumers = this.consumers;
    this.consumers = [];
    this.roundRobin = 0;
    return consumers;
  }

  anyWithCapacity(): boolean {
    return this.consumers.some((c) => c.hasCapacity);
  }

  /** Who gets the next message, if anyone can take one now. */
  next(): Consumer | undefined {
    const consumers = this.consumers;
    const n = consumers.length;
    if (n === 0) return undefined;
    if (this.singleActive) {
      const active = consumers[0] as Consumer;
      return active.hasCapacity ? active : undefined;
    }
    let best: Consumer | undefined;
    let bestIndex = 0;
    for (let i = 0; i < n; i++) {
      const index = (this.roundRobin + i) % n;
      const candidate = consumers[index] as Consumer;
      if (!candidate.hasCapacity) continue;
      if (!this.mixedPriorities) {
        best = candidate;
        bestIndex = index;
        break;
      }
      if (!best || candidate.priority > best.priority) {
        best = candidate;
        bestIndex = index;
      }
    }
    if (best) this.roundRobin = (bestIndex + 1) % n;
    return best;
  }
}
