import type { Channel } from './channel.js';
import type { Clock } from './clock.js';
import { DelayIndex, type DueItem } from './delay-index.js';
import { preconditionFailed } from './errors.js';
import type { Exchange } from './exchange.js';
import { Message, type Headers, type MessageContent } from './message.js';
import { packContent, unpackContent, type PackedContent } from './packed-content.js';
import type { MessageStore, StoredQueue } from './persistence.js';

/** The longest `x-delay` taken, about a century: a due time must stay a date every edge can print. */
export const MAX_DELAY_MS = 3_155_760_000_000;

/**
 * The `x-delay` header as the RabbitMQ plugin reads it: an integer number of milliseconds. Anything else
 * (missing, zero, negative, a fraction, a string, a table) is no delay: the message is routed at once.
 */
export function delayOf(headers: Headers | undefined): number {
  const value = headers?.['x-delay'];
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * The name under which a durable delayed exchange's scheduled messages sit in the message store, as if an
 * internal queue held them. It starts with a control character, which no queue name may contain
 * (`nameProblem`), so it can never meet a real queue's records.
 */
const HOLDER_PREFIX = '\u0001x-delayed-message\u0001';

export function scheduleHolderName(exchange: string): string {
  return HOLDER_PREFIX + exchange;
}

/** The exchange whose scheduled messages a stored holder name stands for; undefined for a queue's name. */
export function exchangeOfHolder(name: string): string | undefined {
  return name.startsWith(HOLDER_PREFIX) ? name.slice(HOLDER_PREFIX.length) : undefined;
}

/**
 * One scheduled message; also the index's node. The `Message` it was is not kept: a million of them
 * held with their contents as objects made every major GC long enough to make routing late, so the
 * content is packed (see packed-content.ts) and what the store needs is kept beside it.
 */
export class Scheduled implements DueItem {
  constructor(
    /** The message id: publish order, for ties, and the id the management API shows. */
    readonly seq: number,
    /** Milliseconds since the epoch: publish time + `x-delay`. */
    readonly due: number,
    readonly publishedAt: number,
    /** Body length in bytes. */
    readonly size: number,
    readonly packed: PackedContent,
    /** Where the store keeps its record (opaque); undefined when it is not stored. */
    readonly storeRef: unknown,
    /** Where a mandatory message goes back if no queue takes it at its due time (while that connection is open). */
    readonly returnTo: Channel | undefined,
  ) {}

  get content(): MessageContent {
    return unpackContent(this.packed);
  }
}

/** What a publish to a delayed exchange turned into, when the message was held. */
export interface Held {
  readonly id: number;
  readonly due: number;
  /** Written to the message store (persistent, durable exchange): the confirm waits for the disk. */
  readonly stored: boolean;
}

/**
 * The messages one `x-delayed-message` exchange holds until their due time, in a `DelayIndex` (one
 * timer for the whole exchange). A persistent message held by a durable exchange is written to the
 * message store under `holder`, and its record is settled once its routed copy is on disk (see
 * DelayedDelivery), or when it is cancelled; deleting the exchange deletes the holder, and with it every
 * record.
 */
export class ScheduledMessages {
  /** A fresh object per exchange instance: the store tells instances apart by identity. */
  readonly holder: StoredQueue;
  private readonly index: DelayIndex<Scheduled>;

  constructor(
    readonly exchange: Exchange,
    clock: Clock,
    private readonly store: MessageStore | undefined,
    fire: (scheduled: Scheduled) => boolean,
  ) {
    this.holder = { vhost: exchange.vhost, name: scheduleHolderName(exchange.name) };
    this.index = new DelayIndex(clock, fire);
  }

  get count(): number {
    return this.index.size;
  }

  /** The earliest due time, undefined when nothing is scheduled. */
  get nextDue(): number | undefined {
    return this.index.peek()?.due;
  }

  /**
   * Holds `message` if its `x-delay` asks for it (undefined: route it now). `returnTo` is the publishing
   * channel of a mandatory message. `clampDelay`: a delay above the maximum waits the maximum instead of
   * being refused.
   */
  offer(message: Message, returnTo: Channel | null, clampDelay = false): Held | undefined {
    const content = message.content;
    let delay = delayOf(content.properties.headers);
    if (delay === 0) return undefined;
    if (delay > MAX_DELAY_MS) {
      // A dead letter cannot be refused back to anyone: it waits the longest delay instead.
      if (!clampDelay) throw preconditionFailed(`x-delay of ${delay} ms is longer than the maximum of ${MAX_DELAY_MS} ms (about 100 years)`);
      delay = MAX_DELAY_MS;
    }
    const stored = this.stores(message.persistent);
    if (stored) (this.store as MessageStore).add(message, [this.holder]);
    const due = message.publishedAt + delay;
    this.index.add(new Scheduled(message.id, due, message.publishedAt, message.size, packContent(content), stored ? message.storeRef : undefined, returnTo ?? undefined));
    return { id: message.id, due, stored };
  }

  /** A message recovered from the store, its content read back: due again at its publish time + `x-delay`. */
  restore(message: Message): void {
    const content = message.content;
    const due = message.publishedAt + Math.min(delayOf(content.properties.headers), MAX_DELAY_MS);
    this.index.add(new Scheduled(message.id, due, message.publishedAt, message.size, packContent(content), message.storeRef, undefined));
  }

  /** Up to `count` scheduled messages in due order, after the first `offset`. */
  page(offset: number, count: number): Scheduled[] {
    return this.index.page(offset, count);
  }

  /** Cancels one: it will not be routed, and its record is settled. False if no message with that id is scheduled. */
  cancel(id: number): boolean {
    const scheduled = this.index.remove((s) => s.seq === id);
    if (!scheduled) return false;
    this.settle(scheduled);
    return true;
  }

  /** Schedules it again, as it was (its routed copy was refused by the disk). */
  reschedule(scheduled: Scheduled): void {
    this.index.add(scheduled);
  }

  /** Its routed copy is on disk (or it was not stored): its own record may go. */
  settle(scheduled: Scheduled): void {
    if (scheduled.storeRef === undefined || !this.store) return;
    // The store finds the record by `storeRef`; a content-less stand-in carries it.
    const stub = new Message(scheduled.seq, true, scheduled.size, scheduled.publishedAt, undefined);
    stub.storeRef = scheduled.storeRef;
    this.store.remove(stub, this.holder);
  }

  /** The store refused these (a failed write): their publishers were told, so they must never be routed. */
  withdraw(refused: ReadonlySet<Message>): void {
    const ids = new Set<number>();
    for (const message of refused) ids.add(message.id);
    this.index.removeAll((s) => ids.has(s.seq));
  }

  /** The exchange is gone: so are its scheduled messages, on disk too. */
  drop(): void {
    this.index.stop();
    if (this.store && this.exchange.durable) this.store.queueDeleted(this.holder);
  }

  private stores(persistent: boolean): boolean {
    return this.store !== undefined && this.exchange.durable && persistent;
  }
}
