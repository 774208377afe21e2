import type { Broker } from '../broker/broker.js';
import { BrokerError, diskAlarmRefusal, notFound, preconditionFailed } from '../broker/errors.js';
import type { Exchange } from '../broker/exchange.js';
import { Message, type MessageContent } from '../broker/message.js';
import { MessageFilter } from '../broker/message-filter.js';
import { WriteFailure } from '../broker/persistence.js';
import { QueueEntry, type Queue } from '../broker/queue.js';
import { deathOrigin, readdressed } from '../broker/relocation.js';
import { routeMessage } from '../broker/router.js';
import type { Caller } from './caller.js';
import type { DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

/** Into one queue (as the default exchange would put it there), or through an exchange. */
export type MoveDestination = { readonly queue: string } | { readonly exchange: string; readonly routingKey?: string | undefined };

export interface RelocateSpec {
  /** At most this many matching messages are tried (moved, or left for being unroutable); all when undefined. */
  readonly count?: number | undefined;
  readonly filter?: MessageFilter | undefined;
}

export interface MoveSpec extends RelocateSpec {
  readonly destination: MoveDestination;
}

/** What a move or retry did with the messages it tried. */
export interface RelocateReport {
  moved: number;
  /** Their copies would have reached no queue: left where they were. */
  unroutable: number;
  /** Every queue they routed to refused them (full, `reject-publish`): left where they were. */
  rejected: number;
}

export interface RetryReport extends RelocateReport {
  /** Not dead letters (no death headers to say where they came from): left, and not counted against `count`. */
  skipped: number;
  /** The caller may not write to the exchange they first died from: left. */
  refused: number;
}

/** A found message, its content in hand (read back if it was released), and its live position when browsed. */
export interface Browsed {
  readonly entry: QueueEntry;
  readonly content: MessageContent;
  readonly position: number;
}

/** Where a message's copy goes, or why it goes nowhere. */
type Plan = { readonly exchange: Exchange; readonly content: MessageContent; readonly queues: readonly Queue[] } | 'unroutable' | 'skipped' | 'refused';

/** Ready list places looked at per batch: bounds the contents read back at once and the time between yields. */
export const BROWSE_BATCH = 500;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Moving ready messages out of a queue (to another queue or through an exchange) and retrying dead
 * letters where they first died, for operators: what RabbitMQ users script with a shovel. Like a shovel
 * it needs read on the source and write on the target.
 *
 * Copy, then remove: each message is taken out of its queue (`Queue.takeOut`: hidden, unsettled), its
 * copy routed and handed to the store, and only once the batch's copies are on disk are the originals
 * settled. A crash in between leaves a message in its source, its target, or both: duplicated, never
 * lost. The queue is browsed in bounded batches (`BROWSE_BATCH`), released contents read back per
 * batch, and the event loop is yielded to between batches, so a million-message queue is never loaded
 * at once and the broker stays responsive while it is worked through.
 */
export class MessageMover {
  constructor(
    private readonly broker: Broker,
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  async move(caller: Caller, source: string, spec: MoveSpec): Promise<RelocateReport> {
    const { destination } = spec;
    const vhost = caller.vhost;
    this.permissions.check(caller, 'read', 'queue', source);
    if ('queue' in destination) this.permissions.check(caller, 'write', 'queue', destination.queue);
    else this.permissions.check(caller, 'write', 'exchange', destination.exchange);
    const queue = vhost.useQueue(source, caller.channel);
    let plan: (content: MessageContent) => Plan;
    if ('queue' in destination) {
      const into = vhost.useQueue(destination.queue, caller.channel);
      if (into === queue) throw preconditionFailed(`cannot move messages of queue '${source}' into itself`);
      const exchange = defaultExchange(caller);
      plan = (content) => ({ exchange, content, queues: [into] });
    } else {
      const exchange = vhost.exchanges.get(destination.exchange);
      if (!exchange) throw notFound(`no exchange '${destination.exchange}' in vhost '${vhost.name}'`);
      if (exchange.internal) throw preconditionFailed(`cannot move messages through internal exchange '${exchange.name}' in vhost '${vhost.name}'`);
      plan = (content) => {
        const copy = readdressed(content, exchange.name, destination.routingKey ?? content.routingKey);
        const queues = routeMessage(vhost, exchange, { routingKey: copy.routingKey, headers: copy.properties.headers });
        return queues.length > 0 ? { exchange, content: copy, queues } : 'unroutable';
      };
    }
    const { skipped: _skipped, refused: _refused, ...report } = await this.relocate(caller, queue, spec, plan);
    return report;
  }

  /**
   * Republishes each dead letter to the exchange it first died from, with its original routing keys,
   * headers kept (see docs/http-api.md for why `x-death` stays). Write permission is checked per origin.
   */
  async retryDeadLetters(caller: Caller, source: string, spec: RelocateSpec): Promise<RetryReport> {
    const vhost = caller.vhost;
    this.permissions.check(caller, 'read', 'queue', source);
    const queue = vhost.useQueue(source, caller.channel);
    const allowed = new Map<string, boolean>();
    const mayWrite = (exchange: string): boolean => {
      let ok = allowed.get(exchange);
      if (ok === undefined) {
        ok = this.allows(caller, exchange);
        allowed.set(exchange, ok);
      }
      return ok;
    };
    return this.relocate(caller, queue, spec, (content) => {
      const origin = deathOrigin(content.properties.headers);
      const originalKey = origin?.routingKeys[0];
      if (!origin || originalKey === undefined) return 'skipped';
      if (!mayWrite(origin.exchange)) return 'refused';
      const exchange = vhost.exchanges.get(origin.exchange);
      if (!exchange) return 'unroutable';
      const headers = content.properties.headers;
      // Several keys (CC) reach the union of their queues, each once, as the original publish did.
      const queues = new Set<Queue>();
      for (const routingKey of origin.routingKeys) for (const found of routeMessage(vhost, exchange, { routingKey, headers })) queues.add(found);
      if (queues.size === 0) return 'unroutable';
      return { exchange, content: readdressed(content, exchange.name, originalKey), queues: [...queues] };
    });
  }

  /**
   * Peek with a filter: the matching ready messages after the first `offset` matches, up to `count`,
   * nothing taken (exclusive queues too, as peek). Browses in batches until it has enough or reaches the end.
   */
  async peek(caller: Caller, queueName: string, filter: MessageFilter, offset: number, count: number): Promise<Browsed[]> {
    this.permissions.check(caller, 'read', 'queue', queueName);
    const queue = caller.vhost.queues.get(queueName);
    if (!queue) throw notFound(`no queue '${queueName}' in vhost '${caller.vhost.name}'`);
    const out: Browsed[] = [];
    if (count === 0) return out;
    let skip = offset;
    for await (const batch of matching(queue, filter)) {
      for (const found of batch) {
        if (skip > 0) {
          skip--;
          continue;
        }
        const { entry, content } = found;
        out.push({ ...found, entry: new QueueEntry(entry.message.holding(content), entry.redelivered, entry.deliveryCount) });
        if (out.length >= count) return out;
      }
    }
    return out;
  }

  private async relocate(caller: Caller, queue: Queue, spec: RelocateSpec, plan: (content: MessageContent) => Plan): Promise<RetryReport> {
    const report: RetryReport = { moved: 0, unroutable: 0, rejected: 0, skipped: 0, refused: 0 };
    const limit = spec.count ?? Number.POSITIVE_INFINITY;
    // A fresh id is above every message in the queue now: copies routed back into it (and later
    // publishes) are above it, so a move through an exchange bound back to its source ends.
    const horizon = this.broker.nextMessageId();
    let tried = 0;
    for await (const batch of matching(queue, spec.filter ?? new MessageFilter(), horizon)) {
      if (this.broker.diskAlarm) throw diskAlarmRefusal('message moves');
      const mark = this.watch.mark;
      const taken: QueueEntry[] = [];
      const copies: Message[] = [];
      try {
        for (const { entry, content } of batch) {
          if (tried >= limit) break;
          const target = plan(content);
          if (typeof target === 'string') {
            report[target]++;
            if (target !== 'skipped') tried++;
            continue;
          }
          const held = queue.takeOut(entry.message);
          // Gone since it was browsed (delivered, expired, moved by someone else), or not on disk yet.
          if (!held) continue;
          tried++;
          const copy = Message.create(this.broker.nextMessageId(), target.content);
          target.exchange.stats.publish++;
          this.broker.stats.publish++;
          if (caller.vhost.enqueueRouted(copy, target.queues).queues.length === 0) {
            queue.putBack(held);
            report.rejected++;
            continue;
          }
          target.exchange.stats.publishOut++;
          taken.push(held);
          copies.push(copy);
        }
        await this.watch.copiesStored(mark);
      } catch (error) {
        if (!(error instanceof WriteFailure)) {
          // Routing failed, or the barrier refused the write as a whole (a cluster leader short of replicas): the originals stay.
          for (const held of taken) queue.putBack(held);
          throw error;
        }
        // A copy nobody received was refused: its original stays. One a consumer had already was kept,
        // and is written again: its original goes once that is on disk, as after a write that worked.
        const kept: QueueEntry[] = [];
        taken.forEach((held, i) => (error.refused.has(copies[i] as Message) ? queue.putBack(held) : kept.push(held)));
        await this.watch.flushed();
        for (const held of kept) queue.settleTakenOut(held);
        report.moved += kept.length;
        if (kept.length < taken.length) throw new BrokerError('INTERNAL_ERROR', 'could not write to disk');
        if (tried >= limit) break;
        continue;
      }
      for (const held of taken) queue.settleTakenOut(held);
      report.moved += taken.length;
      if (tried >= limit) break;
    }
    // The answer says they left: their settlements are on disk too, so a crash after it duplicates nothing.
    await this.watch.flushed();
    return report;
  }

  private allows(caller: Caller, exchange: string): boolean {
    try {
      this.permissions.check(caller, 'write', 'exchange', exchange);
      return true;
    } catch {
      return false;
    }
  }
}

function defaultExchange(caller: Caller): Exchange {
  const exchange = caller.vhost.exchanges.get('');
  if (!exchange) throw notFound(`no default exchange in vhost '${caller.vhost.name}'`);
  return exchange;
}

/**
 * The ready messages of `queue` that match `filter`, in queue order, one batch at a time, each with its
 * content read back where it was released (not kept in the message). Messages above `horizon` are passed
 * over. Yields to the event loop between batches; stops when the queue ends or is deleted.
 */
async function* matching(queue: Queue, filter: MessageFilter, horizon = Number.POSITIVE_INFINITY): AsyncGenerator<Browsed[]> {
  let after: Message | undefined;
  let position = 0;
  for (;;) {
    if (queue.state !== 'live') return;
    const { entries, last, end } = queue.browse(after, BROWSE_BATCH);
    after = last;
    const now = Date.now();
    const candidates: Array<{ entry: QueueEntry; position: number }> = [];
    for (const entry of entries) {
      const at = position++;
      if (entry.message.id <= horizon && filter.matchesAge(entry.message, now)) candidates.push({ entry, position: at });
    }
    if (candidates.length > 0) {
      const contents = await Message.contentsOf(candidates.map(({ entry }) => entry.message));
      const found: Browsed[] = [];
      candidates.forEach(({ entry, position: at }, i) => {
        const content = contents[i];
        // Unreadable (the store logged why): the queue drops it when it reaches the head.
        if (content && filter.matchesContent(content)) found.push({ entry, content, position: at });
      });
      if (found.length > 0) yield found;
    }
    if (end) return;
    await yieldToEventLoop();
  }
}
