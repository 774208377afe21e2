// AMQP 0-9-1 basic properties to Warren's protocol-neutral `MessageProperties` and back, at the AMQP
// edge: on every publish and on every delivery, get-ok and return. Field tables become JSON values
// (header-values.ts). Follows RabbitMQ 3.10.8's rabbit_channel/rabbit_basic, checked against a running
// broker; see docs/protocol.md, "AMQP 0-9-1 messages seen from JSON".
import { BrokerError } from '../../../broker/errors.js';
import type { MessageProperties } from '../../../broker/message.js';
import { jsonToTable, tableToJson, type JsonObject } from '../header-values.js';
import type { FieldValue } from '../field-table.js';
import type { BasicProperties } from '../spec/methods.js';

export { jsonToTable, tableToJson, VALUE_TAGS } from '../header-values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** RabbitMQ's `rabbit_misc:check_expiry` limit: ten years of milliseconds. */
const MAX_EXPIRATION_MS = 315_360_000_000n;
/** What `MessageProperties.expiration` (and the broker's expiry parser) takes as is. */
const CANONICAL_EXPIRATION = /^[0-9]{1,12}$/;
const MAX_TIMESTAMP = BigInt(Number.MAX_SAFE_INTEGER);
const DELIVERY_COUNT = 'x-delivery-count';

/**
 * The properties of a basic.publish, as the broker keeps them. Absent properties stay absent. Refuses,
 * with RabbitMQ's 406 and reply text, an `expiration` that is not an integer from 0 to ten years of
 * milliseconds (`invalid expiration '…': …`) and a `deliveryMode` other than 1 or 2 (`invalid message:
 * {delivery_mode_unknown,N}`), in that order, as rabbit_channel checks them. `cluster-id` (reserved by 0-9-1)
 * has no place in Warren's message: AMQP consumers get it back with the publisher's own content header
 * (see AmqpContent), JSON consumers never see it. The user-id check belongs to the channel, which knows the user.
 */
export function propertiesFromAmqp(p: BasicProperties): MessageProperties {
  // Checked before anything is built, in rabbit_channel's order; the result keeps the spec's order.
  const expiration = p.expiration === undefined ? undefined : validExpiration(p.expiration);
  const deliveryMode = p.deliveryMode === undefined ? undefined : validDeliveryMode(p.deliveryMode);
  const out: Mutable<MessageProperties> = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  if (p.headers !== undefined) out.headers = tableToJson(p.headers);
  if (deliveryMode !== undefined) out.deliveryMode = deliveryMode;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = p.correlationId;
  if (p.replyTo !== undefined) out.replyTo = p.replyTo;
  if (expiration !== undefined) out.expiration = expiration;
  if (p.messageId !== undefined) out.messageId = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = validTimestamp(p.timestamp);
  if (p.type !== undefined) out.type = p.type;
  if (p.userId !== undefined) out.userId = p.userId;
  if (p.appId !== undefined) out.appId = p.appId;
  return out;
}

/**
 * propertiesFromAmqp for one channel's publishes: the content header decoder hands back the same
 * BasicProperties object for a header whose property bytes repeat, and the (immutable) properties mapped
 * from it are then reused rather than mapped again.
 */
export class PublishedProperties {
  private from: BasicProperties | undefined;
  private to: MessageProperties = {};

  map(p: BasicProperties): MessageProperties {
    if (p === this.from) return this.to;
    const to = propertiesFromAmqp(p);
    this.from = p;
    this.to = to;
    return to;
  }
}

/**
 * The properties a delivery, get-ok or return carries. With `deliveryCount > 0` the headers get
 * `x-delivery-count` (a long), last, replacing a publisher's own, as the JSON protocol does
 * (wire-message.ts) and RabbitMQ's quorum queues do. A string property or header key longer than the
 * wire's 255 bytes, which a JSON publisher can send, is left out.
 */
export function propertiesToAmqp(props: MessageProperties, deliveryCount: number): BasicProperties {
  const out: Mutable<BasicProperties> = {};
  if (props.contentType !== undefined && isShortstr(props.contentType)) out.contentType = props.contentType;
  if (props.contentEncoding !== undefined && isShortstr(props.contentEncoding)) out.contentEncoding = props.contentEncoding;
  if (deliveryCount > 0) out.headers = headersWithDeliveryCount(props.headers, deliveryCount);
  else if (props.headers !== undefined) out.headers = jsonToTable(props.headers);
  if (props.deliveryMode !== undefined) out.deliveryMode = props.deliveryMode;
  if (props.priority !== undefined) out.priority = props.priority;
  if (props.correlationId !== undefined && isShortstr(props.correlationId)) out.correlationId = props.correlationId;
  if (props.replyTo !== undefined && isShortstr(props.replyTo)) out.replyTo = props.replyTo;
  if (props.expiration !== undefined && isShortstr(props.expiration)) out.expiration = props.expiration;
  if (props.messageId !== undefined && isShortstr(props.messageId)) out.messageId = props.messageId;
  if (props.timestamp !== undefined) out.timestamp = BigInt(props.timestamp);
  if (props.type !== undefined && isShortstr(props.type)) out.type = props.type;
  if (props.userId !== undefined && isShortstr(props.userId)) out.userId = props.userId;
  if (props.appId !== undefined && isShortstr(props.appId)) out.appId = props.appId;
  return out;
}

/**
 * The JSON protocol bounds these properties at 255 characters, which can be up to 765 UTF-8 bytes; the
 * wire's shortstr holds 255. One that does not fit is left out rather than failing every delivery.
 */
function isShortstr(s: string): boolean {
  return s.length <= 85 || Buffer.byteLength(s, 'utf8') <= 255;
}

function headersWithDeliveryCount(headers: Readonly<JsonObject> | undefined, count: number): Map<string, FieldValue> {
  const out = headers === undefined ? new Map<string, FieldValue>() : jsonToTable(headers);
  // Deleted first so that the count goes last, wherever the publisher had put its own.
  out.delete(DELIVERY_COUNT);
  out.set(DELIVERY_COUNT, { type: 'int64', value: BigInt(count) });
  return out;
}

function validDeliveryMode(mode: number): 1 | 2 {
  if (mode === 1 || mode === 2) return mode;
  // rabbit_basic:is_message_persistent throws, and rabbit_channel reports it as an invalid message.
  throw new BrokerError('PRECONDITION_FAILED', `invalid message: {delivery_mode_unknown,${mode}}`);
}

/**
 * Warren keeps timestamps as JSON numbers; one past 2^53 − 1 seconds (some 285 million years) could not
 * come back as sent, so it is refused rather than rounded. RabbitMQ passes any 64-bit value.
 */
function validTimestamp(timestamp: bigint): number {
  if (timestamp > MAX_TIMESTAMP) {
    throw new BrokerError('PRECONDITION_FAILED', `invalid timestamp ${timestamp}: Warren keeps timestamps up to 2^53 - 1 seconds`);
  }
  return Number(timestamp);
}

/**
 * `expiration` checked as rabbit_basic:parse_expiration does: Erlang's string:to_integer (an optional
 * sign, ASCII digits, nothing after), then 0 ≤ N ≤ ten years in ms. The broker reads only plain digits,
 * so a value RabbitMQ accepts in another spelling ("+5", "-0", fifteen digits with leading zeros) is
 * kept as its plain digits ("5", "0", …); RabbitMQ would pass the original string on.
 */
function validExpiration(expiration: string): string {
  // Twelve digits are exact as a double: the common case costs no BigInt.
  if (CANONICAL_EXPIRATION.test(expiration) && Number(expiration) <= Number(MAX_EXPIRATION_MS)) return expiration;
  let i = 0;
  const sign = expiration.charCodeAt(0);
  if (sign === 0x2b /* + */ || sign === 0x2d /* - */) i = 1;
  let end = i;
  while (end < expiration.length && isDigit(expiration.charCodeAt(end))) end++;
  if (end === i) throw invalidExpiration(expiration, 'no_integer');
  const n = BigInt(expiration.slice(0, end));
  if (end < expiration.length) throw invalidExpiration(expiration, ['leftover_string', erlangString(expiration.slice(end))]);
  if (n < 0n) throw invalidExpiration(expiration, ['value_negative', n.toString()]);
  if (n > MAX_EXPIRATION_MS) throw invalidExpiration(expiration, ['value_too_large', n.toString()]);
  return n.toString();
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** rabbit_channel's `"invalid expiration '~s': ~p"`, the reason laid out as `~p` lays it out (`pretty`). */
function invalidExpiration(expiration: string, reason: string | readonly [string, string]): BrokerError {
  const prefix = `invalid expiration '${expiration}': `;
  return new BrokerError('PRECONDITION_FAILED', prefix + (typeof reason === 'string' ? reason : pretty(reason[0], reason[1], column(prefix))));
}

/**
 * `{Tag,Value}` as Erlang's io_lib_pretty prints it at 0-based `col` on an 80-column line, for a value
 * it cannot break (a number, a string; a list of byte values is taken as one piece, where Erlang would
 * break a list too long for its line further). On one line when it fits, or when the value can start
 * after the tag early enough on the line; else the value goes on the next line, indented 4 columns when
 * that leaves room (or is within the line's first half), else 1. Checked against erl and RabbitMQ.
 */
function pretty(tag: string, value: string, col: number): string {
  const flat = `{${tag},${value}}`;
  const len = Buffer.byteLength(flat, 'utf8');
  const col1 = col + 1;
  const afterTag = col1 + tag.length + 2;
  if (len < 80 - col1 || len + afterTag < 80 || afterTag < 40) return flat;
  const indent = len + col1 + 4 <= 80 || col1 + 4 <= 40 ? 4 : 1;
  return `{${tag},\n${' '.repeat(col + indent)}${value}}`;
}

/** Where the output stands after `text`, as io_lib_format counts: bytes (Erlang sees latin-1), tabs to the next multiple of 8. */
function column(text: string): number {
  let col = 0;
  for (const b of Buffer.from(text, 'utf8')) col = b === 10 ? 0 : b === 9 ? (col + 8) & ~7 : col + 1;
  return col;
}

/**
 * An Erlang list of the string's UTF-8 bytes as `~p` prints it: a quoted string when every byte is
 * printable latin-1 (Erlang's default printable range), else a list of integers.
 */
function erlangString(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  let printable = true;
  for (const b of bytes) {
    if (!((b >= 32 && b <= 126) || b >= 160 || (b >= 8 && b <= 13) || b === 27)) {
      printable = false;
      break;
    }
  }
  if (!printable) return `[${bytes.join(',')}]`;
  const parts: string[] = ['"'];
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    const escape = ERLANG_ESCAPES[bytes[i] as number];
    if (escape === undefined) continue;
    parts.push(bytes.subarray(from, i).toString('utf8'), escape);
    from = i + 1;
  }
  parts.push(bytes.subarray(from).toString('utf8'), '"');
  return parts.join('');
}

const ERLANG_ESCAPES: Readonly<Record<number, string>> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  27: '\\e',
  34: '\\"',
  92: '\\\\',
};
