import {
  REF_DELIVERED,
  RETURNED_PAYLOAD,
  REF_PAYLOAD,
  REF_SETTLED,
  RecordType,
  decodeQueueSection,
  emptyMessageHeader,
  readMessageHeader,
  readExpiration,
  readPriority,
  type MessageHeader,
  type QueueName,
} from './record-codec.js';
import type { LostSegments } from './lost-segments.js';
import { nameKey } from './queue-registry.js';
import { BITS, LEN, LIST, OFF, PRIORITY, RecoveredRecords, SEG, SIZE } from './recovered-records.js';
import { PACKED_REFS } from './slot-table.js';

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
  /** The message's priority (0 when it has none), so a priority queue is rebuilt in the same order. */
  priority: number;
  /** Per queue index, how often that queue had it back; undefined for the many never returned. */
  returns: readonly number[] | undefined;
  /** The message's own `expiration` in ms (its queue's TTL may be shorter), undefined when it has none. */
  expiration: number | undefined;
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
  /** Per segment, the older segments it must outlive (see Segment.deps). */
  readonly deps = new Map<number, Set<number>>();
  /** Set when segment files are missing: collects what later records tell of them. */
  lost: LostSegments | undefined;
  private readonly byName = new Map<string, number>();
  private readonly deletedAt: Array<Position | undefined> = [];
  private readonly segmentsOfQueue: Array<Set<number>> = [];
  private readonly lastNoted: number[] = [];
  private readonly lists: number[][] = [];
  private readonly listByKey = new Map<string, number>();
  private lastSection = Buffer.alloc(0);
  private lastList = -1;
  private readonly records = new RecoveredRecords();
  private readonly wide = new Map<number, Uint8Array>();
  /** Delivery counts by record, sparse (see RETURNED_PAYLOAD). */
  private readonly returns = new Map<number, number[]>();
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
    const records = this.records;
    const record: LiveRecord = {
      id: 0,
      publishedAt: 0,
      size: 0,
      segment: 0,
      offset: 0,
      length: 0,
      queues: [],
      flags: [],
      priority: 0,
      returns: undefined,
      expiration: undefined,
    };
    records.forEachInIdOrder((r) => {
      const queues = this.lists[records.get(r, LIST)] as number[];
      const segment = records.get(r, SEG);
      const offset = records.get(r, OFF);
      let live = false;
      record.flags.length = queues.length;
      for (let q = 0; q < queues.length; q++) {
        let flags = this.flagsOf(r, q);
        const deleted = this.deletedAt[queues[q] as number];
        if (deleted && (segment < deleted.segment || (segment === deleted.segment && offset < deleted.offset))) flags |= REF_SETTLED;
        record.flags[q] = flags;
        if ((flags & REF_SETTLED) === 0) live = true;
      }
      if (!live) return;
      record.id = records.id(r);
      record.publishedAt = records.publishedAt(r);
      record.size = records.get(r, SIZE);
      record.segment = segment;
      record.offset = offset;
      record.length = records.get(r, LEN);
      record.queues = queues;
      record.priority = records.get(r, PRIORITY);
      record.returns = this.returns.get(r);
      record.expiration = records.expiration(r);
      visit(record);
    });
  }

  private applyMessage(buf: Buffer, at: number, payloadLength: number, offset: number, length: number): boolean {
    const h = this.header;
    if (!readMessageHeader(buf, at, payloadLength, h)) return false;
    const list = this.listOf(buf, h);
    if (list < 0) return false;
    const records = this.records;
    let r = records.find(h.id);
    if (r < 0) r = records.create(h.id);
    // A copy moved forward: it supersedes the older record, which must not outlive it.
    else this.depend(records.get(r, SEG));
    records.setPublishedAt(r, h.publishedAt);
    records.set(r, SIZE, h.size);
    records.set(r, SEG, this.segment);
    records.set(r, OFF, offset);
    records.set(r, LEN, length);
    records.set(r, LIST, list);
    records.set(r, PRIORITY, readPriority(buf, h, at + payloadLength));
    records.setExpiration(r, readExpiration(buf, h, at + payloadLength));
    if (h.queueCount > PACKED_REFS) {
      this.wide.set(r, Uint8Array.from(buf.subarray(h.flagsAt, h.flagsAt + h.queueCount)));
    } else {
      let bits = 0;
      for (let q = 0; q < h.queueCount; q++) bits |= ((buf[h.flagsAt + q] as number) & 3) << (2 * q);
      records.set(r, BITS, bits >>> 0);
      this.wide.delete(r);
    }
    for (const key of this.lists[list] as number[]) {
      if (this.lastNoted[key] === this.segment) continue;
      this.lastNoted[key] = this.segment;
      this.segmentsOfQueue[key]?.add(this.segment);
    }
    if (h.id > this.maxMessageId) this.maxMessageId = h.id;
    this.lost?.message(h.id);
    return true;
  }

  private applyRef(type: number, buf: Buffer, at: number, payloadLength: number): boolean {
    const isReturn = type === RecordType.Delivered && payloadLength === RETURNED_PAYLOAD;
    if (payloadLength !== REF_PAYLOAD && !isReturn) return false;
    const id = buf.readDoubleLE(at);
    const q = buf.readUInt16LE(at + 8);
    if (!Number.isSafeInteger(id) || id <= 0) return false;
    if (id > this.maxMessageId) this.maxMessageId = id;
    const records = this.records;
    const r = records.find(id);
    // Its message record went with a deleted segment: it was fully settled then — unless the file was lost.
    if (r < 0) {
      this.lost?.unknownRef(type, id, q);
      return true;
    }
    const queueCount = (this.lists[records.get(r, LIST)] as number[]).length;
    if (q >= queueCount) return false;
    const flag = type === RecordType.Settle ? REF_SETTLED : REF_DELIVERED;
    const wide = this.wide.get(r);
    if (wide) wide[q] = (wide[q] ?? 0) | flag;
    else records.set(r, BITS, (records.get(r, BITS) | (flag << (2 * q))) >>> 0);
    if (isReturn) this.noteReturns(r, q, buf.readUInt32LE(at + 10));
    this.depend(records.get(r, SEG));
    return true;
  }

  /** Each return record holds the total so far; the highest wins, whatever order copies left them in. */
  private noteReturns(r: number, q: number, count: number): void {
    let counts = this.returns.get(r);
    if (!counts) this.returns.set(r, (counts = []));
    counts[q] = Math.max(counts[q] ?? 0, count);
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
    if (this.lastList >= 0 && sameBytes(this.lastSection, buf, h.sectionAt, h.sectionLength)) return this.lastList;
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
      this.lastNoted.push(-1);
      this.byName.set(text, key);
    }
    return key;
  }

  private flagsOf(r: number, q: number): number {
    const wide = this.wide.get(r);
    return wide ? (wide[q] ?? 0) : (this.records.get(r, BITS) >>> (2 * q)) & 3;
  }
}

/** A byte loop: for the few dozen bytes of a queue section, cheaper than Buffer.compare's argument checks. */
function sameBytes(known: Buffer, buf: Buffer, at: number, length: number): boolean {
  if (known.length !== length) return false;
  for (let i = 0; i < length; i++) if (known[i] !== buf[at + i]) return false;
  return true;
}
