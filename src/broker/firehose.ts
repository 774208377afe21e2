/**
 * RabbitMQ's firehose (rabbit_trace): while a vhost's `tracing` is on, every publish is also published
 * to `amq.rabbitmq.trace` as `publish.<exchange>` and every delivery as `deliver.<queue>`, with the
 * message's body and RabbitMQ's trace headers. Published at most once: transient, unconfirmed, and
 * dropped when nothing is bound.
 */
import type { Clock } from './clock.js';
import type { HeaderValue, Headers, MessageContent, MessageProperties } from './message.js';
import { Message } from './message.js';
import type { Queue } from './queue.js';
import { routeMessage, type RoutingTables } from './router.js';
import type { Exchange } from './exchange.js';
import type { DeliveredEvent, PublishedEvent, TraceEvent, TraceListener } from './trace-event.js';

export const TRACE_EXCHANGE = 'amq.rabbitmq.trace';

/** What the firehose needs from its vhost: its name, its routing tables and the hand-off to queues. */
export interface FirehoseHost extends RoutingTables {
  readonly name: string;
  enqueueRouted(message: Message, routed: readonly Queue[]): unknown;
}

export interface FirehoseContext {
  readonly clock: Clock;
  nextMessageId(): number;
}

/** The `node` header: RabbitMQ's node name; the server sets it once at start (`warren@<host>`). */
let nodeName = 'warren@localhost';

export function setFirehoseNode(name: string): void {
  nodeName = name;
}

/** RabbitMQ's `P_basic` field names, in the trace's `properties` table. */
const PROPERTY_NAMES = [
  ['contentType', 'content_type'],
  ['contentEncoding', 'content_encoding'],
  ['headers', 'headers'],
  ['deliveryMode', 'delivery_mode'],
  ['priority', 'priority'],
  ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'],
  ['expiration', 'expiration'],
  ['messageId', 'message_id'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['userId', 'user_id'],
  ['appId', 'app_id'],
] as const satisfies ReadonlyArray<readonly [keyof MessageProperties, string]>;

export class Firehose implements TraceListener {
  constructor(
    private readonly host: FirehoseHost,
    private readonly context: FirehoseContext,
    /** Told of each trace message before it is enqueued, so its own deliveries are not traced. */
    private readonly made: (message: Message) => void,
  ) {}

  event(event: TraceEvent): void {
    if (event.kind === 'published') this.publish(event);
    else if (event.kind === 'delivered') this.deliver(event);
  }

  private publish(event: PublishedEvent): void {
    const content = event.content;
    const exchange = this.bound();
    if (!content || !exchange) return;
    const origin = event.origin;
    // One literal per kind, in RabbitMQ's order: spreading a common part costs several µs an event. The
    // management API has no connection: an empty name, and channel 0, RabbitMQ's connection-global number.
    this.send(exchange, `publish.${content.exchange}`, content, {
      exchange_name: content.exchange,
      routing_keys: [...event.routingKeys],
      properties: propertiesTable(content.properties),
      node: nodeName,
      vhost: this.host.name,
      connection: origin.connection ?? '',
      channel: origin.channel ?? 0,
      user: origin.user ?? '',
      routed_queues: [...event.queues],
    });
  }

  private deliver(event: DeliveredEvent): void {
    const content = event.content;
    const exchange = this.bound();
    if (!content || !exchange) return;
    const origin = event.origin;
    this.send(exchange, `deliver.${event.queue}`, content, {
      exchange_name: content.exchange,
      routing_keys: [...event.routingKeys],
      properties: propertiesTable(content.properties),
      node: nodeName,
      redelivered: event.redelivered ? 1 : 0,
      vhost: this.host.name,
      connection: origin.connection ?? '',
      channel: origin.channel ?? 0,
      user: origin.user ?? '',
    });
  }

  /** The trace exchange, if anything is bound to it: with nothing bound there is nothing to build (RabbitMQ routes and drops it). */
  private bound(): Exchange | undefined {
    const exchange = this.host.exchanges.get(TRACE_EXCHANGE);
    return exchange && exchange.outbound.size > 0 ? exchange : undefined;
  }

  private send(exchange: Exchange, routingKey: string, content: MessageContent, headers: Headers): void {
    const trace: MessageContent = { exchange: TRACE_EXCHANGE, routingKey, properties: { headers }, body: content.body };
    exchange.stats.publish++;
    const queues = routeMessage(this.host, exchange, { routingKey, headers });
    if (queues.length === 0) return;
    exchange.stats.publishOut++;
    const message = Message.create(this.context.nextMessageId(), trace, this.context.clock.now());
    this.made(message);
    this.host.enqueueRouted(message, queues);
  }
}

/** The message's properties under RabbitMQ's `P_basic` names, only those set. */
function propertiesTable(properties: MessageProperties): Headers {
  const table: Headers = {};
  for (const [ours, theirs] of PROPERTY_NAMES) {
    const value: HeaderValue | undefined = properties[ours];
    if (value !== undefined) table[theirs] = value;
  }
  return table;
}
