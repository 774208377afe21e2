import type { Clock } from './clock.js';
import { deadLetterContent, deathTime, isDeathCycle, type DeadLetterSink, type DeathReason } from './dead-letter.js';
import type { Exchange } from './exchange.js';
import { isPersistent, Message, type MessageContent } from './message.js';
import type { MessageStore } from './persistence.js';
import type { QueueEntry } from './queue-entry.js';
import type { Queue, QueueObserver } from './queue.js';
import { routeMessage, type RoutingTables } from './router.js';
import { delayOf, type ScheduledMessages } from './scheduled-messages.js';
import type { Tracer } from './tracer.js';

/** What dead-lettering needs from its vhost: its routing tables, and the same hand-off to queues a publish uses. */
export interface DeadLetterHost extends RoutingTables {
  /** Stores the message for its durable queues, then enqueues it in each (see `VHost.enqueueRouted`); `stored` when it went to the store. */
  enqueueRouted(message: Message, routed: readonly Queue[]): { readonly stored: boolean };
  /** Told of each death and where its copy went. */
  readonly tracer: Tracer;
}

export interface DeadLetterContext {
  nextMessageId(): number;
  readonly queueObserver: QueueObserver;
  readonly clock: Clock;
  readonly messageStore: MessageStore | undefined;
  /** While on, the store takes no new messages, so a copy it would have to write waits (see `held`). */
  readonly writeAlarm: boolean;
}

/**
 * A death waiting its turn; `content` is taken while the queue still holds it in memory. `readBack`:
 * the source had let go of it, so it is on disk and may be let go again while it waits.
 */
interface Burial {
  readonly queue: Queue;
  readonly entry: QueueEntry;
  readonly reason: DeathReason;
  content: MessageContent | undefined;
  readBack: boolean;
}

/** A burial whose copy the store has, not yet on disk: the source's settle waits for it. */
interface Awaiting {
  readonly burial: Burial;
  readonly copy: Message;
}

/**
 * Republishes the messages that die in a vhost's queues to their dead-letter exchanges, as a publish
 * inside the broker (routing, alternate exchanges and counters included).
 *
 * No loss: the copy is a new message, handed to the store (for its durable queues), and the source's
 * settlement is given to the store only once the copy is on disk; after a crash the message is in the
 * source, in the target, or in both. Two things would break that, and are kept from doing so:
 *
 * - The store refuses the copy (its write failed): the copy leaves its targets (`VHost.withdraw` via the
 *   broker), the source was not settled, and the death is worked again — held if the disk alarm is on,
 *   else republished, to be written with the store's next try.
 * - The disk alarm is on: the store must take no new message, so a copy it would have to write (a
 *   persistent one routed to a durable queue) is not made. The death is held here, its source not
 *   settled (after a restart the message is back in its source), and worked off when the alarm clears.
 *   Held deaths are invisible in the source, as the dying message already is.
 *
 * Dead letters are worked off one at a time from a list: a copy refused or pushed out by a full target
 * dies there in turn, and would otherwise recurse as deep as the chain of queues. The cycle rule ends
 * every automatic chain, since each message can die automatically in a queue only once per cycle.
 */
export class DeadLetterer implements DeadLetterSink {
  private readonly burials: Burial[] = [];
  private working = false;
  /** Copies not on disk yet, in id order (ids are handed out in the order they are made). */
  private awaiting: Awaiting[] = [];
  /** Deaths held while the disk alarm is on. */
  private held: Burial[] = [];

  constructor(
    private readonly host: DeadLetterHost,
    private readonly context: DeadLetterContext,
  ) {}

  deadLetter(queue: Queue, entry: QueueEntry, reason: DeathReason): void {
    queue.stats.deadLettered[reason]++;
    this.context.queueObserver.stats.deadLettered[reason]++;
    const message = entry.message;
    const inMemory = message.inMemory;
    this.burials.push({ queue, entry, reason, content: inMemory ? message.content : undefined, readBack: !inMemory });
    this.work();
  }

  /** Deaths held for the disk alarm, and copies not yet on disk: their sources are not settled yet. */
  get pending(): number {
    return this.held.length + this.awaiting.length;
  }

  /** The store has every copy up to `id` on disk (the refused ones were told first): their sources settle. */
  copiesStored(id: number): void {
    let done = 0;
    while (done < this.awaiting.length && (this.awaiting[done] as Awaiting).copy.id <= id) done++;
    if (done === 0) return;
    const settled = this.awaiting.slice(0, done);
    this.awaiting = this.awaiting.slice(done);
    for (const { burial } of settled) this.context.queueObserver.settled(burial.queue, burial.entry);
  }

  /** The store refused these copies (the broker took them out of their targets): their deaths are worked again. */
  copiesRefused(refused: ReadonlySet<Message>): void {
    if (this.awaiting.length === 0) return;
    const again = this.awaiting.filter(({ copy }) => refused.has(copy));
    if (again.length === 0) return;
    this.awaiting = this.awaiting.filter(({ copy }) => !refused.has(copy));
    for (const { burial } of again) this.burials.push(burial);
    this.work();
  }

  /** The disk alarm cleared: the held deaths are worked off, in the order they died. */
  diskSpaceBack(): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.burials.push(...held);
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
    const target = queue.limits.deadLetter;
    const exchange = target && this.host.exchanges.get(target.exchange);
    // A held death whose queue was deleted meanwhile goes with it, as its other messages did.
    if (queue.state !== 'live') {
      this.context.queueObserver.settled(queue, entry);
      return;
    }
    if (!target || !exchange) {
      this.dropped(queue);
      if (this.host.tracer.active) this.host.tracer.deadLettered(queue.name, entry.message, reason, null);
    } else {
      const death = { queue: queue.name, reason, time: deathTime(this.context.clock.now()) };
      const outcome = this.republish(queue, entry.message, exchange, reason, deadLetterContent(content, death, target));
      if (outcome === 'held') {
        // What was read back for it is on disk still (its source is not settled): no need to keep it meanwhile.
        if (burial.readBack) burial.content = undefined;
        this.held.push(burial);
        return;
      }
      if (outcome) {
        this.awaiting.push({ burial, copy: outcome });
        return;
      }
    }
    this.context.queueObserver.settled(queue, entry);
  }

  /**
   * The copy, if the store took it (the source settles once it is on disk); `held` if the store would
   * have to take it while the disk alarm is on; else undefined (not stored, or dropped): settle now.
   */
  private republish(source: Queue, original: Message, exchange: Exchange, reason: DeathReason, content: MessageContent): Message | 'held' | undefined {
    const headers = content.properties.headers;
    const tracer = this.host.tracer.active ? this.host.tracer : undefined;
    if (exchange.scheduled && delayOf(headers) > 0) {
      const scheduled = this.schedule(exchange, content);
      if (scheduled !== 'held') tracer?.deadLettered(source.name, original, reason, exchange.name);
      return scheduled;
    }
    const routed = routeMessage(this.host, exchange, { routingKey: content.routingKey, headers });
    // Only automatic deaths can cycle: a client rejecting in a loop is the client's choice.
    const targets = reason === 'rejected' ? routed : routed.filter((queue) => !isDeathCycle(queue.name, headers));
    // Before any counting: a held death is counted when it is republished.
    if (this.context.writeAlarm && this.context.messageStore && isPersistent(content.properties) && targets.some((queue) => queue.storesMessages)) {
      return 'held';
    }
    const stats = this.context.queueObserver.stats;
    exchange.stats.publish++;
    stats.publish++;
    if (routed.length === 0 || targets.length === 0) {
      tracer?.deadLettered(source.name, original, reason, exchange.name);
      if (routed.length === 0) stats.dropUnroutable++;
      else this.dropped(source);
      return undefined;
    }
    exchange.stats.publishOut++;
    const copy = Message.create(this.context.nextMessageId(), content);
    // Before it is enqueued: its deliveries follow.
    tracer?.deadLettered(source.name, original, reason, exchange.name, { message: copy, content, queues: targets });
    return this.host.enqueueRouted(copy, targets).stored ? copy : undefined;
  }

  /** A delayed dead-letter exchange holds the copy for its `x-delay` (a retry with back-off), stored under it as a publish would be. */
  private schedule(exchange: Exchange, content: MessageContent): Message | 'held' | undefined {
    const scheduled = exchange.scheduled as ScheduledMessages;
    if (this.context.writeAlarm && this.context.messageStore && isPersistent(content.properties) && exchange.durable) return 'held';
    exchange.stats.publish++;
    this.context.queueObserver.stats.publish++;
    const copy = Message.create(this.context.nextMessageId(), content, this.context.clock.now());
    return scheduled.offer(copy, null, true)?.stored ? copy : undefined;
  }

  private dropped(source: Queue): void {
    source.stats.deadLetterDropped++;
    this.context.queueObserver.stats.deadLetterDropped++;
  }
}
