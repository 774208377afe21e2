import type { Binding } from './binding.js';
import type { ConnectionIdentity } from './channel.js';
import type { Consumer } from './consumer.js';
import { ConsumerRoster } from './consumer-roster.js';
import type { DeadLetterSink, DeathReason } from './dead-letter.js';
import { effectiveTtl, ExpiryIndex, parseExpiration } from './expiry-index.js';
import { Message } from './message.js';
import { MessageStats, type HandOut } from './message-stats.js';
import type { Policy } from './policy.js';
import type { QueueLimits } from './queue-arguments.js';
import type { QueueExpiry } from './queue-expiry.js';
import { IN_MEMORY_WINDOW } from './persistence.js';
import { ReadAhead } from './read-ahead.js';
import { asEntry, asMessage, QueueEntry } from './queue-entry.js';
import { PriorityReadyList } from './priority-ready-list.js';
import { ReadyList, type ReadyOrder } from './ready-list.js';
import type { EnqueueOutcome, QueueObserver, QueueProperties, QueueState } from './queue-observer.js';
import type { Tracer } from './tracer.js';

export { QueueEntry } from './queue-entry.js';

export type { EnqueueOutcome, QueueObserver, QueueProperties, QueueState } from './queue-observer.js';

export class Queue implements QueueProperties {
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly declaredBy: string;
  /** Bindings with this queue as destination, for clean-up on delete. */
  readonly inbound = new Set<Binding>();
  state: QueueState = 'live';
  readonly stats = new MessageStats();
  unackedCount = 0;
  /** The policy and operator policy that apply to it (the vhost sets them as policies change). */
  policy: Policy | undefined;
  operatorPolicy: Policy | undefined;
  /** Set by the vhost for an `x-expires` queue: told of each get and of each consumer leaving. */
  expiry: QueueExpiry | undefined;
  /** Set by the vhost for a queue with `x-dead-letter-exchange`: takes the messages that die here. */
  deadLetters: DeadLetterSink | undefined;
  /** Its vhost's, set by the vhost: told of expiries and deaths. */
  tracer: Tracer | undefined;
  /** Body bytes of the handed-out, not yet settled messages. */
  unackedBytes = 0;
  readyBytes = 0;
  /**
   * Ready messages in queue order. A message that was never handed out is held bare (it is not
   * redelivered, and its id is its position), so a long backlog costs no wrapper object per message;
   * only restored-redelivered and requeued ones carry a `QueueEntry`. A priority queue orders them by
   * level first; any other queue keeps the plain list, so the common path pays nothing for priorities.
   */
  private readonly ready: ReadyOrder<Message | QueueEntry>;
  /** Reads released contents back ahead of the head, so dispatch never waits for the disk on the event loop. */
  private readonly ahead = new ReadAhead(
    (index) => {
      const item = this.ready.at(index);
      return item && asMessage(item);
    },
    () => this.dispatch(),
  );
  private readonly consumers: ConsumerRoster;
  private dispatching = false;
  /** Made when the first message with an expiry arrives (`x-message-ttl` or its own `expiration`). */
  private expiring: ExpiryIndex | undefined;
  /** Messages `takeOut` took from the middle that the ready list still holds, as tombstones (see `takeOut`). */
  private takenOut: Set<Message> | undefined;

  constructor(
    readonly vhost: string,
    readonly name: string,
    properties: QueueProperties,
    /** What its arguments and policies make it do; see effective-policy.ts. */
    private current: QueueLimits,
    /** The connection an exclusive queue belongs to. */
    readonly owner: ConnectionIdentity | null,
    private readonly observer: QueueObserver,
  ) {
    this.durable = properties.durable;
    this.exclusive = properties.exclusive;
    this.autoDelete = properties.autoDelete;
    this.arguments = properties.arguments;
    this.declaredBy = properties.declaredBy;
    const limits = current;
    this.ready =
      limits.maxPriority === undefined
        ? new ReadyList<Message | QueueEntry>()
        : new PriorityReadyList<Message | QueueEntry>(limits.maxPriority, (item) => asMessage(item).priority);
    this.consumers = new ConsumerRoster(limits.singleActiveConsumer, () => `'${name}' in vhost '${vhost}'`);
  }

  get limits(): QueueLimits {
    return this.current;
  }

  /**
   * A policy change gave it new limits. As in RabbitMQ: a lower length limit drops heads at once under
   * `drop-head` (other overflow modes refuse the next publishes instead); a new message TTL applies to
   * messages that arrive from now on, as each message's expiry is fixed when it enters the queue.
   * Priorities and single active consumer come from arguments only and do not change.
   */
  changeLimits(limits: QueueLimits): void {
    this.current = { ...limits, maxPriority: this.current.maxPriority, singleActiveConsumer: this.current.singleActiveConsumer };
    if (this.current.overflow !== 'drop-head') return;
    while (this.readyHead() !== undefined && this.overLimit(0, 0)) this.bury(this.takeReady() as QueueEntry, 'maxlen');
  }

  /**
   * Whether its persistent messages go to the message store. Exclusive queues die with their
   * connection, so they never survive a restart, whatever `durable` says.
   */
  get storesMessages(): boolean {
    return this.durable && !this.exclusive;
  }

  get messageCount(): number {
    return this.ready.length - (this.expiring?.tombstones ?? 0) - (this.takenOut?.size ?? 0);
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  get consumerList(): readonly Consumer[] {
    return this.consumers.list;
  }

  /** An auto-delete queue goes when its last consumer goes, once it has had one. */
  get shouldAutoDelete(): boolean {
    return this.autoDelete && this.consumers.hadConsumer && this.consumers.size === 0;
  }

  enqueue(message: Message): EnqueueOutcome {
    const size = message.size;
    const ttl = effectiveTtl(this.limits.messageTtl, message.hasExpiration ? parseExpiration(message.properties.expiration) : undefined);
    // TTL 0, as in RabbitMQ: delivered at once if a consumer can take it, else it expires on arrival.
    if (ttl === 0 && !this.consumers.anyWithCapacity()) {
      this.stats.publish++;
      this.bury(new QueueEntry(message, false), 'expired');
      return 'dropped';
    }
    if (this.overLimit(1, size)) {
      if (this.limits.overflow !== 'drop-head') return 'rejected';
      while (this.readyHead() !== undefined && this.overLimit(1, size)) {
        // RabbitMQ enqueues, then drops heads: in a priority queue, a message that would go in ahead of
        // everything left is itself the head it drops (rabbit_amqqueue_process, maybe_drop_head).
        if (this.ready.countAhead(message) === 0) break;
        this.bury(this.takeReady() as QueueEntry, 'maxlen');
      }
      if (this.overLimit(1, size)) {
        this.stats.publish++;
        this.bury(new QueueEntry(message, false), 'maxlen');
        return 'dropped';
      }
    }
    // Deep in a durable queue, a persistent message need not keep its content in memory once stored.
    // Depth is what it has ahead of it: in a priority queue a message may go in near the head of a long queue.
    const deep = this.ready.length >= IN_MEMORY_WINDOW && this.ready.countAhead(message) >= IN_MEMORY_WINDOW;
    if (message.persistent && this.storesMessages && deep) message.evictable = true;
    this.ready.push(message);
    this.readyBytes += size;
    this.stats.publish++;
    // The clock starts as it enters this queue: each queue a message was routed to expires it on its own.
    if (ttl !== undefined && ttl > 0) this.expires(message, this.observer.clock.now() + ttl);
    if (this.consumers.size > 0) this.dispatch();
    return 'queued';
  }

  /**
   * Puts back a message recovered from the store, in order, without dispatching, with the number of
   * times it was returned before. Its expiry counts from its publish time (it entered its queues then),
   * so one that expired while the broker was down expires as soon as the clock runs.
   */
  restore(message: Message, redelivered: boolean, deliveryCount = 0, messageTtl?: number): void {
    const item = redelivered || deliveryCount > 0 ? new QueueEntry(message, true, deliveryCount) : message;
    this.ready.push(item);
    this.readyBytes += message.size;
    const ttl = effectiveTtl(this.limits.messageTtl, messageTtl);
    if (ttl !== undefined) this.expires(item, message.publishedAt + ttl);
  }

  /**
   * basic.get: takes the head message, tracked as unacked unless `noAck`, with its content in memory.
   * The caller has waited for `loadHead()` first: nothing here reads from the disk.
   */
  take(noAck: boolean): QueueEntry | undefined {
    this.expiry?.used();
    const head = this.readyHead();
    if (!head) return undefined;
    if (!head.inMemory) throw new Error(`queue '${this.name}': take() before its head was read back; await loadHead() first`);
    const entry = this.takeReady() as QueueEntry;
    this.handOut(entry, noAck ? 'getNoAck' : 'get');
    // The next get finds its head read back already.
    if (this.storesMessages) this.ahead.topUp();
    return entry;
  }

  /**
   * For a basic.get that can wait: undefined once the head's content is in memory (or the queue is
   * empty), else a read to wait for before asking again. Never reads on the spot.
   */
  loadHead(): Promise<void> | undefined {
    const head = this.readyHead();
    return head && !head.inMemory ? this.ahead.readFor(head) : undefined;
  }

  /** An unacked entry was acked, or rejected without requeue. */
  settle(entry: QueueEntry, how: 'ack' | 'reject'): void {
    this.unackedCount--;
    this.unackedBytes -= entry.message.size;
    this.stats[how]++;
    this.observer.stats[how]++;
    if (how === 'reject') this.bury(entry, 'rejected');
    else this.discard(entry);
  }

  /**
   * The entry leaves for good because it died (`reason`): dead-lettered when the queue has a dead-letter
   * exchange, else dropped. Either way the source settles it (the dead-letterer does, after the copy).
   */
  bury(entry: QueueEntry, reason: DeathReason): void {
    if (this.tracer?.active) this.tracer.died(this.name, entry, reason, this.deadLetters !== undefined && this.state === 'live');
    this.expiring?.forget(entry.message);
    if (!this.deadLetters || this.state !== 'live') return this.discard(entry);
    // The dead-letterer takes the content while it is in memory, so it is let go only afterwards.
    this.deadLetters.deadLetter(this, entry, reason);
    entry.message.dropReadBack();
  }

  /**
   * An unacked entry comes back: one return more on its count, then back to its original position,
   * flagged redelivered — or, once returned more times than `x-delivery-limit`, it dies (RabbitMQ's rule).
   */
  requeue(entry: QueueEntry): void {
    this.unackedCount--;
    this.unackedBytes -= entry.message.size;
    if (this.state === 'deleted') {
      this.discard(entry);
      return;
    }
    const limit = this.limits.deliveryLimit;
    if (limit !== undefined && entry.deliveryCount + 1 > limit) return this.bury(entry, 'delivery_limit');
    entry.message.dropReadBack();
    entry.deliveryCount++;
    this.observer.returned(this, entry);
    entry.redelivered = true;
    this.ready.requeue(entry);
    this.readyBytes += entry.message.size;
    this.ahead.recount();
    this.expiring?.requeued(entry);
  }

  purge(): number {
    this.ahead.forget();
    // Taken-out ones are not purged: whoever took them settles them, or puts them back.
    const purged = this.ready.drain().map(asEntry).filter((entry) => !this.droppedIfExpired(entry.message) && !this.takenOut?.has(entry.message));
    this.takenOut = undefined;
    this.readyBytes = 0;
    for (const entry of purged) {
      this.expiring?.forget(entry.message);
      // Another queue may still hold it deep in its backlog, where no read-back content belongs.
      entry.message.dropReadBack();
      this.observer.settled(this, entry);
    }
    return purged.length;
  }

  /** Ready entries from the head, without taking them, their contents read back where released (not kept). */
  async peekLoaded(offset: number, count: number): Promise<QueueEntry[]> {
    const entries = this.peek(offset, count);
    const contents = await Message.contentsOf(entries.map((entry) => entry.message));
    const out: QueueEntry[] = [];
    for (const [i, entry] of entries.entries()) {
      const content = contents[i];
      if (!content) break;
      out.push(new QueueEntry(entry.message.holding(content), entry.redelivered, entry.deliveryCount));
    }
    return out;
  }

  /** Ready entries from the head, without taking them; expired ones are passed over. */
  peek(offset: number, count: number): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (let i = 0, live = 0; out.length < count; i++) {
      const item = this.ready.at(i);
      if (!item) break;
      if (this.isTombstone(asMessage(item))) continue;
      if (live++ >= offset) out.push(asEntry(item));
    }
    return out;
  }

  /**
   * Browsing a long queue in batches: the ready entries after `after` (from the head when undefined), in
   * queue order, looking at `max` list places at most. `last` is where to go on from next time; an
   * `after` no longer listed left from the head, taking everything before it along, so browsing goes on
   * from the head. Contents are not read back here.
   */
  browse(after: Message | undefined, max: number): { entries: QueueEntry[]; last: Message | undefined; end: boolean } {
    let index = 0;
    if (after) index = this.ready.indexOf(after, (item) => asMessage(item) === after) + 1;
    const entries: QueueEntry[] = [];
    let last = after;
    for (const stop = index + max; index < stop; index++) {
      const item = this.ready.at(index);
      if (item === undefined) break;
      last = asMessage(item);
      if (!this.isTombstone(last)) entries.push(asEntry(item));
    }
    return { entries, last, end: this.ready.at(index) === undefined };
  }

  /**
   * Takes a ready message out wherever it stands (an operator moving it elsewhere), unsettled: it leaves
   * the counts now, and stays in the ready list as a tombstone the list drops when it reaches the head
   * (the lists remove only there, as for expiry). It neither expires nor is delivered meanwhile; the
   * taker settles it (`settleTakenOut`) once its copy is safe, or puts it back (`putBack`). Undefined when
   * it is not ready here, or its own record is not on disk yet (the store may still refuse it).
   */
  takeOut(message: Message): QueueEntry | undefined {
    if (this.state !== 'live' || this.isTombstone(message)) return undefined;
    if (message.id > this.observer.durableThrough && message.storeRef !== undefined) return undefined;
    const index = this.ready.indexOf(message, (item) => asMessage(item) === message);
    const item = this.ready.at(index);
    if (index < 0 || item === undefined) return undefined;
    (this.takenOut ??= new Set()).add(message);
    this.readyBytes -= message.size;
    this.expiring?.leftReady(message);
    // Taken from the head (moving a whole queue), it is dropped at once: no tombstones pile up in a queue nobody reads.
    if (index === 0) this.readyHead();
    return asEntry(item);
  }

  /** A taken-out message's copy is safe: it leaves for good. */
  settleTakenOut(entry: QueueEntry): void {
    this.discard(entry);
  }

  /** A taken-out message stays after all: in its place, or, if the head passed it meanwhile, at the head. */
  putBack(entry: QueueEntry): void {
    if (this.state !== 'live') return this.discard(entry);
    const message = entry.message;
    if (!this.takenOut?.delete(message)) {
      this.ready.requeue(entry);
      this.ahead.recount();
    }
    this.readyBytes += message.size;
    this.expiring?.requeued(entry);
    if (this.consumers.size > 0) this.dispatch();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.add(consumer);
  }

  removeConsumer(consumer: Consumer): void {
    if (!this.consumers.remove(consumer)) return;
    this.expiry?.used();
    // No one left to deliver to: what was read ahead for them goes.
    if (this.consumers.size === 0) this.ahead.forget();
    // With a single active consumer, the next one in line takes over what the last one could not.
    this.dispatch();
  }

  /** Marks the queue deleted and hands back its consumers, whom the caller must cancel. */
  markDeleted(): { consumers: Consumer[]; messageCount: number } {
    this.state = 'deleted';
    const consumers = this.consumers.clear();
    const messageCount = this.purge();
    this.expiring?.stop();
    return { consumers, messageCount };
  }

  /**
   * Hands ready messages to consumers with capacity, round-robin, until one side runs out. A head whose
   * content is not in memory yet pauses it: read-ahead resumes it once the read completes.
   */
  dispatch(): void {
    if (this.dispatching || this.state !== 'live') return;
    this.dispatching = true;
    try {
      for (;;) {
        const head = this.readyHead();
        // A stored head goes out before its record is on disk: should that write fail, the store keeps
        // what was handed out (see StoreWatcher), so the publisher is never told "not stored" about it.
        if (!head) break;
        if (!head.inMemory) {
          if (this.consumers.anyWithCapacity()) this.ahead.waitFor(head);
          break;
        }
        const consumer = this.consumers.next();
        if (!consumer) break;
        const entry = this.takeReady() as QueueEntry;
        this.handOut(entry, consumer.noAck ? 'deliverNoAck' : 'deliver');
        consumer.channel.deliver(consumer, entry);
        // Sent: a content read back for this delivery is not kept (a requeue reads it again).
        head.dropReadBack();
      }
      if (this.storesMessages && this.consumers.size > 0) this.ahead.topUp();
    } finally {
      this.dispatching = false;
    }
  }

  /**
   * Takes out messages the store could not write (their publishes were refused). The store refuses only
   * messages no queue handed out, so they are ready here, among the newest, from `seq` on.
   */
  withdraw(refused: ReadonlySet<Message>, seq: number): void {
    for (const item of this.ready.removeNewest(seq, (item) => refused.has(asMessage(item)))) {
      // An expired one was settled and its bytes taken off already.
      if (!this.droppedIfExpired(asMessage(item))) this.readyBytes -= asMessage(item).size;
      this.expiring?.forget(asMessage(item));
    }
  }

  /**
   * Whether the ready messages, with `messages` more of `bytes` bytes, would pass `x-max-length` or
   * `x-max-length-bytes`: (1, size) for an incoming message, (0, 0) for what the queue holds now.
   */
  private overLimit(messages: number, bytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.current;
    return (
      (maxLength !== undefined && this.messageCount + messages > maxLength) ||
      (maxLengthBytes !== undefined && this.readyBytes + bytes > maxLengthBytes)
    );
  }

  private handOut(entry: QueueEntry, kind: HandOut): void {
    entry.message.markHandedOut();
    const global = this.observer.stats;
    this.stats[kind]++;
    global[kind]++;
    if (entry.redelivered) {
      this.stats.redeliver++;
      global.redeliver++;
    }
    if (kind === 'deliverNoAck' || kind === 'getNoAck') {
      this.expiring?.forget(entry.message);
      this.observer.settled(this, entry);
    } else {
      this.unackedCount++;
      this.unackedBytes += entry.message.size;
      if (!entry.redelivered) this.observer.delivered(this, entry);
    }
  }

  private takeReady(): QueueEntry | undefined {
    const item = this.ready.shift();
    const entry = item && asEntry(item);
    if (entry) {
      this.readyBytes -= entry.message.size;
      this.ahead.shifted(entry.message.size);
      this.expiring?.leftReady(entry.message);
    }
    return entry;
  }

  /**
   * The head message, after dropping expired ones (settled already) and any whose content could not be
   * read back (the store logged why).
   */
  private readyHead(): Message | undefined {
    for (;;) {
      const item = this.ready.peek();
      if (!item) return undefined;
      const message = asMessage(item);
      if (this.isTombstone(message)) {
        this.ready.shift();
        this.ahead.shifted(message.size);
        if (!this.droppedIfExpired(message)) this.takenOut?.delete(message);
        continue;
      }
      if (!message.unreadable) return message;
      this.discard(this.takeReady() as QueueEntry);
    }
  }

  /** The message expires at `at` in this queue (ms since the epoch). */
  private expires(item: Message | QueueEntry, at: number): void {
    this.expiring ??= new ExpiryIndex(this.observer.clock, (expired) => this.expire(asEntry(expired)));
    this.expiring.add(item, at);
  }

  /**
   * A ready message's time came. It stays in the ready list, which can only remove at its head, as a
   * tombstone the list drops when it gets there; the queue's counts and the store forget it now.
   */
  private expire(entry: QueueEntry): void {
    this.readyBytes -= entry.message.size;
    this.bury(entry, 'expired');
  }

  /** The ready list holds it, but it left: expired, or taken out. */
  private isTombstone(message: Message): boolean {
    return this.expiring?.isTombstone(message) === true || this.takenOut?.has(message) === true;
  }

  /** Lets go of `message` if it is an expired one left in the ready list; whether it was. */
  private droppedIfExpired(message: Message): boolean {
    if (!this.expiring?.isTombstone(message)) return false;
    this.expiring.droppedTombstone(message);
    // Read-ahead may have read it back after it expired.
    message.dropReadBack();
    return true;
  }

  private discard(entry: QueueEntry): void {
    this.expiring?.forget(entry.message);
    // A basic.get keeps a content read back for it until settled; a delivery let it go when sent.
    entry.message.dropReadBack();
    this.observer.settled(this, entry);
  }
}
