import type { Clock } from './clock.js';
import { deadLetterContent, deadLetterTarget, deathTime, isDeathCycle, type DeadLetterSink, type DeathReason } from './dead-letter.js';
import type { Exchange } from './exchange.js';
import { Message, type MessageContent } from './message.js';
import type { QueueEntry } from './queue-entry.js';
import type { Queue, QueueObserver } from './queue.js';
import { routeMessage, type RoutingTables } from './router.js';

/** What dead-lettering needs from its vhost: its routing tables, and the same hand-off to queues a publish uses. */
export interface DeadLetterHost extends RoutingTables {
  /** Stores the message for its durable queues, then enqueues it in each (see `VHost.enqueueRouted`). */
  enqueueRouted(message: Message, routed: readonly Queue[]): unknown;
}

export interface DeadLetterContext {
  nextMessageId(): number;
  readonly queueObserver: QueueObserver;
  readonly clock: Clock;
}

/** A death waiting its turn; `content` is taken while the queue still holds it in memory. */
interface Burial {
  readonly queue: Queue;
  readonly entry: QueueEntry;
  readonly reason: DeathReason;
  content: MessageContent | undefined;
}

/**
 * Republishes the messages that die in a vhost's queues to their dead-letter exchanges, as a publish
 * inside the broker (routing, alternate exchanges and counters included).
 *
 * No loss: the copy is a new message, handed to the store (for its durable queues) before the source's
 * settlement is, so both land in the same group commit with the copy first; after a crash the message is
 * in the source, in the target, or in both.
 *
 * Dead letters are worked off one at a time from a list: a copy refused or pushed out by a full target
 * dies there in turn, and would otherwise recurse as deep as the chain of queues. The cycle rule ends
 * every automatic chain, since each message can die automatically in a queue only once per cycle.
 */
export class DeadLetterer implements DeadLetterSink {
  private readonly burials: Burial[] = [];
  private working = false;

  constructor(
    private readonly host: DeadLetterHost,
    private readonly context: DeadLetterContext,
  ) {}

  deadLetter(queue: Queue, entry: QueueEntry, reason: DeathReason): void {
    queue.stats.deadLettered[reason]++;
    this.context.queueObserver.stats.deadLettered[reason]++;
    const message = entry.message;
    this.burials.push({ queue, entry, reason, content: message.inMemory ? message.content : undefined });
    this.work();
  }

  private work(): void {
    if (this.working) return;
    this.working = true;
    try {
      for (let next = this.burials.shift(); next; next = this.burials.shift()) this.bury(next);
    } finally {
      this.working = false;
    }
  }

  private bury(burial: Burial): void {
    const { queue, entry, reason, content } = burial;
    if (!content) {
      // Released from memory: read it back first. Until the copy is written the source's record stays,
      // so a crash meanwhile leaves the message in the source.
      void Message.contentsOf([entry.message]).then(([read]) => {
        if (!read) {
          // Unreadable (the store logged why): it can never be delivered, so it goes, as at a queue's head.
          this.context.queueObserver.settled(queue, entry);
          return;
        }
        this.burials.push({ ...burial, content: read });
        this.work();
      });
      return;
    }
    const target = deadLetterTarget(queue.arguments);
    const exchange = target && this.host.exchanges.get(target.exchange);
    if (!target || !exchange) this.dropped(queue);
    else {
      const death = { queue: queue.name, reason, time: deathTime(this.context.clock.now()) };
      this.republish(queue, exchange, reason, deadLetterContent(content, death, target));
    }
    this.context.queueObserver.settled(queue, entry);
  }

  private republish(source: Queue, exchange: Exchange, reason: DeathReason, content: MessageContent): void {
    const headers = content.properties.headers;
    const routed = routeMessage(this.host, exchange, { routingKey: content.routingKey, headers });
    // Only automatic deaths can cycle: a client rejecting in a loop is the client's choice.
    const targets = reason === 'rejected' ? routed : routed.filter((queue) => !isDeathCycle(queue.name, headers));
    const stats = this.context.queueObserver.stats;
    exchange.stats.publish++;
    stats.publish++;
    if (routed.length === 0) {
      stats.dropUnroutable++;
      return;
    }
    if (targets.length === 0) {
      this.dropped(source);
      return;
    }
    exchange.stats.publishOut++;
    this.host.enqueueRouted(Message.create(this.context.nextMessageId(), content), targets);
  }

  private dropped(source: Queue): void {
    source.stats.deadLetterDropped++;
    this.context.queueObserver.stats.deadLetterDropped++;
  }
}
