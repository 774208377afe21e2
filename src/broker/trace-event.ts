/**
 * What tracing reports: one event per step of a message's path through a vhost. Events are plain data
 * with the domain's own objects in them (the message, its content while in memory); whoever listens
 * formats them (the firehose into AMQP headers, the management API into JSON lines).
 */
import type { DeathReason } from './dead-letter.js';
import type { Message, MessageContent } from './message.js';

/** The protocol a connection speaks, as the trace stream names it; `http` is the management API. */
export type TraceProtocol = 'amqp091' | 'websocket' | 'http';

/**
 * Who acted: the client connection's name, the channel number, the user and the protocol. A channel is
 * told its own by the protocol adapter that opens it; the management API has no connection or channel.
 */
export interface TraceOrigin {
  readonly connection: string | null;
  /** The name the client gave its connection (`connection_name`), if it gave one. */
  readonly connectionName: string | null;
  readonly channel: number | null;
  readonly user: string | null;
  readonly protocol: TraceProtocol | null;
}

export const UNKNOWN_ORIGIN: TraceOrigin = { connection: null, connectionName: null, channel: null, user: null, protocol: null };

export const TraceEventKinds = [
  'published',
  'routed',
  'unroutable',
  'returned',
  'delivered',
  'acked',
  'nacked',
  'rejected',
  'dead-lettered',
  'expired',
] as const;
export type TraceEventKind = (typeof TraceEventKinds)[number];

interface EventBase {
  /** Milliseconds since the epoch, from the broker's clock. */
  readonly at: number;
  /** Stable across the message's events: a dead-lettered copy gets its own, and `fromTraceId` the original's. */
  readonly traceId: string;
  readonly message: Message;
  /**
   * What was published, as delivered: the routing keys include CC and BCC ones (RabbitMQ's
   * `routing_keys`). Undefined when the message's content is not in memory (an ack of a message paged
   * out of a long queue): listeners fall back on what they kept from its publish.
   */
  readonly content: MessageContent | undefined;
  readonly routingKeys: readonly string[];
  readonly origin: TraceOrigin;
}

export interface PublishedEvent extends EventBase {
  readonly kind: 'published';
  /** The queues routing chose (before any refused it for being full); empty when unroutable or held by a delayed exchange. */
  readonly queues: readonly string[];
}

export interface RoutedEvent extends EventBase {
  readonly kind: 'routed';
  readonly queues: readonly string[];
  /** Set for a dead-lettered copy: the trace id of the message it was copied from. */
  readonly fromTraceId?: string | undefined;
}

/** Nowhere to go: dropped (`unroutable`), or back to its publisher (`returned`, mandatory). */
export interface UnroutedEvent extends EventBase {
  readonly kind: 'unroutable' | 'returned';
  readonly fromTraceId?: string | undefined;
}

export interface DeliveredEvent extends EventBase {
  readonly kind: 'delivered';
  readonly queue: string;
  /** Null for basic.get. */
  readonly consumerTag: string | null;
  readonly redelivered: boolean;
  /** This delivery's number: 1 the first time, one more after each return to the queue. */
  readonly deliveryCount: number;
}

export interface SettledEvent extends EventBase {
  readonly kind: 'acked' | 'nacked' | 'rejected';
  readonly queue: string;
  /** Undefined for `acked`. */
  readonly requeue?: boolean | undefined;
}

export interface DeadLetteredEvent extends EventBase {
  readonly kind: 'dead-lettered';
  readonly queue: string;
  readonly reason: DeathReason;
  /** Null when the queue's dead-letter exchange does not exist (the message is dropped). */
  readonly deadLetterExchange: string | null;
}

export interface ExpiredEvent extends EventBase {
  readonly kind: 'expired';
  readonly queue: string;
}

export type TraceEvent = PublishedEvent | RoutedEvent | UnroutedEvent | DeliveredEvent | SettledEvent | DeadLetteredEvent | ExpiredEvent;

/** Told of every event while subscribed; `closed` when the vhost is deleted (no event follows). */
export interface TraceListener {
  event(event: TraceEvent): void;
  closed?(reason: string): void;
}

/** The id a message's events carry. Message ids are broker-wide unique and never reused (recovery continues above them). */
export function traceIdOf(message: Message): string {
  return String(message.id);
}
