import type { Channel } from './channel.js';
import type { Clock } from './clock.js';
import { Deque } from './deque.js';
import type { Exchange } from './exchange.js';
import { isPersistent, Message } from './message.js';
import type { MessageStats } from './message-stats.js';
import type { MessageStore } from './persistence.js';
import type { Queue } from './queue.js';
import { routeMessage, type RoutingTables } from './router.js';
import { ScheduledMessages } from './scheduled-messages.js';
import type { Tracer } from './tracer.js';

/** What delayed delivery needs from its vhost: its routing tables and the hand-off to queues a publish uses. */
export interface DelayedHost extends RoutingTables {
  enqueueRouted(message: Message, routed: readonly Queue[]): { readonly queues: readonly Queue[]; readonly rejectedBy: readonly Queue[]; readonly stored: boolean };
  /** Told where each held message went when it fell due. */
  readonly tracer: Tracer;
}

export interface DelayedContext {
  nextMessageId(): number;
  readonly clock: Clock;
  readonly messageStore: MessageStore | undefined;
  readonly stats: MessageStats;
  /** While on, the store takes no new messages: a stored scheduled message waits rather than be copied. */
  readonly writeAlarm: boolean;
}

/** A fired message whose copy the store has, not yet on disk: its scheduled record is settled after. */
interface Awaiting {
  /** Its row, kept until the copy is on disk. */
  readonly slot: number;
  readonly messages: ScheduledMessages;
  readonly copy: Message;
}

/**
 * Routes a vhost's scheduled messages when they fall due, as a publish inside the broker: through the
 * exchange's bindings as they are then, its alternate exchange, and the counters.
 *
 * The routed message is a new message (a new id, published now), so a queue's TTL counts from the due
 * time and queue order follows routing order. No loss: the scheduled record is settled only once the
 * copy is on disk, so after a crash the message is scheduled, routed, or (the window between) both —
 * never neither. If the store refuses the copy, the message is scheduled again; while the disk alarm is
 * on, a persistent one waits in its schedule (its index retries).
 *
 * A mandatory message that no queue takes at its due time goes back to its publisher's connection if
 * that is still open (a `return`), else it is dropped; both are counted as for a publish.
 */
export class DelayedDelivery {
  private readonly awaiting = new Deque<Awaiting>();

  constructor(
    private readonly host: DelayedHost,
    private readonly context: DelayedContext,
  ) {}

  /** Gives a new `x-delayed-message` exchange its schedule. */
  attach(exchange: Exchange): void {
    const messages: ScheduledMessages = new ScheduledMessages(exchange, this.context.clock, this.context.messageStore, (slot) => this.fire(messages, slot));
    exchange.scheduled = messages;
  }

  /** Every copy handed to the store with an id up to `id` is on disk: their scheduled records may go. */
  copiesStored(id: number): void {
    for (let next = this.awaiting.peek(); next !== undefined && next.copy.id <= id; next = this.awaiting.peek()) {
      this.awaiting.shift();
      next.messages.settle(next.slot);
    }
  }

  /** The store refused these; copies among them left their queues already, and their messages are scheduled again. */
  copiesRefused(refused: ReadonlySet<Message>): void {
    for (const exchange of this.host.exchanges.values()) exchange.scheduled?.withdraw(refused);
    if (this.awaiting.length === 0) return;
    const kept: Awaiting[] = [];
    for (let next = this.awaiting.shift(); next !== undefined; next = this.awaiting.shift()) {
      if (refused.has(next.copy)) next.messages.reschedule(next.slot);
      else kept.push(next);
    }
    for (const awaiting of kept) this.awaiting.push(awaiting);
  }

  /** False: not now (the disk alarm is on and the copy would have to be written); the index tries again. */
  private fire(messages: ScheduledMessages, slot: number): boolean {
    const content = messages.content(slot);
    if (this.context.writeAlarm && isPersistent(content.properties)) return false;
    const copy = Message.create(this.context.nextMessageId(), content, this.context.clock.now());
    const exchange = messages.exchange;
    const routed = routeMessage(this.host, exchange, { routingKey: content.routingKey, headers: content.properties.headers });
    if (routed.length > 0) exchange.stats.publishOut++;
    const tracer = this.host.tracer.active ? this.host.tracer : undefined;
    // Before it is enqueued: its deliveries follow.
    if (routed.length > 0) tracer?.released(copy, messages.messageId(slot), routed);
    const result = this.host.enqueueRouted(copy, routed);
    if (result.queues.length === 0 && result.rejectedBy.length === 0) {
      const returned = this.unroutable(messages.returnChannel(slot), copy);
      if (routed.length === 0) tracer?.released(copy, messages.messageId(slot), [], returned);
    }
    if (result.stored) this.awaiting.push({ slot, messages, copy });
    else messages.settle(slot);
    return true;
  }

  /** Whether it went back to its publisher. */
  private unroutable(channel: Channel | undefined, copy: Message): boolean {
    const stats = this.context.stats;
    if (channel?.returnUnroutable(copy)) {
      stats.returnUnroutable++;
      channel.stats.returnUnroutable++;
      return true;
    }
    stats.dropUnroutable++;
    return false;
  }
}
