import {
  REF_DELIVERED,
  REF_PAYLOAD,
  REF_SETTLED,
  RecordType,
  decodeQueueSection,
  emptyMessageHeader,
  readMessageHeader,
  type MessageHeader,
  type QueueName,
} from './record-codec.js';
import { PACKED_REFS, nextCapacity, resized } from './slot-table.js';
import { nameKey } from './queue-registry.js';

/** A message some queue still holds after recovery, as handed to the store (reused between calls). */
export interface LiveRecord {
  id: number;
  publishedAt: number;
  size: number;
  segment: number;
  offset: number;
  length: number;
  /** The message's queues, as indexes into `RecoveryIndex.queueNames`, in record order. */
  queues: readonly number[];
  /** Flags per queue; REF_SETTLED also marks a queue deleted after the record was written. */
  flags: number[];
}

interface Position {
  readonly segment: number;
  readonly offset: number;
}

/**
 * Replays the records of all segments, in order, into per-message state keyed by message id. Only
 * headers are read: bodies and properties stay on disk until a consumer needs them. The last record of
 * a message (the original or a copy moved forward) holds its flags as of that point; Settle and
 * Delivered records after it update them; a QueueDeleted record kills every reference to that queue
 * in records written before it.
 */
export class RecoveryIndex {
  maxMessageId = 0;
  malformed = 0;
  readonly queueNames: QueueName[] = [];
  /** Per segment, the older segments it must not outlive (see Segment.deps). */
  readonly deps = new Map<number, Set<number>>();
  private readonly byName = new Map<string, number>();
  private readonly deletedAt: Array<Position | undefined> = [];
  private readonly segmentsOfQueue: Array<Set<number>> = [];
  private readonly lists: number[][] = [];
  private readonly listByKey = new Map<string, number>();
  private lastSection = Buffer.alloc(0);
  private lastList = -1;
  private readonly index = new Map<number, number>();
  private count = 0;
  private ids = new Float64Array(0);
  private published = new Float64Array(0);
  private size = new Uint32Array(0);
  private seg = new Uint32Array(0);
  private off = new Uint32Array(0);
  private len = new Uint32Array(0);
  private list = new Uint32Array(0);
  private bits = new Uint32Array(0);
  private readonly wide = new Map<number, Uint8Array>();
  private highestNew = 0;
  private disordered = false;
  private segment = 0;
  private readonly header: MessageHeader = emptyMessageHeader();

  beginSegment(number: number): void {
    this.segment = number;
  }

  /** False for a record whose checksum is good but whose content makes no sense: it is ignored. */
  apply(type: number, buf: Buffer, at: number, payloadLength: number, offset: number, length: number): boolean {
    switch (type) {
      case RecordType.Message:
        return this.applyMessage(buf, at, payloadLength, offset, length);
      case RecordType.Settle:
      case RecordType.Delivered:
        return this.applyRef(type, buf, at, payloadLength);
      case RecordType.QueueDeleted:
        return this.applyQueueDeleted(buf, at, payloadLength, offset);
      default:
        return false;
    }
  }

  /** Visits the messages still held by a queue, in id order (= publish order = order in each queue). */
  finish(visit: (record: LiveRecord) => void): void {
    const order = this.disordered ? this.sortedById() : undefined;
    const record: LiveRecord = { id: 0, publishedAt: 0, size: 0, segment: 0, offset: 0, length: 0, queues: [], flags: [] };
    for (let i = 0; i < this.count; i++) {
      const r = order ? (order[i] as number) : i;
      const queues = this.lists[this.list[r] as number] as number[];
      const segment = this.seg[r] as number;
      const offset = this.off[r] as number;
      let live = false;
      record.flags.length = queues.length;
      for (let q = 0; q < queues.length; q++) {
        let flags = this.flagsOf(r, q);
        const deleted = this.deletedAt[queues[q] as number];
        if (deleted && (segment < deleted.segment || (segment === deleted.segment && offset < deleted.offset))) flags |= REF_SETTLED;
        record.flags[q] = flags;
        if ((flags & REF_SETTLED) === 0) live = true;
      }
      if (!live) continue;
      record.id = this.ids[r] as number;
      record.publishedAt = this.published[r] as number;
      record.size = this.size[r] as number;
      record.segment = segment;
      record.offset = offset;
      record.length = this.len[r] as number;
      record.queues = queues;
      visit(record);
    }
  }

  /** Only copies moved forward come out of order; without them the records are in id order already. */
  private sortedById(): Uint32Array {
    const order = new Uint32Array(this.count);
    for (let r = 0; r < this.count; r++) order[r] = r;
    const ids = this.ids;
    return order.sort((a, b) => (ids[a] as number) - (ids[b] as number));
  }

  private applyMessage(buf: Buffer, at: number, payloadLength: number, offset: number, length: number): boolean {
    const h = this.header;
    if (!readMessageHeader(buf, at, payloadLength, h)) return false;
    const list = this.listOf(buf, h);
    if (list < 0) return false;
    let r = this.index.get(h.id);
    if (r === undefined) {
      r = this.count++;
      if (r >= this.ids.length) this.resize(r + 1);
      this.index.set(h.id, r);
      this.ids[r] = h.id;
      if (h.id < this.highestNew) this.disordered = true;
      else this.highestNew = h.id;
    } else {
      // A copy moved forward: it supersedes the older record, which must not outlive it.
      this.depend(this.seg[r] as number);
    }
    this.published[r] = h.publishedAt;
    this.size[r] = h.size;
    this.seg[r] = this.segment;
    this.off[r] = offset;
    this.len[r] = length;
    this.list[r] = list;
    if (h.queueCount > PACKED_REFS) {
      this.wide.set(r, Uint8Array.from(buf.subarray(h.flagsAt, h.flagsAt + h.queueCount)));
    } else {
      let bits = 0;
      for (let q = 0; q < h.queueCount; q++) bits |= ((buf[h.flagsAt + q] as number) & 3) << (2 * q);
      this.bits[r] = bits >>> 0;
      this.wide.delete(r);
    }
    for (const key of this.lists[list] as number[]) this.segmentsOfQueue[key]?.add(this.segment);
    if (h.id > this.maxMessageId) this.maxMessageId = h.id;
    return true;
  }

  private applyRef(type: number, buf: Buffer, at: number, payloadLength: number): boolean {
    if (payloadLength !== REF_PAYLOAD) return false;
    const id = buf.readDoubleLE(at);
    const q = buf.readUInt16LE(at + 8);
    if (!Number.isSafeInteger(id) || id <= 0) return false;
    if (id > this.maxMessageId) this.maxMessageId = id;
    const r = this.index.get(id);
    // Its message record went with a deleted segment: it was fully settled then.
    if (r === undefined) return true;
    const queueCount = (this.lists[this.list[r] as number] as number[]).length;
    if (q >= queueCount) return false;
    const flag = type === RecordType.Settle ? REF_SETTLED : REF_DELIVERED;
    const wide = this.wide.get(r);
    if (wide) wide[q] = (wide[q] ?? 0) | flag;
    else this.bits[r] = ((this.bits[r] as number) | (flag << (2 * q))) >>> 0;
    this.depend(this.seg[r] as number);
    return true;
  }

  private applyQueueDeleted(buf: Buffer, at: number, payloadLength: number, offset: number): boolean {
    const names = decodeQueueSection(buf, at, payloadLength, 1);
    if (!names) return false;
    const { vhost, name } = names[0] as QueueName;
    const key = this.queueKey(vhost, name);
    this.deletedAt[key] = { segment: this.segment, offset };
    for (const segment of this.segmentsOfQueue[key] as Set<number>) this.depend(segment);
    return true;
  }

  private depend(older: number): void {
    if (older === this.segment) return;
    let deps = this.deps.get(this.segment);
    if (!deps) this.deps.set(this.segment, (deps = new Set()));
    deps.add(older);
  }

  /** Consecutive messages mostly go to the same queues: compare raw bytes before decoding names. */
  private listOf(buf: Buffer, h: MessageHeader): number {
    const end = h.sectionAt + h.sectionLength;
    if (this.lastList >= 0 && this.lastSection.length === h.sectionLength && buf.compare(this.lastSection, 0, h.sectionLength, h.sectionAt, end) === 0) {
      return this.lastList;
    }
    const names = decodeQueueSection(buf, h.sectionAt, h.sectionLength, h.queueCount);
    if (!names) return -1;
    const keys = names.map(({ vhost, name }) => this.queueKey(vhost, name));
    const joined = keys.join(',');
    let list = this.listByKey.get(joined);
    if (list === undefined) {
      list = this.lists.length;
      this.lists.push(keys);
      this.listByKey.set(joined, list);
    }
    this.lastSection = Buffer.from(buf.subarray(h.sectionAt, end));
    this.lastList = list;
    return list;
  }

  private queueKey(vhost: string, name: string): number {
    const text = nameKey(vhost, name);
    let key = this.byName.get(text);
    if (key === undefined) {
      key = this.queueNames.length;
      this.queueNames.push({ vhost, name });
      this.segmentsOfQueue.push(new Set());
      this.byName.set(text, key);
    }
    return key;
  }

  private flagsOf(r: number, q: number): number {
    const wide = this.wide.get(r);
    return wide ? (wide[q] ?? 0) : ((this.bits[r] as number) >>> (2 * q)) & 3;
  }

  private resize(needed: number): void {
    const capacity = nextCapacity(this.ids.length, needed);
    this.ids = resized(this.ids, capacity);
    this.published = resized(this.published, capacity);
    this.size = resized(this.size, capacity);
    this.seg = resized(this.seg, capacity);
    this.off = resized(this.off, capacity);
    this.len = resized(this.len, capacity);
    this.list = resized(this.list, capacity);
    this.bits = resized(this.bits, capacity);
  }
}
