// Field tables as JSON and back: headers, and the arguments of declare, bind and consume. Inside the
// broker these are JSON values (the store persists them as JSON, headers exchanges match them, JSON
// WebSocket clients read them as they are), so every AMQP value gets a JSON form. Values JSON has a
// natural type for map to it; the others become a one-key object whose key names the type (`$bytes`,
// `$timestamp`, …), so that AMQP → JSON → AMQP gives back the same value. docs/protocol.md, "AMQP
// 0-9-1 messages seen from JSON", is the table a client reads.
import type { FieldTable, FieldValue } from './field-table.js';

/**
 * A JSON value. The broker's `HeaderValue` is the same type; it is spelled out here so that this
 * folder imports nothing from outside it.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The one-key objects that stand for values JSON cannot carry. */
export const VALUE_TAGS = {
  /** `"12.34"`: AMQP decimal, its scale the number of digits after the point. */
  decimal: '$decimal',
  /** Seconds since the epoch: a number, or a string above 2^53 − 1. */
  timestamp: '$timestamp',
  /** Base64: AMQP byte array (`x`). */
  bytes: '$bytes',
  /** Base64: a long string whose bytes are not UTF-8. */
  longstr: '$longstr',
  /** A string of digits (or a safe integer): a signed 64-bit integer (`l`). */
  int64: '$int64',
  /** `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"`, or any number: a double (`d`). */
  double: '$double',
  /** An object taken as a table key for key, for a table whose one key is itself a tag name. */
  table: '$table',
} as const;

const TAG_NAMES: ReadonlySet<string> = new Set(Object.values(VALUE_TAGS));

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT32_MAX = 0xffffffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;
const INT64_TEXT = /^-?[0-9]{1,19}$/;
const UINT64_TEXT = /^[0-9]{1,20}$/;

// fatal: bytes that are not UTF-8 must be noticed, not replaced; ignoreBOM keeps a leading BOM as text.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** RabbitMQ's own header: its entries' `count` is a long and `time` a timestamp on the AMQP side. */
const X_DEATH = 'x-death';

// --- AMQP → JSON ------------------------------------------------------------------------------

/** A table as a JSON object, key for key (`x-death` entries' `time` becomes plain seconds). */
export function tableToJson(table: FieldTable): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of table) {
    setKey(out, key, key === X_DEATH && value.type === 'array' ? deathsToJson(value.value) : valueToJson(value));
  }
  return out;
}

export function valueToJson(v: FieldValue): JsonValue {
  switch (v.type) {
    case 'bool':
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return v.value;
    case 'int64':
      return v.value >= MIN_SAFE && v.value <= MAX_SAFE ? Number(v.value) : { [VALUE_TAGS.int64]: v.value.toString() };
    case 'float':
    case 'double':
      return Number.isFinite(v.value) && !Object.is(v.value, -0) ? v.value : { [VALUE_TAGS.double]: Object.is(v.value, -0) ? '-0' : String(v.value) };
    case 'decimal':
      return { [VALUE_TAGS.decimal]: decimalText(v.value.scale, v.value.value) };
    case 'longstr':
      return longstrToJson(v.value);
    case 'bytes':
      return { [VALUE_TAGS.bytes]: base64(v.value) };
    case 'array':
      return arrayToJson(v.value);
    case 'timestamp':
      return { [VALUE_TAGS.timestamp]: v.value <= MAX_SAFE ? Number(v.value) : v.value.toString() };
    case 'table':
      return nestedTableToJson(v.value);
    case 'void':
      return null;
  }
}

function arrayToJson(values: readonly FieldValue[]): JsonValue[] {
  const out: JsonValue[] = new Array<JsonValue>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = valueToJson(values[i] as FieldValue);
  return out;
}

/** A table inside a value; one whose only key is a tag name is wrapped, or it would read back as that tag. */
function nestedTableToJson(table: FieldTable): JsonValue {
  const out = tableToJson(table);
  if (table.size === 1) {
    const [key] = table.keys();
    if (key !== undefined && TAG_NAMES.has(key)) return { [VALUE_TAGS.table]: out };
  }
  return out;
}

function longstrToJson(bytes: Uint8Array): JsonValue {
  try {
    return UTF8.decode(bytes);
  } catch {
    return { [VALUE_TAGS.longstr]: base64(bytes) };
  }
}

/** `x-death` as the broker keeps it (dead-letter.ts): `time` in plain seconds, like the deaths it records itself. */
function deathsToJson(values: readonly FieldValue[]): JsonValue[] {
  const out: JsonValue[] = new Array<JsonValue>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as FieldValue;
    out[i] = v.type === 'table' ? deathToJson(v.value) : valueToJson(v);
  }
  return out;
}

function deathToJson(entry: FieldTable): JsonObject {
  const out = tableToJson(entry);
  const time = entry.get('time');
  if (time?.type === 'timestamp' && time.value <= MAX_SAFE) out.time = Number(time.value);
  return out;
}

// --- JSON → AMQP ------------------------------------------------------------------------------

/**
 * A JSON object as a table, in its key order; `x-death` gets RabbitMQ's types (see `deathToTable`).
 * A key longer than a shortstr's 255 bytes, which a JSON publisher can send, cannot go on the wire: it
 * is left out rather than failing every delivery of the message.
 */
export function jsonToTable(json: Readonly<JsonObject>): Map<string, FieldValue> {
  const out = new Map<string, FieldValue>();
  for (const key of Object.keys(json)) {
    // 85 UTF-16 units are at most 255 UTF-8 bytes, so only longer keys are measured.
    if (key.length > 85 && Buffer.byteLength(key, 'utf8') > 255) continue;
    const value = json[key] as JsonValue;
    out.set(key, key === X_DEATH && Array.isArray(value) ? deathsToField(value) : jsonToValue(value));
  }
  return out;
}

export function jsonToValue(json: JsonValue): FieldValue {
  switch (typeof json) {
    case 'string':
      return { type: 'longstr', value: Buffer.from(json, 'utf8') };
    case 'boolean':
      return { type: 'bool', value: json };
    case 'number':
      return numberToField(json);
    default:
      if (json === null) return { type: 'void' };
      if (Array.isArray(json)) return arrayToField(json);
      return objectToField(json);
  }
}

/**
 * Integers go as a signed 32-bit `I` when they fit, else a signed 64-bit `l`: what pika, the Java and
 * .NET clients send for an int, and a type every client reads as an integer. Fractions and integers
 * past 2^53 (which a JSON number holds only as a double) go as a double.
 */
function numberToField(n: number): FieldValue {
  if (!Number.isSafeInteger(n)) return { type: 'double', value: n };
  if (n >= INT32_MIN && n <= INT32_MAX) return { type: 'int32', value: n };
  return { type: 'int64', value: BigInt(n) };
}

function arrayToField(values: readonly JsonValue[]): FieldValue {
  const out: FieldValue[] = new Array<FieldValue>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = jsonToValue(values[i] as JsonValue);
  return { type: 'array', value: out };
}

function objectToField(json: Readonly<JsonObject>): FieldValue {
  const keys = Object.keys(json);
  if (keys.length === 1) {
    const key = keys[0] as string;
    if (key.charCodeAt(0) === 0x24 /* $ */) {
      const tagged = taggedToField(key, json[key] as JsonValue);
      if (tagged) return tagged;
    }
  }
  return { type: 'table', value: jsonToTable(json) };
}

/** The value a tag stands for; undefined when the payload does not fit the tag (the object is then a plain table). */
function taggedToField(tag: string, payload: JsonValue): FieldValue | undefined {
  switch (tag) {
    case VALUE_TAGS.decimal:
      return typeof payload === 'string' ? decimalField(payload) : undefined;
    case VALUE_TAGS.timestamp:
      return timestampField(payload);
    case VALUE_TAGS.bytes:
      return typeof payload === 'string' && BASE64.test(payload) ? { type: 'bytes', value: Buffer.from(payload, 'base64') } : undefined;
    case VALUE_TAGS.longstr:
      return typeof payload === 'string' && BASE64.test(payload) ? { type: 'longstr', value: Buffer.from(payload, 'base64') } : undefined;
    case VALUE_TAGS.int64:
      return int64Field(payload);
    case VALUE_TAGS.double:
      return doubleField(payload);
    case VALUE_TAGS.table:
      return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? { type: 'table', value: jsonToTable(payload) } : undefined;
    default:
      return undefined;
  }
}

function decimalField(text: string): FieldValue | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const fraction = m[2] ?? '';
  const digits = (m[1] as string) + fraction;
  // Leading zeros carry no value but may be many ("0.000…1"); the value itself must fit 32 bits.
  const significant = digits.replace(/^0+(?=.)/, '');
  if (fraction.length > 255 || significant.length > 10) return undefined;
  const value = Number(significant);
  return value <= UINT32_MAX ? { type: 'decimal', value: { scale: fraction.length, value } } : undefined;
}

function timestampField(payload: JsonValue): FieldValue | undefined {
  if (typeof payload === 'number') return Number.isSafeInteger(payload) && payload >= 0 ? { type: 'timestamp', value: BigInt(payload) } : undefined;
  if (typeof payload !== 'string' || !UINT64_TEXT.test(payload)) return undefined;
  const value = BigInt(payload);
  return value <= UINT64_MAX ? { type: 'timestamp', value } : undefined;
}

function int64Field(payload: JsonValue): FieldValue | undefined {
  if (typeof payload === 'number') return Number.isSafeInteger(payload) ? { type: 'int64', value: BigInt(payload) } : undefined;
  if (typeof payload !== 'string' || !INT64_TEXT.test(payload)) return undefined;
  const value = BigInt(payload);
  return value >= INT64_MIN && value <= INT64_MAX ? { type: 'int64', value } : undefined;
}

function doubleField(payload: JsonValue): FieldValue | undefined {
  if (typeof payload === 'number') return { type: 'double', value: payload };
  switch (payload) {
    case 'NaN':
      return { type: 'double', value: NaN };
    case 'Infinity':
      return { type: 'double', value: Infinity };
    case '-Infinity':
      return { type: 'double', value: -Infinity };
    case '-0':
      return { type: 'double', value: -0 };
    default:
      return undefined;
  }
}

/** `x-death` with RabbitMQ's types: in each entry `count` a long and `time` a timestamp, the rest as usual. */
function deathsToField(values: readonly JsonValue[]): FieldValue {
  const out: FieldValue[] = new Array<FieldValue>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as JsonValue;
    out[i] = typeof v === 'object' && v !== null && !Array.isArray(v) ? { type: 'table', value: deathToTable(v) } : jsonToValue(v);
  }
  return { type: 'array', value: out };
}

function deathToTable(entry: Readonly<JsonObject>): Map<string, FieldValue> {
  const out = jsonToTable(entry);
  const count = entry.count;
  if (typeof count === 'number' && Number.isSafeInteger(count)) out.set('count', { type: 'int64', value: BigInt(count) });
  const time = entry.time;
  if (typeof time === 'number' && Number.isSafeInteger(time) && time >= 0) out.set('time', { type: 'timestamp', value: BigInt(time) });
  return out;
}

// --- helpers ----------------------------------------------------------------------------------

/** `out[key] = value`, except that a key `__proto__` becomes an own property rather than the prototype. */
function setKey(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** value × 10^−scale written out with exactly `scale` digits after the point, so the scale survives. */
function decimalText(scale: number, value: number): string {
  if (scale === 0) return String(value);
  const digits = String(value).padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
