import type { Done } from '../../operations/done.js';

/** The fields an `ok` reply carries besides `op` and `id`. */
export type Reply = Record<string, unknown>;

/**
 * A handler's reply (if any), and when it may be sent: after `durable` resolves, if set. `later` is a
 * reply that waits for something to be read first; the replies after it wait their turn.
 */
export type HandlerResult = Done<Reply | void> | { readonly later: Promise<Done<Reply | void>> };

/** The operation's outcome with an `ok` that carries no fields. */
export function nothing(done: Done<unknown>): HandlerResult {
  return { value: undefined, durable: done.durable };
}
