import { isUtf8 } from 'node:buffer';
import { contentSize, TextContent, type MessageContent, type MessageProperties } from '../broker/message.js';
import { crc32 } from './crc32.js';
import { propertiesJson, utf8Length, writeUtf8 } from './record-strings.js';

/**
 * The on-disk record format of the message store (docs/storage.md has the full table). Every record:
 *
 *   0  u8   magic 0xA7 (lets recovery resync after a corrupt record)
 *   1  u8   type
 *   2  u16  reserved, 0
 *   4  u32  payload length
 *   8  ...  payload
 *   8+n u32 CRC-32 of everything before it (header and payload), so a flipped length or type fails too
 *
 * The checksum trails the record so that it covers one contiguous range. All integers little-endian.
 */
export const MAGIC = 0xa7;
export const HEADER_SIZE = 8;
const TRAILER_SIZE = 4;

export function recordLength(payloadLength: number): number {
  return HEADER_SIZE + payloadLength + TRAILER_SIZE;
}

export const RecordType = { Message: 1, Settle: 2, Delivered: 3, QueueDeleted: 4 } as const;

/** Per-queue flag bits of a message record; the in-memory tables use the same values. */
export const REF_SETTLED = 1;
export const REF_DELIVERED = 2;

// Message payload layout. The flags sit before the variable-length part so a copy can patch them in place.
const M_ID = 0;
const M_PUBLISHED = 8;
const M_SIZE = 16;
const M_QUEUE_COUNT = 20;
const M_SECTION_LENGTH = 22;
const M_FLAGS = 26;

/** Settle and Delivered payloads: the message id, then which of the message's queues (index into its list). */
export const REF_PAYLOAD = 10;
/**
 * A Delivered record with a u32 after the index is a *return*: that queue has had the message back that
 * many times in all. A longer Delivered rather than a new type: a Warren from before delivery counts
 * ignores a Delivered payload of another length (one warning) instead of taking an unknown type for damage.
 */
export const RETURNED_PAYLOAD = 14;

function isRecordType(type: number | undefined): boolean {
  return type !== undefined && type >= RecordType.Message && type <= RecordType.QueueDeleted;
}

export function recordChecksum(buf: Buffer, at: number, payloadLength: number): number {
  return crc32(buf, at, at + HEADER_SIZE + payloadLength);
}

function writeHeader(buf: Buffer, at: number, type: number, payloadLength: number): void {
  buf[at] = MAGIC;
  buf[at + 1] = type;
  buf.writeUInt16LE(0, at + 2);
  buf.writeUInt32LE(payloadLength, at + 4);
}

/** Writes the checksum once the payload is in place (also after patching a copied record). */
export function sealRecord(buf: Buffer, at: number): void {
  const payloadLength = buf.readUInt32LE(at + 4);
  buf.writeUInt32LE(recordChecksum(buf, at, payloadLength), at + HEADER_SIZE + payloadLength);
}

/** True if the header is plausible: checked before trusting its length to read the rest. */
export function isPlausibleHeader(buf: Buffer, at: number): boolean {
  return buf[at] === MAGIC && isRecordType(buf[at + 1]) && buf[at + 2] === 0 && buf[at + 3] === 0;
}

/** True if a full record at `at` has a good header and checksum. */
export function isValidRecord(buf: Buffer, at: number, available: number): boolean {
  if (available < HEADER_SIZE || !isPlausibleHeader(buf, at)) return false;
  const payloadLength = buf.readUInt32LE(at + 4);
  return (
    recordLength(payloadLength) <= available &&
    recordChecksum(buf, at, payloadLength) === buf.readUInt32LE(at + HEADER_SIZE + payloadLength)
  );
}

export interface QueueName {
  readonly vhost: string;
  readonly name: string;
}

/** A list of queues as the message records hold it: per queue u16 length + UTF-8 vhost, u16 length + UTF-8 name. */
export function encodeQueueSection(queues: readonly QueueName[]): Buffer {
  const parts: Buffer[] = [];
  for (const { vhost, name } of queues) parts.push(shortString(vhost), shortString(name));
  return Buffer.concat(parts);
}

function shortString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 0xffff) throw new RangeError(`name too long for the message store: ${bytes.length} bytes`);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16LE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** Undefined if the section does not hold exactly `count` well-formed names. */
export function decodeQueueSection(buf: Buffer, at: number, length: number, count: number): QueueName[] | undefined {
  const end = at + length;
  const out: QueueName[] = [];
  let p = at;
  const next = (): string | undefined => {
    if (p + 2 > end) return undefined;
    const n = buf.readUInt16LE(p);
    if (p + 2 + n > end) return undefined;
    const text = buf.toString('utf8', p + 2, p + 2 + n);
    p += 2 + n;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const vhost = next();
    const name = next();
    if (vhost === undefined || name === undefined) return undefined;
    out.push({ vhost, name });
  }
  return p === end ? out : undefined;
}

/** Sizes worked out before reserving space in the write buffer. */
export interface MessageRecordPlan {
  readonly length: number;
  readonly properties: string;
  /** UTF-8 lengths of the exchange, the routing key and the properties JSON. */
  readonly exchangeBytes: number;
  readonly routingKeyBytes: number;
  readonly propertiesBytes: number;
}

export function planMessageRecord(content: MessageContent, queueCount: number, section: Buffer): MessageRecordPlan {
  const properties = propertiesJson(content.properties);
  const exchangeBytes = utf8Length(content.exchange);
  const routingKeyBytes = utf8Length(content.routingKey);
  const propertiesBytes = utf8Length(properties);
  const payload = M_FLAGS + queueCount + section.length + 12 + exchangeBytes + routingKeyBytes + propertiesBytes + contentSize(content);
  return { length: recordLength(payload), properties, exchangeBytes, routingKeyBytes, propertiesBytes };
}

/** Writes a whole message record, every queue's flags clear unless `flagsOf` gives them. */
export function writeMessageRecord(
  buf: Buffer,
  at: number,
  plan: MessageRecordPlan,
  id: number,
  publishedAt: number,
  content: MessageContent,
  queueCount: number,
  section: Buffer,
  flagsOf?: (index: number) => number,
): void {
  writeHeader(buf, at, RecordType.Message, plan.length - HEADER_SIZE - TRAILER_SIZE);
  const p = at + HEADER_SIZE;
  buf.writeDoubleLE(id, p + M_ID);
  buf.writeDoubleLE(publishedAt, p + M_PUBLISHED);
  const size = contentSize(content);
  buf.writeUInt32LE(size, p + M_SIZE);
  buf.writeUInt16LE(queueCount, p + M_QUEUE_COUNT);
  buf.writeUInt32LE(section.length, p + M_SECTION_LENGTH);
  let q = p + M_FLAGS;
  // Usually one flag byte: a loop, not a native fill.
  if (flagsOf) for (let index = 0; index < queueCount; index++) buf[q++] = flagsOf(index);
  else for (const end = q + queueCount; q < end; q++) buf[q] = 0;
  q += section.copy(buf, q);
  q = writeLongString(buf, q, content.exchange, plan.exchangeBytes);
  q = writeLongString(buf, q, content.routingKey, plan.routingKeyBytes);
  q = writeLongString(buf, q, plan.properties, plan.propertiesBytes);
  // A text body is encoded straight into the record: no byte copy of it ever exists in between.
  if (content instanceof TextContent) buf.write(content.text, q, size, 'utf8');
  else buf.set(content.body, q);
  sealRecord(buf, at);
}

const PRIORITY_PREFIX = Buffer.from('{"priority":', 'utf8');
const EXPIRATION_KEY = Buffer.from('"expiration":"', 'utf8');
const QUOTE = 0x22;
/** `expiration` is milliseconds; more digits than this is no TTL an edge accepts (ten years is 12). */
const MAX_EXPIRATION_DIGITS = 15;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COMMA = 0x2c;
const CLOSING_BRACE = 0x7d;

/**
 * A message record's priority, read from the start of its properties JSON (see `propertiesJson`)
 * without decoding it: what recovery needs to rebuild a priority queue's order. 0 when the properties
 * do not start with it: no priority, or a record written before priorities were acted on, whose
 * properties may hold it further in (such a message counts as priority 0 after the restart).
 */
export function readPriority(buf: Buffer, header: MessageHeader, payloadEnd: number): number {
  const json = propertiesAt(buf, header, payloadEnd);
  if (!json) return 0;
  const priority = readDigits(buf, json.start + 1, json.end, 1, PRIORITY_PREFIX);
  return priority && priority.digits <= 3 && isEndOfValue(buf[priority.end]) ? Math.min(priority.value, 255) : 0;
}

/**
 * A message record's `expiration` in milliseconds, read from just after `priority` (if any) at the
 * start of its properties JSON (see `propertiesJson`) without decoding it: what recovery needs to
 * expire it on time. Undefined when it has none, or for a record written before expiry was acted on,
 * whose properties may hold it further in (such a message keeps only its queue's TTL after a restart).
 */
export function readExpiration(buf: Buffer, header: MessageHeader, payloadEnd: number): number | undefined {
  const json = propertiesAt(buf, header, payloadEnd);
  if (!json) return undefined;
  let p = json.start + 1;
  const priority = readDigits(buf, json.start + 1, json.end, 1, PRIORITY_PREFIX);
  if (priority) {
    if (buf[priority.end] !== COMMA) return undefined;
    p = priority.end + 1;
  }
  const expiration = readDigits(buf, p, json.end, 0, EXPIRATION_KEY);
  return expiration && expiration.digits <= MAX_EXPIRATION_DIGITS && buf[expiration.end] === QUOTE ? expiration.value : undefined;
}

/** Where the properties JSON of a message record lies, past the exchange and the routing key. */
function propertiesAt(buf: Buffer, header: MessageHeader, payloadEnd: number): { start: number; end: number } | undefined {
  let p = header.sectionAt + header.sectionLength;
  // Past the exchange and the routing key, each a u32 length and its bytes.
  for (let skip = 0; skip < 2; skip++) {
    if (p + 4 > payloadEnd) return undefined;
    p += 4 + buf.readUInt32LE(p);
  }
  if (p + 4 > payloadEnd) return undefined;
  const end = Math.min(p + 4 + buf.readUInt32LE(p), payloadEnd);
  return buf[p + 4] === 0x7b ? { start: p + 4, end } : undefined;
}

/** `key` (from its byte `from` on) at `at`, then decimal digits: their value and where they end. */
function readDigits(
  buf: Buffer,
  at: number,
  end: number,
  from: number,
  key: Buffer,
): { value: number; digits: number; end: number } | undefined {
  const keyLength = key.length - from;
  if (end - at <= keyLength) return undefined;
  for (let i = 0; i < keyLength; i++) if (buf[at + i] !== key[from + i]) return undefined;
  let value = 0;
  let p = at + keyLength;
  for (; p < end && p - at - keyLength <= MAX_EXPIRATION_DIGITS; p++) {
    const c = buf[p] as number;
    if (c < DIGIT_0 || c > DIGIT_9) break;
    value = value * 10 + (c - DIGIT_0);
  }
  const digits = p - at - keyLength;
  return digits > 0 ? { value, digits, end: p } : undefined;
}

function isEndOfValue(c: number | undefined): boolean {
  return c === COMMA || c === CLOSING_BRACE;
}

function writeLongString(buf: Buffer, at: number, text: string, bytes: number): number {
  buf.writeUInt32LE(bytes, at);
  writeUtf8(buf, at + 4, text, bytes);
  return at + 4 + bytes;
}

/** The fixed part of a message record, read without touching the content. */
export interface MessageHeader {
  id: number;
  publishedAt: number;
  size: number;
  queueCount: number;
  /** Absolute offsets in the buffer. */
  flagsAt: number;
  sectionAt: number;
  sectionLength: number;
}

export function emptyMessageHeader(): MessageHeader {
  return { id: 0, publishedAt: 0, size: 0, queueCount: 0, flagsAt: 0, sectionAt: 0, sectionLength: 0 };
}

/** Fills `into` from the payload at `at`; false if the payload is malformed. */
export function readMessageHeader(buf: Buffer, at: number, payloadLength: number, into: MessageHeader): boolean {
  if (payloadLength < M_FLAGS) return false;
  const queueCount = buf.readUInt16LE(at + M_QUEUE_COUNT);
  const sectionLength = buf.readUInt32LE(at + M_SECTION_LENGTH);
  if (queueCount === 0 || M_FLAGS + queueCount + sectionLength > payloadLength) return false;
  into.id = buf.readDoubleLE(at + M_ID);
  into.publishedAt = buf.readDoubleLE(at + M_PUBLISHED);
  into.size = buf.readUInt32LE(at + M_SIZE);
  into.queueCount = queueCount;
  into.flagsAt = at + M_FLAGS;
  into.sectionAt = at + M_FLAGS + queueCount;
  into.sectionLength = sectionLength;
  return Number.isSafeInteger(into.id) && into.id > 0;
}

/** Offset of queue `index`'s flag byte from the start of a message record. */
export function refFlagOffset(index: number): number {
  return HEADER_SIZE + M_FLAGS + index;
}

/**
 * Reads the content back. The body gets its own memory: a view into the record buffer would keep the
 * whole record alive for as long as a consumer holds the body. A body that is UTF-8 text comes back as
 * text (`TextContent`), which is what a consumer will be sent anyway.
 */
export function decodeMessageContent(record: Buffer): { id: number; content: MessageContent } {
  const header = emptyMessageHeader();
  const payloadLength = record.readUInt32LE(4);
  if (record[1] !== RecordType.Message || !readMessageHeader(record, HEADER_SIZE, payloadLength, header)) {
    throw new Error('not a message record');
  }
  const end = HEADER_SIZE + payloadLength;
  let p = header.sectionAt + header.sectionLength;
  const readLong = (): string => {
    const n = record.readUInt32LE(p);
    if (p + 4 + n > end) throw new Error('message record truncated');
    const text = record.toString('utf8', p + 4, p + 4 + n);
    p += 4 + n;
    return text;
  };
  const exchange = readLong();
  const routingKey = readLong();
  const properties = JSON.parse(readLong()) as MessageProperties;
  if (end - p !== header.size) throw new Error('message record body length mismatch');
  const bytes = record.subarray(p, end);
  if (isUtf8(bytes)) {
    return { id: header.id, content: new TextContent(exchange, routingKey, properties, bytes.toString('utf8'), header.size) };
  }
  const body = new Uint8Array(header.size);
  body.set(bytes);
  return { id: header.id, content: { exchange, routingKey, properties, body } };
}

export function writeRefRecord(buf: Buffer, at: number, type: number, id: number, index: number): void {
  writeHeader(buf, at, type, REF_PAYLOAD);
  buf.writeDoubleLE(id, at + HEADER_SIZE);
  buf.writeUInt16LE(index, at + HEADER_SIZE + 8);
  sealRecord(buf, at);
}

/** A return (see RETURNED_PAYLOAD): `count` is the total so far, so recovery keeps the highest it reads. */
export function writeReturnedRecord(buf: Buffer, at: number, id: number, index: number, count: number): void {
  writeHeader(buf, at, RecordType.Delivered, RETURNED_PAYLOAD);
  buf.writeDoubleLE(id, at + HEADER_SIZE);
  buf.writeUInt16LE(index, at + HEADER_SIZE + 8);
  buf.writeUInt32LE(Math.min(count, 0xffffffff), at + HEADER_SIZE + 10);
  sealRecord(buf, at);
}

/** QueueDeleted payload: the queue's name as one entry of a queue section. */
export function writeQueueDeletedRecord(buf: Buffer, at: number, section: Buffer): void {
  writeHeader(buf, at, RecordType.QueueDeleted, section.length);
  section.copy(buf, at + HEADER_SIZE);
  sealRecord(buf, at);
}
