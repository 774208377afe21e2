import { argumentsEqual, bindingId, type Binding, type BindingDestination } from './binding.js';
import type { BindingRequest, ExchangeDeclaration, PublishRequest, PublishResult, QueueDeclaration, QueueDeclareResult } from './declarations.js';
import type { Channel, ConnectionIdentity } from './channel.js';
import type { Clock } from './clock.js';
import { accessRefused, BrokerError, notFound, preconditionFailed, resourceLocked } from './errors.js';
import { Exchange } from './exchange.js';
import { findExchangeType } from './exchange-types/registry.js';
import { DeadLetterer } from './dead-letterer.js';
import { DelayedDelivery } from './delayed-delivery.js';
import { DELAYED_EXCHANGE_TYPE } from './exchange-types/delayed-exchange.js';
import { contentSize, isPersistent, Message } from './message.js';
import { nameProblem, serverName } from './names.js';
import { Policy, type PolicyKind, type PolicySpec } from './policy.js';
import { PolicyBook } from './policy-book.js';
import { validateQueueArguments } from './queue-arguments.js';
import { Queue, QueueEntry } from './queue.js';
import { startExpiry } from './queue-expiry.js';
import { senderSelectedKeys, withoutBcc } from './sender-selected.js';
import { inequivalentArg } from './inequivalent.js';
import { routeMessage } from './router.js';
import type { ChannelTally } from './channel-tally.js';
import type { VHostContext, VHostMetadata } from './vhost-context.js';
import { checkQueueLimit, type VHostLimits } from './vhost-limits.js';
import { UNKNOWN_ORIGIN, type TraceOrigin } from './trace-event.js';
import { Tracer } from './tracer.js';

export type {
  BindingRequest,
  ExchangeDeclaration,
  PublishRequest,
  PublishResult,
  QueueDeclaration,
  QueueDeclareResult,
} from './declarations.js';

export type { VHostContext, VHostMetadata } from './vhost-context.js';

const PREDECLARED: ReadonlyArray<readonly [string, string, boolean]> = [
  ['', 'direct', false],
  ['amq.direct', 'direct', false],
  ['amq.fanout', 'fanout', false],
  ['amq.topic', 'topic', false],
  ['amq.headers', 'headers', false],
  ['amq.match', 'headers', false],
  ['amq.rabbitmq.trace', 'topic', true],
];

const DEFAULT_EXCHANGE_REFUSED = 'operation not permitted on the default exchange';

/**
 * A virtual host: its exchanges, queues and bindings. Every change to them — from the wire, the REST API,
 * a definitions import or recovery — goes through these methods, so the rules live in one place.
 * `channel` is the connection asking (exclusive queues are checked against it); null means the broker
 * itself or the management API.
 */
export class VHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  private readonly exclusiveQueues = new Map<ConnectionIdentity, Set<Queue>>();
  /** The broker tells it when the copies it handed to the store are on disk or refused, and when the disk alarm clears. */
  readonly deadLetterer: DeadLetterer;
  /** Routes what delayed exchanges held when it falls due; the broker tells it of stored and refused copies. */
  readonly delayed: DelayedDelivery;
  /** Its policies and operator policies; each queue and exchange knows which apply to it. */
  readonly policies = new PolicyBook();
  /** Tells the firehose and live watchers what happens to its messages (tracer.ts). */
  readonly tracer: Tracer;
  private meta: VHostMetadata;
  private currentLimits: VHostLimits = {};

  /** The broker's channels by protocol: a channel of this vhost joins it when it opens. */
  get channelTally(): ChannelTally {
    return this.context.channelTally;
  }

  constructor(
    readonly name: string,
    private readonly context: VHostContext,
  ) {
    this.deadLetterer = new DeadLetterer(this, context);
    this.delayed = new DelayedDelivery(this, context);
    this.tracer = new Tracer(this, context);
    this.meta = {
      description: name === '/' ? 'Default virtual host' : '',
      tags: [],
      defaultQueueType: 'classic',
      tracing: false,
    };
    for (const [exchange, type, internal] of PREDECLARED) {
      this.createExchange({ exchange, type, durable: true, autoDelete: false, internal, arguments: {}, declaredBy: 'rmq-internal' });
    }
  }

  /** The broker's, for the channels and consumers working in this vhost. */
  get clock(): Clock {
    return this.context.clock;
  }

  get consumerTimeout(): number {
    return this.context.consumerTimeout;
  }

  get metadata(): VHostMetadata {
    return this.meta;
  }

  /** Returns whether anything changed; a change is durable. */
  updateMetadata(changes: Partial<VHostMetadata>): boolean {
    const next: VHostMetadata = { ...this.meta, ...changes };
    const same =
      next.description === this.meta.description &&
      next.defaultQueueType === this.meta.defaultQueueType &&
      next.tracing === this.meta.tracing &&
      next.tags.length === this.meta.tags.length &&
      next.tags.every((tag, i) => tag === this.meta.tags[i]);
    if (same) return false;
    if (this.context.writeAlarm) throw this.context.writeRefusal('vhost changes');
    this.meta = { ...next, tags: [...next.tags] };
    this.tracer.firehoseOn = this.meta.tracing;
    this.context.definitionChanged({ kind: 'vhost', vhost: this, deleted: false });
    return true;
  }

  /**
   * Sets a policy or operator policy, and applies it at once to every queue and exchange it now decides
   * for. Returns whether it is new; setting one to what it already is changes nothing.
   */
  putPolicy(kind: PolicyKind, name: string, spec: PolicySpec): { created: boolean } {
    const badName = nameProblem('policy', name);
    if (badName) throw preconditionFailed(badName);
    const existing = this.policies.get(kind, name);
    if (existing?.sameAs(spec)) return { created: false };
    if (this.context.writeAlarm) throw this.context.writeRefusal('policy changes');
    const policy = new Policy(kind, this.name, name, spec);
    this.policies.put(policy);
    this.context.definitionChanged({ kind: 'policy', policy, deleted: false });
    this.reapplyPolicies();
    return { created: existing === undefined };
  }

  /** False when there was no such policy. What it decided for falls to the next matching one, or none. */
  deletePolicy(kind: PolicyKind, name: string): boolean {
    const policy = this.policies.delete(kind, name);
    if (!policy) return false;
    this.context.definitionChanged({ kind: 'policy', policy, deleted: true });
    this.reapplyPolicies();
    return true;
  }

  /** `max-connections` and `max-queues`; see vhost-limits.ts. */
  get limits(): VHostLimits {
    return this.currentLimits;
  }

  /** Replaces the limits (already validated); a change is durable. Lowering one removes nothing. */
  updateLimits(limits: VHostLimits): void {
    if (this.context.writeAlarm) throw this.context.writeRefusal('vhost changes');
    this.currentLimits = { ...limits };
    this.context.definitionChanged({ kind: 'vhost', vhost: this, deleted: false });
  }

  declareExchange(declaration: ExchangeDeclaration): Exchange {
    const name = declaration.exchange;
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const existing = this.exchanges.get(name);
    if (declaration.passive) {
      if (!existing) throw notFound(`no exchange '${name}' in vhost '${this.name}'`);
      return existing;
    }
    const type = declaration.type ?? '';
    const exchangeType = findExchangeType(type);
    if (!exchangeType) throw new BrokerError('COMMAND_INVALID', `unknown exchange type '${type}'`);
    const wanted = {
      type,
      durable: declaration.durable ?? false,
      autoDelete: declaration.autoDelete ?? false,
      internal: declaration.internal ?? false,
      arguments: declaration.arguments ?? {},
    };
    if (existing) {
      for (const field of ['type', 'durable', 'autoDelete', 'internal'] as const) {
        if (existing[field] !== wanted[field]) throw this.inequivalent(field, 'exchange', name, wanted[field], existing[field]);
      }
      this.checkArguments('exchange', name, existing.arguments, wanted.arguments);
      return existing;
    }
    if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
    const badName = nameProblem('exchange', name);
    if (badName) throw preconditionFailed(badName);
    const ae = wanted.arguments['alternate-exchange'];
    if (ae !== undefined && typeof ae !== 'string') {
      throw preconditionFailed(`invalid arg 'alternate-exchange' for exchange '${name}': expected a string`);
    }
    const badArguments = exchangeType.validateArguments?.(wanted.arguments, name, this.name);
    if (badArguments) throw badArguments;
    if (wanted.durable && this.context.writeAlarm) throw this.context.writeRefusal('new durable exchanges');
    const exchange = this.createExchange({ exchange: name, ...wanted, declaredBy: declaration.declaredBy ?? '' });
    if (exchange.durable) this.context.definitionChanged({ kind: 'exchange', exchange, deleted: false });
    return exchange;
  }

  deleteExchange(name: string, ifUnused = false): void {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    if (name.startsWith('amq.')) throw accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    const exchange = this.exchanges.get(name);
    if (!exchange) return;
    if (ifUnused && exchange.outbound.size > 0) throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    this.removeExchange(exchange);
  }

  bind(request: BindingRequest): void {
    const { source, destination } = this.bindingEnds(request);
    const args = request.arguments ?? {};
    if (destination.kind === 'exchange' && destination.exchange.scheduled) {
      throw preconditionFailed(`binding to x-delayed-message exchange '${destination.exchange.name}' is not supported: publish to it, or name it as a dead-letter exchange`);
    }
    const invalid = findExchangeType(source.type)?.validateBinding(args, source.arguments);
    if (invalid) throw invalid;
    const routingKey = request.routingKey ?? '';
    const binding: Binding = { source, destination, routingKey, arguments: args, id: bindingId(destination, routingKey, args) };
    if (this.context.writeAlarm && isDurableBinding(binding) && !source.outbound.has(binding.id)) throw this.context.writeRefusal('new durable bindings');
    if (!source.addBinding(binding)) return;
    inboundOf(destination).add(binding);
    if (isDurableBinding(binding)) this.context.definitionChanged({ kind: 'binding', binding, deleted: false });
  }

  /** Removing a binding that does not exist succeeds, as in RabbitMQ; missing ends are still 404. */
  unbind(request: BindingRequest): void {
    const { source, destination } = this.bindingEnds(request);
    const id = bindingId(destination, request.routingKey ?? '', request.arguments ?? {});
    const binding = source.outbound.get(id);
    if (binding) this.removeBinding(binding);
  }

  declareQueue(declaration: QueueDeclaration, channel: Channel | null): QueueDeclareResult {
    const requested = declaration.queue ?? '';
    const existing = requested === '' ? undefined : this.queues.get(requested);
    if (declaration.passive) {
      if (!existing) throw notFound(`no queue '${requested}' in vhost '${this.name}'`);
      this.checkExclusiveAccess(existing, channel?.connection ?? null);
      existing.expiry?.used();
      return this.declareResult(existing);
    }
    const wanted = {
      durable: declaration.durable ?? false,
      exclusive: declaration.exclusive ?? false,
      autoDelete: declaration.autoDelete ?? false,
      arguments: declaration.arguments ?? {},
    };
    if (existing) {
      this.checkExclusiveAccess(existing, channel?.connection ?? null);
      for (const field of ['durable', 'exclusive', 'autoDelete'] as const) {
        if (existing[field] !== wanted[field]) throw this.inequivalent(field, 'queue', requested, wanted[field], existing[field]);
      }
      this.checkArguments('queue', requested, existing.arguments, wanted.arguments);
      existing.expiry?.used();
      return this.declareResult(existing);
    }
    if (requested.startsWith('amq.')) throw accessRefused(`queue name '${requested}' contains reserved prefix 'amq.*'`);
    const badName = nameProblem('queue', requested);
    if (badName) throw preconditionFailed(badName);
    const name = requested === '' ? this.freshQueueName() : requested;
    const invalid = validateQueueArguments(wanted.arguments, name, this.name);
    if (invalid) throw invalid;
    checkQueueLimit(this.currentLimits, this.name, name, this.queues.size);
    if (wanted.durable && !wanted.exclusive && this.context.writeAlarm) throw this.context.writeRefusal('new durable queues');
    const owner = wanted.exclusive ? (channel?.connection ?? null) : null;
    const properties = { ...wanted, declaredBy: declaration.declaredBy ?? '' };
    const { policy, operator, limits } = this.policies.forQueue(name, wanted.arguments);
    const queue = new Queue(this.name, name, properties, limits, owner, this.context.queueObserver);
    queue.policy = policy;
    queue.operatorPolicy = operator;
    this.queues.set(name, queue);
    if (limits.deadLetter) queue.deadLetters = this.deadLetterer;
    queue.tracer = this.tracer;
    this.startQueueExpiry(queue);
    if (isDurableQueue(queue)) this.context.definitionChanged({ kind: 'queue', queue, deleted: false });
    if (owner) {
      const owned = this.exclusiveQueues.get(owner) ?? new Set<Queue>();
      owned.add(queue);
      this.exclusiveQueues.set(owner, owned);
    }
    return this.declareResult(queue);
  }

  /** Deleting a queue that does not exist succeeds with a count of 0, as in RabbitMQ 3.x. */
  deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}, channel: Channel | null = null): number {
    return this.deleteQueueAs(name, options, channel?.connection ?? null);
  }

  private deleteQueueAs(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean }, connection: ConnectionIdentity | null): number {
    const queue = this.queues.get(name);
    if (!queue) return 0;
    this.checkExclusiveAccess(queue, connection);
    if (options.ifUnused && queue.consumerCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.name}' in use`);
    if (options.ifEmpty && queue.messageCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.name}' not empty`);
    this.queues.delete(name);
    this.context.queueChurn.deleted++;
    queue.expiry?.stop();
    if (queue.owner) this.exclusiveQueues.get(queue.owner)?.delete(queue);
    for (const binding of [...queue.inbound]) this.removeBinding(binding);
    const { consumers, messageCount } = queue.markDeleted();
    for (const consumer of consumers) consumer.channel.consumerCancelledByBroker(consumer);
    if (queue.storesMessages) this.context.messageStore?.queueDeleted(queue);
    if (isDurableQueue(queue)) this.context.definitionChanged({ kind: 'queue', queue, deleted: true });
    return messageCount;
  }

  purgeQueue(name: string, channel: Channel | null): number {
    return this.useQueue(name, channel).purge();
  }

  /** A queue the caller may consume from, get from or purge: 404 if missing, 405 if exclusive to another. */
  useQueue(name: string, channel: Channel | null): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
    this.checkExclusiveAccess(queue, channel?.connection ?? null);
    return queue;
  }

  /** Exclusive queues die with the connection that declared them. */
  deleteExclusiveQueues(owner: ConnectionIdentity): void {
    const owned = this.exclusiveQueues.get(owner);
    if (!owned) return;
    this.exclusiveQueues.delete(owner);
    for (const queue of owned) this.deleteQueueAs(queue.name, {}, owner);
  }

  /**
   * `returnTo`: the publishing channel of a `mandatory` publish, for a delayed message that turns out
   * unroutable at its due time; null otherwise. `origin`: who published, for tracing.
   */
  publish(published: PublishRequest, returnTo: Channel | null = null, origin: TraceOrigin = UNKNOWN_ORIGIN): PublishResult {
    const senderSelected = senderSelectedKeys(published.properties.headers);
    const request = senderSelected ? withoutBcc(published) : published;
    const exchange = this.exchanges.get(request.exchange);
    if (!exchange) throw notFound(`no exchange '${request.exchange}' in vhost '${this.name}'`);
    if (exchange.internal) throw accessRefused(`cannot publish to internal exchange '${request.exchange}' in vhost '${this.name}'`);
    const size = contentSize(request);
    if (size > this.context.maxBodySize) {
      throw new BrokerError(
        'CONTENT_TOO_LARGE',
        `message body of ${size} bytes exceeds the maximum of ${this.context.maxBodySize}`,
      );
    }
    if (this.context.writeAlarm && isPersistent(request.properties)) throw this.context.writeRefusal('persistent messages');
    // A delayed exchange's due times count from the broker's clock (a test brings a fake one), and after a restart from `publishedAt`.
    const message = Message.create(this.context.nextMessageId(), request, exchange.scheduled ? this.context.clock.now() : Date.now());
    // A delayed exchange holds a message with an `x-delay`, to route it at its due time (DelayedDelivery).
    const held = exchange.scheduled?.offer(message, returnTo);
    const routed = held ? [] : routeMessage(this, exchange, { routingKey: request.routingKey, headers: request.properties.headers }, senderSelected);
    exchange.stats.publish++;
    this.context.stats.publish++;
    if (routed.length > 0) exchange.stats.publishOut++;
    if (this.tracer.active) this.tracer.published(message, senderSelected, routed, origin, held !== undefined);
    if (held) return { message, queues: [], rejectedBy: [], stored: held.stored, scheduled: held };
    return { message, ...this.enqueueRouted(message, routed) };
  }

  /**
   * Hands a routed message to its queues — a publish, or a dead-lettered copy. A persistent one is given
   * to the store once for all its durable queues first, before any of them can hand it out and settle it.
   * A full `reject-publish-dlx` queue refuses it and dead-letters it (`maxlen`).
   */
  enqueueRouted(message: Message, routed: readonly Queue[]): Omit<PublishResult, 'message'> {
    const store = this.context.messageStore;
    let stored = false;
    if (store && message.persistent) {
      // Usually every queue stores messages: no filtered copy of the list then.
      const durable = routed.every((queue) => queue.storesMessages) ? routed : routed.filter((queue) => queue.storesMessages);
      if (durable.length > 0) {
        store.add(message, durable);
        stored = true;
      }
    }
    const queues: Queue[] = [];
    const rejectedBy: Queue[] = [];
    for (const queue of routed) {
      if (queue.enqueue(message) !== 'rejected') queues.push(queue);
      else {
        rejectedBy.push(queue);
        if (queue.limits.overflow === 'reject-publish-dlx' && queue.deadLetters) queue.deadLetters.deadLetter(queue, new QueueEntry(message, false), 'maxlen');
        else if (store && message.persistent && queue.storesMessages) store.remove(message, queue);
      }
    }
    return { queues, rejectedBy, stored };
  }

  /** Every binding in the vhost, as a list (the default exchange's implicit ones are not included). */
  bindings(): Binding[] {
    const all: Binding[] = [];
    for (const exchange of this.exchanges.values()) for (const binding of exchange.outbound.values()) all.push(binding);
    return all;
  }

  private createExchange(declaration: Required<Omit<ExchangeDeclaration, 'passive'>>): Exchange {
    const type = findExchangeType(declaration.type);
    if (!type) throw new BrokerError('COMMAND_INVALID', `unknown exchange type '${declaration.type}'`);
    const exchange = new Exchange(this.name, declaration.exchange, type, declaration);
    if (type.name === DELAYED_EXCHANGE_TYPE) this.delayed.attach(exchange);
    this.policies.applyTo(exchange);
    this.exchanges.set(exchange.name, exchange);
    return exchange;
  }

  /** After a policy change: each queue and exchange takes whatever policies now decide for it. */
  private reapplyPolicies(): void {
    for (const exchange of this.exchanges.values()) this.policies.applyTo(exchange);
    for (const queue of this.queues.values()) {
      const { policy, operator, limits } = this.policies.forQueue(queue.name, queue.arguments);
      // A replaced policy is a new object, so an edit of the one that applies counts as a change.
      if (policy === queue.policy && operator === queue.operatorPolicy) continue;
      queue.policy = policy;
      queue.operatorPolicy = operator;
      const periodBefore = queue.limits.expiresMs;
      // The dead-letter exchange first: messages a lower length limit drops go to the new one.
      queue.deadLetters = limits.deadLetter ? this.deadLetterer : undefined;
      queue.changeLimits(limits);
      // RabbitMQ restarts the countdown when the period changes.
      if (periodBefore !== limits.expiresMs) {
        queue.expiry?.stop();
        this.startQueueExpiry(queue);
      }
    }
  }

  /** Not dead-lettered when it expires, as in RabbitMQ: its messages go with it, through the one delete path. */
  private startQueueExpiry(queue: Queue): void {
    queue.expiry = startExpiry(queue, this.context.clock, () => this.deleteQueueAs(queue.name, {}, queue.owner));
  }

  private removeExchange(exchange: Exchange): void {
    this.exchanges.delete(exchange.name);
    exchange.scheduled?.drop();
    if (exchange.durable) this.context.definitionChanged({ kind: 'exchange', exchange, deleted: true });
    for (const binding of [...exchange.outbound.values()]) this.removeBinding(binding, false);
    for (const binding of [...exchange.inbound]) this.removeBinding(binding);
  }

  private removeBinding(binding: Binding, autoDeleteSource = true): void {
    binding.source.removeBinding(binding);
    inboundOf(binding.destination).delete(binding);
    if (isDurableBinding(binding)) this.context.definitionChanged({ kind: 'binding', binding, deleted: true });
    if (autoDeleteSource && binding.source.shouldAutoDelete && this.exchanges.get(binding.source.name) === binding.source) {
      this.removeExchange(binding.source);
    }
  }

  private bindingEnds(request: BindingRequest): { source: Exchange; destination: BindingDestination } {
    if (request.source === '' || (request.destinationKind === 'exchange' && request.destination === '')) {
      throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    }
    const source = this.exchanges.get(request.source);
    if (!source) throw notFound(`no exchange '${request.source}' in vhost '${this.name}'`);
    if (request.destinationKind === 'queue') {
      const queue = this.queues.get(request.destination);
      if (!queue) throw notFound(`no queue '${request.destination}' in vhost '${this.name}'`);
      return { source, destination: { kind: 'queue', queue } };
    }
    const exchange = this.exchanges.get(request.destination);
    if (!exchange) throw notFound(`no exchange '${request.destination}' in vhost '${this.name}'`);
    return { source, destination: { kind: 'exchange', exchange } };
  }

  private checkExclusiveAccess(queue: Queue, connection: ConnectionIdentity | null): void {
    if (queue.exclusive && queue.owner !== connection) {
      throw resourceLocked(
        `cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${this.name}'. ` +
          'It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.',
      );
    }
  }

  private declareResult(queue: Queue): QueueDeclareResult {
    return { queue: queue.name, messageCount: queue.messageCount, consumerCount: queue.consumerCount };
  }

  private freshQueueName(): string {
    let name: string;
    do name = serverName('amq.gen-');
    while (this.queues.has(name));
    return name;
  }

  /** A redeclare's arguments against the existing ones, key by key: the first that differs is named. */
  private checkArguments(kind: string, name: string, existing: Readonly<Record<string, unknown>>, wanted: Readonly<Record<string, unknown>>): void {
    for (const key of new Set([...Object.keys(existing), ...Object.keys(wanted)])) {
      if (!argumentsEqual({ v: existing[key] }, { v: wanted[key] })) throw this.inequivalent(key, kind, name, wanted[key], existing[key]);
    }
  }

  private inequivalent(field: string, kind: string, name: string, received: unknown, current: unknown): BrokerError {
    return inequivalentArg(field, `${kind} '${name}' in vhost '${this.name}'`, received, current);
  }
}

/** Exclusive queues die with their connection, so they are never written out, whatever `durable` says. */
function isDurableQueue(queue: Queue): boolean {
  return queue.storesMessages;
}

/** As in RabbitMQ, a binding is durable when both its ends are. */
export function isDurableBinding(binding: Binding): boolean {
  const destination = binding.destination;
  return (
    binding.source.durable &&
    (destination.kind === 'queue' ? isDurableQueue(destination.queue) : destination.exchange.durable)
  );
}

function inboundOf(destination: BindingDestination): Set<Binding> {
  return destination.kind === 'queue' ? destination.queue.inbound : destination.exchange.inbound;
}
