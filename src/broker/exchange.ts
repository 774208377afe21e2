import type { Binding, BindingArguments, RoutingInput } from './binding.js';
import type { BindingIndex, ExchangeType } from './exchange-types/exchange-type.js';
import { effectiveAlternateExchange } from './effective-policy.js';
import { MessageStats } from './message-stats.js';
import type { Policy } from './policy.js';
import type { ScheduledMessages } from './scheduled-messages.js';

export interface ExchangeProperties {
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: BindingArguments;
  /** Who declared it (`user_who_performed_action`); `rmq-internal` for the predeclared ones. */
  readonly declaredBy: string;
}

export class Exchange implements ExchangeProperties {
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: BindingArguments;
  readonly declaredBy: string;
  /** Bindings this exchange is the source of, by binding id. */
  readonly outbound = new Map<string, Binding>();
  /** Bindings this exchange is the destination of (exchange-to-exchange), for clean-up on delete. */
  readonly inbound = new Set<Binding>();
  /** `publish` = messages published to it (publish_in); `publishOut` = those it routed somewhere. */
  readonly stats = new MessageStats();
  /** The policy that applies to it (the vhost sets it as policies change); operator policies have no exchange keys. */
  policy: Policy | undefined;
  operatorPolicy: Policy | undefined;
  /** An `x-delayed-message` exchange's held messages (set by its vhost); undefined for every other type. */
  scheduled: ScheduledMessages | undefined;
  private readonly index: BindingIndex;
  private hadBinding = false;

  constructor(
    readonly vhost: string,
    readonly name: string,
    exchangeType: ExchangeType,
    properties: Omit<ExchangeProperties, 'type'>,
  ) {
    this.type = exchangeType.name;
    this.durable = properties.durable;
    this.autoDelete = properties.autoDelete;
    this.internal = properties.internal;
    this.arguments = properties.arguments;
    this.declaredBy = properties.declaredBy;
    this.index = exchangeType.createIndex(properties.arguments);
  }

  /** The default exchange `""`: every queue is implicitly bound to it by its own name. */
  get isDefault(): boolean {
    return this.name === '';
  }

  /** Its `alternate-exchange` argument, else its policy's. */
  get alternateExchange(): string | undefined {
    return effectiveAlternateExchange(this.arguments, this.policy);
  }

  /** Returns false when an identical binding already exists. */
  addBinding(binding: Binding): boolean {
    if (this.outbound.has(binding.id)) return false;
    this.outbound.set(binding.id, binding);
    this.index.add(binding);
    this.hadBinding = true;
    return true;
  }

  removeBinding(binding: Binding): boolean {
    if (!this.outbound.delete(binding.id)) return false;
    this.index.remove(binding);
    return true;
  }

  /** An auto-delete exchange goes once it has had a binding and has none left. */
  get shouldAutoDelete(): boolean {
    return this.autoDelete && this.hadBinding && this.outbound.size === 0;
  }

  route(message: RoutingInput, out: Binding[]): void {
    this.index.route(message, out);
  }
}
