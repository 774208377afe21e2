import type { Exchange } from '../broker/exchange.js';
import type { QueueChurn } from '../broker/queue-churn.js';
import type { BindingRequest, ExchangeDeclaration, QueueDeclaration, QueueDeclareResult } from '../broker/vhost.js';
import type { Caller } from './caller.js';
import type { Done, DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

/** A binding named by its ends, key and arguments: the domain's `BindingRequest`. */
export type BindingSpec = BindingRequest;

export interface QueueDeclared extends QueueDeclareResult {
  /** False when the queue was already there (a redeclare, or passive). */
  readonly created: boolean;
}

/** Declares, deletes, binds and purges: what changes a vhost's exchanges, queues and bindings. */
export class TopologyOperations {
  constructor(
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
    /** Counted here, not in the domain, so that queues recovered at start-up are not counted as declared. */
    private readonly churn: QueueChurn,
  ) {}

  declareExchange(caller: Caller, declaration: Omit<ExchangeDeclaration, 'declaredBy'>): Done<{ exchange: Exchange; created: boolean }> {
    const vhost = caller.vhost;
    const name = declaration.exchange;
    const created = !vhost.exchanges.has(name);
    if (!declaration.passive) {
      this.permissions.check(caller, 'configure', 'exchange', name);
      const alternate = declaration.arguments?.['alternate-exchange'];
      if (created && typeof alternate === 'string') this.permissions.checkAlternateExchange(caller, name, alternate);
    }
    const mark = this.watch.mark;
    const exchange = vhost.declareExchange({ ...declaration, declaredBy: caller.user.name });
    return this.watch.done({ exchange, created: created && !declaration.passive }, mark);
  }

  deleteExchange(caller: Caller, name: string, ifUnused: boolean): Done<void> {
    this.permissions.check(caller, 'configure', 'exchange', name);
    const mark = this.watch.mark;
    caller.vhost.deleteExchange(name, ifUnused);
    return this.watch.done(undefined, mark);
  }

  declareQueue(caller: Caller, declaration: Omit<QueueDeclaration, 'declaredBy'>): Done<QueueDeclared> {
    const vhost = caller.vhost;
    const requested = declaration.queue ?? '';
    const created = requested === '' || !vhost.queues.has(requested);
    if (!declaration.passive) {
      // A server-named queue is checked by its prefix, since its name does not exist yet.
      const name = requested === '' ? 'amq.gen-' : requested;
      this.permissions.check(caller, 'configure', 'queue', name);
      const deadLetterExchange = declaration.arguments?.['x-dead-letter-exchange'];
      if (created && typeof deadLetterExchange === 'string') this.permissions.checkDeadLetterExchange(caller, name, deadLetterExchange);
    }
    const mark = this.watch.mark;
    const result = vhost.declareQueue({ ...declaration, declaredBy: caller.user.name }, caller.channel);
    this.churn.declared++;
    if (created && !declaration.passive) this.churn.created++;
    return this.watch.done({ ...result, created: created && !declaration.passive }, mark);
  }

  /** Answers the number of messages the queue held; a queue that does not exist answers 0, as in RabbitMQ. */
  deleteQueue(caller: Caller, name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Done<number> {
    this.permissions.check(caller, 'configure', 'queue', name);
    const mark = this.watch.mark;
    const messageCount = caller.vhost.deleteQueue(name, options, caller.channel);
    return this.watch.done(messageCount, mark);
  }

  purgeQueue(caller: Caller, name: string): Done<number> {
    this.permissions.check(caller, 'read', 'queue', name);
    const mark = this.watch.mark;
    const purged = caller.vhost.purgeQueue(name, caller.channel);
    return this.watch.done(purged, mark);
  }

  bind(caller: Caller, spec: BindingSpec): Done<void> {
    this.checkBindingEnds(caller, spec);
    const mark = this.watch.mark;
    caller.vhost.bind(spec);
    return this.watch.done(undefined, mark);
  }

  /** Removing a binding that does not exist succeeds, as in RabbitMQ; missing ends are still 404. */
  unbind(caller: Caller, spec: BindingSpec): Done<void> {
    this.checkBindingEnds(caller, spec);
    const mark = this.watch.mark;
    caller.vhost.unbind(spec);
    return this.watch.done(undefined, mark);
  }

  private checkBindingEnds(caller: Caller, spec: BindingSpec): void {
    this.permissions.checkBinding(caller, spec.source, spec.destination, spec.destinationKind);
    this.permissions.checkTopic(caller, 'read', spec.source, spec.routingKey ?? '');
    // Another connection's exclusive queue cannot be bound to (or unbound from).
    if (spec.destinationKind === 'queue' && caller.vhost.queues.has(spec.destination)) caller.vhost.useQueue(spec.destination, caller.channel);
  }
}
