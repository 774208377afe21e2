import { encodeQueueSection, type QueueName } from './record-codec.js';

const DELETED: QueueName = { vhost: '', name: '' };
const EMPTY = Buffer.alloc(0);

export interface QueueList {
  readonly qids: readonly number[];
  /** The queue section of a message record routed to exactly these queues, encoded once. */
  readonly section: Buffer;
  users: number;
  readonly key: string;
}

/**
 * Numbers queue *instances* (qid). On disk a queue is its vhost + name, but a queue deleted and declared
 * again under the same name is a different instance: acks for the old one's unacked messages may still
 * arrive after the new one exists, so each `Queue` object keeps the qid it was first seen with.
 */
export class QueueRegistry {
  private readonly names: QueueName[] = [];
  private readonly sections: Buffer[] = [];
  private readonly deleted: boolean[] = [];
  /** Name → the instance currently using it. */
  private readonly current = new Map<string, number>();
  private readonly byQueue = new WeakMap<QueueName, number>();
  /** Segments holding records that reference the instance: what its QueueDeleted record must outlive. */
  private readonly segmentsOf: Array<Set<number> | undefined> = [];
  private readonly lastNoted: number[] = [];
  private readonly lists: Array<QueueList | undefined> = [];
  private readonly listByKey = new Map<string, number>();
  private readonly freeLists: number[] = [];
  /**
   * The queue last asked about and its qid: every publish, delivery and ack asks, nearly always about the
   * same queue as the call before. A queue object's qid never changes, so this needs no invalidation.
   */
  private lastQueue: QueueName | undefined;
  private lastQid = -1;

  qidOf(queue: QueueName): number {
    if (queue === this.lastQueue) return this.lastQid;
    let qid = this.byQueue.get(queue);
    if (qid === undefined) {
      qid = this.qidForName(queue.vhost, queue.name);
      this.byQueue.set(queue, qid);
    }
    this.lastQueue = queue;
    this.lastQid = qid;
    return qid;
  }

  /** The instance of a queue the store has seen, without creating one. */
  find(queue: QueueName): number | undefined {
    return this.byQueue.get(queue) ?? this.current.get(nameKey(queue.vhost, queue.name));
  }

  /** The live instance with this name, created if none (recovery, or a queue seen for the first time). */
  qidForName(vhost: string, name: string): number {
    const key = nameKey(vhost, name);
    let qid = this.current.get(key);
    if (qid === undefined) {
      qid = this.names.length;
      this.names.push({ vhost, name });
      this.sections.push(encodeQueueSection([{ vhost, name }]));
      this.deleted.push(false);
      this.lastNoted.push(-1);
      this.segmentsOf.push(undefined);
      this.current.set(key, qid);
    }
    return qid;
  }

  name(qid: number): QueueName {
    return this.names[qid] as QueueName;
  }

  section(qid: number): Buffer {
    return this.sections[qid] as Buffer;
  }

  isDeleted(qid: number): boolean {
    return this.deleted[qid] === true;
  }

  noteSegment(qid: number, segment: number): void {
    if (this.lastNoted[qid] === segment || this.deleted[qid]) return;
    this.lastNoted[qid] = segment;
    let set = this.segmentsOf[qid];
    if (!set) this.segmentsOf[qid] = set = new Set();
    set.add(segment);
  }

  /**
   * Frees the name for a new instance. Returns the segments holding the old instance's records and its
   * encoded name, for the QueueDeleted record; the registry keeps only the fact that it is deleted.
   */
  markDeleted(qid: number): { segments: ReadonlySet<number>; section: Buffer } {
    this.deleted[qid] = true;
    const { vhost, name } = this.name(qid);
    const key = nameKey(vhost, name);
    if (this.current.get(key) === qid) this.current.delete(key);
    const segments = this.segmentsOf[qid] ?? new Set<number>();
    const section = this.section(qid);
    this.segmentsOf[qid] = undefined;
    this.names[qid] = DELETED;
    this.sections[qid] = EMPTY;
    for (let index = 0; index < this.lists.length; index++) {
      const list = this.lists[index];
      if (list && list.users === 0 && list.qids.includes(qid)) this.dropList(index, list);
    }
    return { segments, section };
  }

  /** Interns the list and counts one more message using it. */
  listFor(qids: readonly number[]): number {
    const key = qids.join(',');
    let index = this.listByKey.get(key);
    if (index === undefined) {
      index = this.freeLists.pop() ?? this.lists.length;
      const section = Buffer.concat(qids.map((qid) => this.section(qid)));
      this.lists[index] = { qids: [...qids], section, users: 0, key };
      this.listByKey.set(key, index);
    }
    (this.lists[index] as QueueList).users++;
    return index;
  }

  list(index: number): QueueList {
    return this.lists[index] as QueueList;
  }

  /** A list is kept while unused unless one of its queues is gone: a fanout's list would churn otherwise. */
  releaseList(index: number): void {
    const list = this.list(index);
    if (--list.users === 0 && list.qids.some((qid) => this.deleted[qid])) this.dropList(index, list);
  }

  private dropList(index: number, list: QueueList): void {
    this.listByKey.delete(list.key);
    this.lists[index] = undefined;
    this.freeLists.push(index);
  }
}

/** Length-prefixed so that no pair of vhost and queue names can collide. */
export function nameKey(vhost: string, name: string): string {
  return `${vhost.length}:${vhost}/${name}`;
}
