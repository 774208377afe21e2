import type { Binding } from './binding.js';
import type { Exchange } from './exchange.js';
import type { Policy } from './policy.js';
import type { ContentLoader, Message } from './message.js';
import type { Queue } from './queue.js';
import type { VHost } from './vhost.js';

/**
 * Durable message storage as the broker sees it; `src/store` implements it. Only persistent messages
 * in durable queues are handed to it. Every call below is synchronous and only buffers: the store writes
 * and fsyncs in groups, and `DurabilityBarrier` tells when a write is on disk. Reading released contents
 * back (`ContentLoader.load`) is asynchronous: queues read ahead of their head (see `ReadAhead`).
 */
export interface MessageStore extends ContentLoader {
  /** A persistent message was routed to these durable queues (or held by a delayed exchange): record it once, referenced by each. */
  add(message: Message, queues: readonly StoredQueue[]): void;
  /** The message left `queue` for good: acked, rejected, purged, dropped, expired (or fired, or cancelled). */
  remove(message: Message, queue: StoredQueue): void;
  /** First hand-out from `queue`: after a crash the message comes back flagged redelivered. */
  delivered(message: Message, queue: Queue): void;
  /** `queue` got the message back unsettled, `count` times so far: after a restart it still has that count. */
  returned(message: Message, queue: Queue, count: number): void;
  /** The durable queue (or delayed exchange) was deleted: whatever it still referenced is gone. */
  queueDeleted(queue: StoredQueue): void;
  /** From now on, tells `watcher` when the messages it was given are on disk, or were refused. */
  watch(watcher: StoreWatcher): void;
}

/**
 * What holds messages in the store, by name: a durable queue, or the messages a durable delayed exchange
 * has scheduled (see `scheduleHolder`). The store keeps each object's identity: a queue deleted and
 * declared again is a new holder.
 */
export interface StoredQueue {
  readonly vhost: string;
  readonly name: string;
}

/**
 * What the message store tells the broker. Queues hand a stored message out before its record is on
 * disk. If the write fails, a message no queue has handed out yet (`Message.handedOut`) is refused: taken
 * out of its queues, its publish answered with an error. One already handed out is kept and written
 * again with the retry — its publisher was not told it is stored, and must not be told it is not, or it
 * would publish again a message a consumer already has.
 */
export interface StoreWatcher {
  /** Every message given to the store with an id up to `id` is on disk, or was refused. */
  storedThrough(id: number): void;
  /** These messages could not be written and never will be: take them out of every queue (told before `storedThrough`). */
  refused(messages: ReadonlySet<Message>): void;
}

/**
 * Why `DurabilityBarrier.stored()` rejected: a write failed. Only the messages in `refused` were refused;
 * every other message of that write was kept and is written again (see StoreWatcher), so its publish
 * waits for `synced()` instead.
 */
export class WriteFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly refused: ReadonlySet<Message>,
  ) {
    super(`write to disk failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'WriteFailure';
  }
}

/** Lets replies wait until what their request wrote is on disk (publisher confirms, durable declares). */
export interface DurabilityBarrier {
  /** Increases with every write buffered by any store. */
  readonly writes: number;
  /** Resolves once every write buffered so far is on disk. */
  synced(): Promise<void>;
  /**
   * For a publish: resolves once the messages buffered so far are on disk; rejects with a WriteFailure
   * if their write failed, which names the messages refused — taken out of their queues, never
   * delivered. Without it, `synced()` is used.
   */
  stored?(): Promise<void>;
  /**
   * Calls `settled` once every durable queue has settled `message` (acked, rejected, expired, dropped),
   * if that comes before its record is on disk: its publisher can then be confirmed, as RabbitMQ does,
   * since nothing is left to lose. At once if it is settled already; never if it is on disk first.
   */
  onAllSettled?(message: Message, settled: () => void): void;
}

/**
 * One change to a durable definition, told as it happens so it can be appended to the definitions log.
 * Only durable objects are told: a transient exchange or queue, or a binding with a transient end,
 * never reaches the disk. A deletion carries the object as it was.
 */
export type DefinitionChange =
  | { readonly kind: 'vhost'; readonly vhost: VHost; readonly deleted: boolean }
  | { readonly kind: 'exchange'; readonly exchange: Exchange; readonly deleted: boolean }
  | { readonly kind: 'queue'; readonly queue: Queue; readonly deleted: boolean }
  | { readonly kind: 'binding'; readonly binding: Binding; readonly deleted: boolean }
  | { readonly kind: 'policy'; readonly policy: Policy; readonly deleted: boolean }
  | { readonly kind: 'cluster-name'; readonly name: string };

/** Told of every durable definition change, in the order they happen. */
export interface DefinitionsObserver {
  definitionChanged(change: DefinitionChange): void;
}

/** How deep in a durable queue a persistent message must sit before its content may leave memory. */
export const IN_MEMORY_WINDOW = 2048;
