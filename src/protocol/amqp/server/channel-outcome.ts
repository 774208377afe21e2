// What handling one method on a channel produced, for the channel to send in order.
import { BrokerError } from '../../../broker/errors.js';
import type { Done } from '../../../operations/done.js';
import type { AmqpMethod } from '../spec/methods.js';

/** A reply (a method, or frames already encoded) and when it may go: after `durable`, then `after` runs. */
export interface Replied {
  readonly reply?: AmqpMethod | Buffer[] | undefined;
  readonly durable?: Promise<void> | undefined;
  /** Runs once the reply is sent (a consumer starts delivering after its consume-ok). */
  readonly after?: (() => void) | undefined;
}

/** `later`: the reply needs something read first (a basic.get of a paged-out message); replies after it wait. */
export type Outcome = Replied | { readonly later: Promise<Replied> };

/** The operation's outcome with the given reply, or none when the client asked for `nowait`. */
export function replyAfter(done: Done<unknown>, reply: AmqpMethod, noWait = false): Replied {
  return { reply: noWait ? undefined : reply, durable: done.durable };
}

/** Soft errors close the channel; every other code closes the connection (AMQP 0-9-1, section 1.3). */
const CHANNEL_ERRORS: ReadonlySet<number> = new Set([311, 312, 313, 403, 404, 405, 406]);

export function isChannelError(error: BrokerError): boolean {
  return CHANNEL_ERRORS.has(error.code);
}

/** RabbitMQ's reply text: `NOT_FOUND - no queue 'q' in vhost '/'`. */
export function replyTextOf(error: BrokerError): string {
  return `${error.reason} - ${error.message}`;
}

export function asBrokerError(error: unknown): BrokerError | undefined {
  return error instanceof BrokerError ? error : undefined;
}
