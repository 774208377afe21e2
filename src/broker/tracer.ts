/**
 * A vhost's tracer: turns what happens to its messages into `TraceEvent`s for its listeners (the
 * firehose, and live watchers). The hot paths call it only behind `active`, so with tracing off and
 * nobody watching a publish or a delivery costs one boolean check.
 *
 * Events are written out as whole object literals, never spread from a common part: V8 builds such a
 * literal in under 0.1 µs, a spread with fields added takes several (measured on Node 20), and tracing
 * pays that for every step of every message.
 */
import type { DeathReason } from './dead-letter.js';
import { Firehose, type FirehoseContext, type FirehoseHost } from './firehose.js';
import type { Message, MessageContent } from './message.js';
import type { QueueEntry } from './queue-entry.js';
import { senderSelectedKeys } from './sender-selected.js';
import { traceIdOf, UNKNOWN_ORIGIN, type TraceEvent, type TraceListener, type TraceOrigin } from './trace-event.js';

/** How a client settled a delivery, as the trace names it. */
export type TracedSettlement = 'acked' | 'nacked' | 'rejected';

export class Tracer {
  /** Anyone listening: checked before building any event. */
  active = false;
  private readonly listeners = new Set<TraceListener>();
  private firehose: Firehose | undefined;
  /** Messages the firehose made: their own journey is not traced, or tracing would trace itself. */
  private readonly own = new WeakSet<Message>();

  constructor(
    private readonly host: FirehoseHost,
    private readonly context: FirehoseContext,
  ) {}

  /** RabbitMQ's firehose for this vhost (`tracing` in its metadata): on or off at once. */
  get firehoseOn(): boolean {
    return this.firehose !== undefined;
  }

  set firehoseOn(on: boolean) {
    if (on === this.firehoseOn) return;
    if (on) {
      this.firehose = new Firehose(this.host, this.context, (message) => this.own.add(message));
      this.listeners.add(this.firehose);
    } else if (this.firehose) {
      this.listeners.delete(this.firehose);
      this.firehose = undefined;
    }
    this.active = this.listeners.size > 0;
  }

  /** Starts telling `listener`; the returned function stops it. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener);
    this.active = true;
    return () => {
      this.listeners.delete(listener);
      this.active = this.listeners.size > 0;
    };
  }

  /** How many listen, the firehose included. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** The vhost is gone: every listener hears why, and none is told anything more. */
  close(reason: string): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    this.firehose = undefined;
    this.active = false;
    for (const listener of listeners) listener.closed?.(reason);
  }

  /**
   * A publish was routed (`queues`, possibly none), or held by a delayed exchange; `extraKeys` are its
   * CC and BCC routing keys. Told before the message is enqueued, so a listener sees it before any
   * delivery of it.
   */
  published(message: Message, extraKeys: readonly string[] | undefined, queues: readonly { readonly name: string }[], origin: TraceOrigin, held: boolean): void {
    if (this.own.has(message)) return;
    const names = queues.map((queue) => queue.name);
    const content = contentOf(message);
    const routingKeys = content ? [content.routingKey, ...(extraKeys ?? [])] : [];
    const at = this.now();
    const traceId = traceIdOf(message);
    this.emit({ kind: 'published', at, traceId, message, content, routingKeys, origin, queues: names });
    if (!held && names.length > 0) this.emit({ kind: 'routed', at, traceId, message, content, routingKeys, origin, queues: names });
  }

  /**
   * A message a delayed exchange held (`heldId`) fell due and was routed as `copy`: to `queues`, or
   * nowhere (dropped, or `returned` to its mandatory publisher).
   */
  released(copy: Message, heldId: number, queues: readonly { readonly name: string }[], returned = false): void {
    if (this.own.has(copy)) return;
    const content = contentOf(copy);
    const fromTraceId = String(heldId);
    const at = this.now();
    const traceId = traceIdOf(copy);
    const routingKeys = keysOf(content);
    if (queues.length > 0) {
      const names = queues.map((queue) => queue.name);
      this.emit({ kind: 'routed', at, traceId, message: copy, content, routingKeys, origin: UNKNOWN_ORIGIN, queues: names, fromTraceId });
    } else {
      this.emit({ kind: returned ? 'returned' : 'unroutable', at, traceId, message: copy, content, routingKeys, origin: UNKNOWN_ORIGIN, fromTraceId });
    }
  }

  /** A publish reached no queue: dropped, or returned to its (mandatory) publisher. */
  unrouted(message: Message, kind: 'unroutable' | 'returned', origin: TraceOrigin): void {
    if (this.own.has(message)) return;
    const content = contentOf(message);
    this.emit({ kind, at: this.now(), traceId: traceIdOf(message), message, content, routingKeys: keysOf(content), origin });
  }

  /** Handed to a consumer (`consumerTag`) or to a basic.get (null). */
  delivered(queue: string, entry: QueueEntry, consumerTag: string | null, origin: TraceOrigin): void {
    const message = entry.message;
    if (this.own.has(message)) return;
    const content = contentOf(message);
    this.emit({
      kind: 'delivered',
      at: this.now(),
      traceId: traceIdOf(message),
      message,
      content,
      routingKeys: keysOf(content),
      origin,
      queue,
      consumerTag,
      redelivered: entry.redelivered,
      deliveryCount: entry.deliveryCount + 1,
    });
  }

  settled(queue: string, entry: QueueEntry, kind: TracedSettlement, requeue: boolean, origin: TraceOrigin): void {
    const message = entry.message;
    if (this.own.has(message)) return;
    const content = contentOf(message);
    const at = this.now();
    const traceId = traceIdOf(message);
    const routingKeys = keysOf(content);
    if (kind === 'acked') this.emit({ kind, at, traceId, message, content, routingKeys, origin, queue });
    else this.emit({ kind, at, traceId, message, content, routingKeys, origin, queue, requeue });
  }

  /**
   * A message died in `queue`: an expiry is told here. Its dead-lettering is told by the dead-letterer
   * (`deadLettered`) when the queue has a dead-letter exchange; without one, a message pushed out by a
   * length limit or a delivery limit is told here as dead-lettered to no exchange, so its end shows. (A
   * rejected one shows as `rejected`, an expired one as `expired`.)
   */
  died(queue: string, entry: QueueEntry, reason: DeathReason, deadLettered: boolean): void {
    const dropped = !deadLettered && (reason === 'maxlen' || reason === 'delivery_limit');
    const message = entry.message;
    if ((reason !== 'expired' && !dropped) || this.own.has(message)) return;
    const content = contentOf(message);
    const at = this.now();
    const traceId = traceIdOf(message);
    const routingKeys = keysOf(content);
    const origin = UNKNOWN_ORIGIN;
    if (reason === 'expired') this.emit({ kind: 'expired', at, traceId, message, content, routingKeys, origin, queue });
    else this.emit({ kind: 'dead-lettered', at, traceId, message, content, routingKeys, origin, queue, reason, deadLetterExchange: null });
  }

  /**
   * A message died in `queue`. `copy` is what was republished to the dead-letter exchange (routed to
   * `queues`), undefined when nothing was (no such exchange, a cycle, or held by a delayed exchange).
   */
  deadLettered(queue: string, original: Message, reason: DeathReason, deadLetterExchange: string | null, copy?: { message: Message; content: MessageContent; queues: readonly { readonly name: string }[] }): void {
    if (this.own.has(original)) return;
    const content = contentOf(original);
    const at = this.now();
    const traceId = traceIdOf(original);
    const origin = UNKNOWN_ORIGIN;
    this.emit({ kind: 'dead-lettered', at, traceId, message: original, content, routingKeys: keysOf(content), origin, queue, reason, deadLetterExchange });
    if (!copy) return;
    const queues = copy.queues.map((target) => target.name);
    const routingKeys = keysOf(copy.content);
    const copyId = traceIdOf(copy.message);
    if (queues.length > 0) this.emit({ kind: 'routed', at, traceId: copyId, message: copy.message, content: copy.content, routingKeys, origin, queues, fromTraceId: traceId });
    else this.emit({ kind: 'unroutable', at, traceId: copyId, message: copy.message, content: copy.content, routingKeys, origin, fromTraceId: traceId });
  }

  private now(): number {
    return this.context.clock.now();
  }

  /**
   * Called from inside deliveries and settlements: a listener that throws is dropped (and told, so a
   * watcher can end its stream), never the delivery.
   */
  private emit(event: TraceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener.event(event);
      } catch {
        this.drop(listener);
      }
    }
  }

  private drop(listener: TraceListener): void {
    this.listeners.delete(listener);
    if (listener === this.firehose) this.firehose = undefined;
    this.active = this.listeners.size > 0;
    try {
      listener.closed?.('trace listener failed');
    } catch {
      // It failed twice; it is gone either way.
    }
  }
}

function contentOf(message: Message): MessageContent | undefined {
  return message.inMemory ? message.content : undefined;
}

/** RabbitMQ's `routing_keys`: the routing key, then the CC and BCC ones (BCC is gone once delivered); none without the content. */
function keysOf(content: MessageContent | undefined): readonly string[] {
  if (!content) return [];
  let extra: string[] | undefined;
  try {
    extra = senderSelectedKeys(content.properties.headers);
  } catch {
    // A malformed CC was refused at publish; a copy keeps whatever it had, and tracing never throws.
    extra = undefined;
  }
  return extra ? [content.routingKey, ...extra] : [content.routingKey];
}
