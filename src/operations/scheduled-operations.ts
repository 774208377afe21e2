import { BrokerError, notFound } from '../broker/errors.js';
import type { ScheduledMessages, Scheduled } from '../broker/scheduled-messages.js';
import type { Caller } from './caller.js';
import type { Done, DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

export interface ScheduledPage {
  /** Scheduled messages in all. */
  readonly total: number;
  /** In due order, from `offset`. */
  readonly items: readonly Scheduled[];
}

/**
 * What a delayed exchange holds (a Warren extension): listing needs read on the exchange (it shows
 * messages, as reading a queue does, and read on an exchange is what a binding from it needs); cancelling
 * needs configure on it (it destroys messages others published, which only deleting the exchange, a
 * configure operation, could do before).
 */
export class ScheduledOperations {
  constructor(
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  list(caller: Caller, exchange: string, offset: number, count: number): ScheduledPage {
    this.permissions.check(caller, 'read', 'exchange', exchange);
    const scheduled = scheduledOf(caller, exchange);
    return { total: scheduled.count, items: scheduled.page(offset, count) };
  }

  /** Durable: its `durable` resolves once the settlement of its stored record is on disk. */
  cancel(caller: Caller, exchange: string, id: number): Done<void> {
    this.permissions.check(caller, 'configure', 'exchange', exchange);
    const scheduled = scheduledOf(caller, exchange);
    const mark = this.watch.mark;
    if (!scheduled.cancel(id)) throw notFound(`no scheduled message ${id} in exchange '${exchange}' in vhost '${caller.vhost.name}'`);
    return this.watch.done(undefined, mark);
  }
}

function scheduledOf(caller: Caller, name: string): ScheduledMessages {
  const exchange = caller.vhost.exchanges.get(name);
  if (!exchange) throw notFound(`no exchange '${name}' in vhost '${caller.vhost.name}'`);
  if (!exchange.scheduled) {
    throw new BrokerError('PRECONDITION_FAILED', `exchange '${name}' in vhost '${caller.vhost.name}' is of type '${exchange.type}', not x-delayed-message: it schedules nothing`);
  }
  return exchange.scheduled;
}
