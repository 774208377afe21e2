import type { BindingArguments } from './binding.js';
import type { Message, MessageContent } from './message.js';
import type { Queue } from './queue.js';
import type { Held } from './scheduled-messages.js';

/** What callers ask a vhost for: declarations, bindings and publishes, and what the vhost answers. */
export interface ExchangeDeclaration {
  readonly exchange: string;
  readonly type?: string | undefined;
  readonly durable?: boolean | undefined;
  readonly autoDelete?: boolean | undefined;
  readonly internal?: boolean | undefined;
  readonly passive?: boolean | undefined;
  readonly arguments?: BindingArguments | undefined;
  /** Who declared it, shown as `user_who_performed_action`. */
  readonly declaredBy?: string | undefined;
}

export interface QueueDeclaration {
  readonly queue?: string | undefined;
  readonly durable?: boolean | undefined;
  readonly exclusive?: boolean | undefined;
  readonly autoDelete?: boolean | undefined;
  readonly passive?: boolean | undefined;
  readonly arguments?: BindingArguments | undefined;
  /** Who declared it, shown as `user_who_performed_action`. */
  readonly declaredBy?: string | undefined;
}

export interface BindingRequest {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly routingKey?: string | undefined;
  readonly arguments?: BindingArguments | undefined;
}

/** What is published is the message's content, as it will be delivered. */
export type PublishRequest = MessageContent;

export interface PublishResult {
  readonly message: Message;
  /** Queues that took the message. */
  readonly queues: Queue[];
  /** Queues that refused it (full, with `x-overflow: reject-publish`): a publisher confirm becomes a nack. */
  readonly rejectedBy: Queue[];
  /** Given to the message store: if its write fails, it is taken back out of its queues and the publisher told. */
  readonly stored: boolean;
  /** Held by a delayed exchange (`x-delay`), to be routed at `due`; `queues` is then empty. */
  readonly scheduled?: Held | undefined;
}

export interface QueueDeclareResult {
  readonly queue: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}
