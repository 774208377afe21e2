import type { Channel } from './channel.js';
import type { Clock } from './clock.js';
import { DelayIndex } from './delay-index.js';
import { preconditionFailed } from './errors.js';
import type { Exchange } from './exchange.js';
import { Message, type Headers, type MessageContent } from './message.js';
import { ScheduleTable } from './schedule-table.js';
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

/** One scheduled message as shown (listings): read from its row when asked for. */
export interface Scheduled {
  /** The message id: publish order, and the id the management API shows. */
  readonly seq: number;
  /** Milliseconds since the epoch: publish time + `x-delay`. */
  readonly due: number;
  readonly publishedAt: number;
  /** Body length in bytes. */
  readonly size: number;
  readonly content: MessageContent;
  /** Published mandatory over a connection (returned there if unroutable at its due time). */
  readonly mandatory: boolean;
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
  private readonly table = new ScheduleTable();
  private readonly index: DelayIndex<number>;
  private dropped = false;

  constructor(
    readonly exchange: Exchange,
    clock: Clock,
    private readonly store: MessageStore | undefined,
    /** Routes the row's message; false: not now (the index retries). The row stays until `settle` or `reschedule`. */
    fire: (slot: number) => boolean,
  ) {
    this.holder = { vhost: exchange.vhost, name: scheduleHolderName(exchange.name) };
    this.index = new DelayIndex(clock, fire, this.table.order);
  }

  get count(): number {
    return this.index.size;
  }

  /** The earliest due time, undefined when nothing is scheduled. */
  get nextDue(): number | undefined {
    const top = this.index.peek();
    return top === undefined ? undefined : this.table.due(top);
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
    const { id: seq, publishedAt, size } = message;
    this.index.add(this.table.add({ due, seq, publishedAt, size, content, storeRef: stored ? message.storeRef : undefined, returnTo: returnTo ?? undefined }));
    return { id: seq, due, stored };
  }

  /** A message recovered from the store, its content read back: due again at its publish time + `x-delay`. */
  restore(message: Message): void {
    const content = message.content;
    const due = message.publishedAt + Math.min(delayOf(content.properties.headers), MAX_DELAY_MS);
    const { id: seq, publishedAt, size, storeRef } = message;
    this.index.add(this.table.add({ due, seq, publishedAt, size, content, storeRef, returnTo: undefined }));
  }

  /** Up to `count` scheduled messages in due order, after the first `offset`. */
  page(offset: number, count: number): Scheduled[] {
    return this.index.page(offset, count).map((slot) => this.view(slot));
  }

  /** Cancels one: it will not be routed, and its record is settled. False if no message with that id is scheduled. */
  cancel(id: number): boolean {
    const slot = this.index.remove((s) => this.table.seq(s) === id);
    if (slot === undefined) return false;
    this.settle(slot);
    return true;
  }

  /** What a fired row holds, for routing it. */
  content(slot: number): MessageContent {
    return this.table.content(slot);
  }

  returnChannel(slot: number): Channel | undefined {
    return this.table.returnChannel(slot);
  }

  /** The id of the message a row holds (its routed copy gets a new one). */
  messageId(slot: number): number {
    return this.table.seq(slot);
  }

  /** Schedules a fired row again, as it was (its routed copy was refused by the disk). */
  reschedule(slot: number): void {
    if (!this.dropped) this.index.add(slot);
  }

  /** A fired or cancelled row is done: its record in the store is settled (once its routed copy is on disk), and the row freed. */
  settle(slot: number): void {
    // A copy stored after the exchange went: its QueueDeleted record covers the row's record already.
    if (this.dropped) return;
    const storeRef = this.table.storeRef(slot);
    if (storeRef !== undefined && this.store) {
      // The store finds the record by `storeRef`; a content-less stand-in carries it.
      const stub = new Message(this.table.seq(slot), true, this.table.size(slot), this.table.publishedAt(slot), undefined);
      stub.storeRef = storeRef;
      this.store.remove(stub, this.holder);
    }
    this.table.release(slot);
  }

  /** The store refused these (a failed write): their publishers were told, so they must never be routed. */
  withdraw(refused: ReadonlySet<Message>): void {
    const ids = new Set<number>();
    for (const message of refused) ids.add(message.id);
    for (const slot of this.index.removeAll((s) => ids.has(this.table.seq(s)))) this.table.release(slot);
  }

  /** The exchange is gone: so are its scheduled messages, on disk too. */
  drop(): void {
    this.dropped = true;
    this.index.stop();
    this.table.clear();
    if (this.store && this.exchange.durable) this.store.queueDeleted(this.holder);
  }

  private view(slot: number): Scheduled {
    const table = this.table;
    return {
      seq: table.seq(slot),
      due: table.due(slot),
      publishedAt: table.publishedAt(slot),
      size: table.size(slot),
      content: table.content(slot),
      mandatory: table.returnChannel(slot) !== undefined,
    };
  }

  private stores(persistent: boolean): boolean {
    return this.store !== undefined && this.exchange.durable && persistent;
  }
}
