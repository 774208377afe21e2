/**
 * A consumer: deliveries for one consumer tag, handed to a callback or buffered for async iteration.
 */
import { invokeSafely } from './emitter.js';
import type { CancelReason } from './frames.js';
import type { ReceivedMessage } from './message.js';

/** What a Consumer calls back into (the connection). */
export interface ConsumerHost {
  cancel(consumerTag: string): Promise<void>;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * With a callback, each delivery is passed to it as it arrives. Without one, the consumer is an
 * AsyncIterable: deliveries are buffered until pulled, and iteration ends once the consumer is cancelled
 * (after the buffered deliveries) or the connection closes (at once: the broker requeues unacked messages).
 * Leaving a `for await` loop early cancels the consumer and requeues the deliveries still buffered.
 */
export class Consumer implements AsyncIterable<ReceivedMessage> {
  readonly consumerTag: string;
  readonly queue: string;
  readonly noAck: boolean;
  readonly #host: ConsumerHost;
  readonly #onMessage: ((message: ReceivedMessage) => void) | undefined;
  #buffer: Array<ReceivedMessage | undefined> = [];
  #head = 0;
  #waiters: Array<(result: IteratorResult<ReceivedMessage, undefined>) => void> = [];
  #ended = false;
  #cancelReason: CancelReason | undefined;

  constructor(
    host: ConsumerHost,
    consumerTag: string,
    queue: string,
    noAck: boolean,
    onMessage?: (message: ReceivedMessage) => void,
  ) {
    this.#host = host;
    this.consumerTag = consumerTag;
    this.queue = queue;
    this.noAck = noAck;
    this.#onMessage = onMessage;
  }

  /** False once cancelled (by either side) or the connection closed. */
  get active(): boolean {
    return !this.#ended;
  }

  /**
   * Why the broker cancelled this consumer, when it said: e.g. `consumer_timeout` (a delivery was not
   * acked in time; its unacked messages went back to the queue). Set before the connection's `cancelled`
   * event fires; undefined while active, after a queue deletion, or after the client's own cancel.
   */
  get cancelReason(): CancelReason | undefined {
    return this.#cancelReason;
  }

  /** Deliveries received but not yet pulled by an iterator. */
  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  /** Stops deliveries to this consumer. Resolves at once if it already ended. */
  cancel(): Promise<void> {
    return this.#ended ? Promise.resolve() : this.#host.cancel(this.consumerTag);
  }

  /** @internal Called by the connection for each `deliver` push. */
  _deliver(message: ReceivedMessage): void {
    if (this.#onMessage) {
      invokeSafely(this.#onMessage, message);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ done: false, value: message });
    else this.#buffer.push(message);
  }

  /** @internal Called by the connection when the consumer is cancelled (`discard` false) or the connection closed. */
  _end(discard: boolean, reason?: CancelReason): void {
    this.#ended = true;
    this.#cancelReason = reason;
    if (discard) {
      this.#buffer = [];
      this.#head = 0;
    }
    // Waiters only exist while the buffer is empty.
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(DONE);
  }

  #next(): Promise<IteratorResult<ReceivedMessage, undefined>> {
    if (this.#head < this.#buffer.length) {
      const message = this.#buffer[this.#head] as ReceivedMessage;
      this.#buffer[this.#head++] = undefined; // let it be collected
      if (this.#head === this.#buffer.length) {
        this.#buffer.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value: message });
    }
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async #return(): Promise<IteratorResult<ReceivedMessage, undefined>> {
    if (!this.#ended) {
      try {
        await this.cancel();
      } catch {
        // the connection closed meanwhile: the broker requeues everything itself
      }
    }
    const rest = this.#buffer.slice(this.#head);
    this.#buffer = [];
    this.#head = 0;
    this.#ended = true;
    if (!this.noAck) {
      try {
        for (const message of rest) message?.reject(true);
      } catch {
        // connection closed: the broker requeues them
      }
    }
    return DONE;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage, undefined> {
    if (this.#onMessage) throw new TypeError('this consumer delivers to a callback; it is not iterable');
    return { next: () => this.#next(), return: () => this.#return() };
  }
}
