import type { Clock } from './clock.js';
import type { Message } from './message.js';
import { asMessage, type QueueEntry } from './queue-entry.js';

/**
 * Where a message with an expiry stands in its queue. Unacked messages do not expire, but keep their
 * record so a requeue restores the original expiry; an expired one stays listed until the ready list
 * drops it (see `ExpiryIndex`).
 */
type Standing = 'ready' | 'unacked' | 'expired';

/** One message's expiry in one queue; also the heap's node. */
interface Expiring {
  readonly at: number;
  /** What the ready list holds for it: the bare message, or its entry once redelivered. */
  item: Message | QueueEntry;
  standing: Standing;
  /** Whether a heap node for it is live; a node popped while unacked is pushed again on requeue. */
  inHeap: boolean;
}

/**
 * A queue's messages by expiry time: a binary min-heap of expiry records, with lazy deletion (a record
 * that left the queue, or is unacked, is skipped when it reaches the top), and ONE clock timer armed for
 * the earliest expiry. Each expiry costs O(log n), whatever its position in the queue.
 *
 * The ready lists can only remove at their head (a deque), so an expired message is not taken out of
 * the middle: its record turns `expired` (a tombstone), the queue settles or dead-letters it and fixes
 * its counts at once, and the ready list drops it when it reaches the head or is browsed past. The mark
 * is per queue, not a `Message` flag, because a fanned-out message is one `Message` in several queues
 * and each copy expires on its own clock.
 *
 * Only queues that ever held a message with an expiry have an index; the others pay one undefined check.
 */
export class ExpiryIndex {
  private readonly byMessage = new Map<Message, Expiring>();
  private readonly heap: Expiring[] = [];
  /** Expired messages still in the ready list: the queue's message count leaves them out. */
  tombstones = 0;
  private cancelTimer: (() => void) | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    /** Called for each ready message whose time has come; its record is already `expired`. */
    private readonly expire: (item: Message | QueueEntry) => void,
  ) {}

  /** A ready message that expires at `at` (ms since the epoch). */
  add(item: Message | QueueEntry, at: number): void {
    const record: Expiring = { at, item, standing: 'ready', inHeap: false };
    this.byMessage.set(asMessage(item), record);
    this.push(record);
  }

  /** The message left the ready list: handed out (it may come back), or gone. */
  leftReady(message: Message): void {
    const record = this.byMessage.get(message);
    if (record?.standing === 'ready') record.standing = 'unacked';
  }

  /** A handed-out message is ready again, with its original expiry. */
  requeued(entry: QueueEntry): void {
    const record = this.byMessage.get(entry.message);
    if (!record || record.standing !== 'unacked') return;
    record.item = entry;
    record.standing = 'ready';
    if (!record.inHeap) this.push(record);
    else this.arm();
  }

  /** The message left the queue for good. An expired one stays until the ready list drops it. */
  forget(message: Message): void {
    if (this.byMessage.get(message)?.standing !== 'expired') this.byMessage.delete(message);
  }

  /** Whether the ready list still holds this message although it expired (and was settled). */
  isTombstone(message: Message): boolean {
    return this.tombstones > 0 && this.byMessage.get(message)?.standing === 'expired';
  }

  /** The ready list let go of an expired message. */
  droppedTombstone(message: Message): void {
    this.byMessage.delete(message);
    this.tombstones--;
  }

  /** The queue is gone: no timer may outlive it. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.byMessage.clear();
    this.heap.length = 0;
    this.tombstones = 0;
  }

  private due(): void {
    this.cancelTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.pop();
      if (top.standing !== 'ready' || this.byMessage.get(asMessage(top.item)) !== top) continue;
      top.standing = 'expired';
      this.tombstones++;
      this.expire(top.item);
      if (this.stopped) return;
    }
    this.arm();
  }

  /** Arms the one timer for the earliest live expiry, dropping stale tops on the way. */
  private arm(): void {
    for (let top = this.heap[0]; top !== undefined && top.standing !== 'ready'; top = this.heap[0]) this.pop();
    const next = this.heap[0];
    if (next === undefined || this.stopped || next.at >= this.armedFor) return;
    this.cancelTimer?.();
    this.armedFor = next.at;
    this.cancelTimer = this.clock.schedule(next.at - this.clock.now(), () => this.due());
  }

  private push(record: Expiring): void {
    record.inHeap = true;
    const heap = this.heap;
    let i = heap.push(record) - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const above = heap[parent] as Expiring;
      if (!earlier(record, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = record;
    if (i === 0) this.arm();
  }

  private pop(): void {
    const heap = this.heap;
    const top = heap[0] as Expiring;
    top.inHeap = false;
    const last = heap.pop() as Expiring;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && earlier(heap[right] as Expiring, heap[left] as Expiring) ? right : left;
      if (!earlier(heap[child] as Expiring, last)) break;
      heap[i] = heap[child] as Expiring;
      i = child;
    }
    heap[i] = last;
  }
}

/** Expiry order; messages due at the same time go in queue order, so dead letters keep it. */
function earlier(a: Expiring, b: Expiring): boolean {
  return a.at < b.at || (a.at === b.at && asMessage(a.item).seq < asMessage(b.item).seq);
}

/**
 * A message's `expiration` property as milliseconds, undefined when it has none or it is not a
 * non-negative integer string (the edges refuse those, so this only guards old or odd records).
 */
export function parseExpiration(expiration: string | undefined): number | undefined {
  if (expiration === undefined || !/^\d{1,15}$/.test(expiration)) return undefined;
  return Number(expiration);
}

/** The smaller of the queue's and the message's TTL, undefined when neither has one. */
export function effectiveTtl(queueTtl: number | undefined, messageTtl: number | undefined): number | undefined {
  if (queueTtl === undefined) return messageTtl;
  return messageTtl === undefined ? queueTtl : Math.min(queueTtl, messageTtl);
}
