// Field tables and arrays with every value type RabbitMQ uses (its errata list, not the 0-9-1 spec's
// own tags). Values are tagged so that a decode/encode round trip gives back the same bytes: a JS
// number alone cannot say whether it was an int8 or an int32, nor a string whether it was valid UTF-8.
import { AmqpEncodeError, Malformed } from './errors.js';
import type { WireReader, WireWriter } from './wire-reader.js';

export type FieldValue =
  | { readonly type: 'bool'; readonly value: boolean } // t
  | { readonly type: 'int8'; readonly value: number } // b
  | { readonly type: 'uint8'; readonly value: number } // B
  | { readonly type: 'int16'; readonly value: number } // s
  | { readonly type: 'uint16'; readonly value: number } // u
  | { readonly type: 'int32'; readonly value: number } // I
  | { readonly type: 'uint32'; readonly value: number } // i
  | { readonly type: 'int64'; readonly value: bigint } // l
  | { readonly type: 'float'; readonly value: number } // f
  | { readonly type: 'double'; readonly value: number } // d
  | { readonly type: 'decimal'; readonly value: Decimal } // D
  | { readonly type: 'longstr'; readonly value: Uint8Array } // S
  | { readonly type: 'bytes'; readonly value: Uint8Array } // x
  | { readonly type: 'array'; readonly value: readonly FieldValue[] } // A
  | { readonly type: 'timestamp'; readonly value: bigint } // T
  | { readonly type: 'table'; readonly value: FieldTable } // F
  | { readonly type: 'void' }; // V

/** value × 10^-scale; RabbitMQ reads the value as an unsigned 32-bit integer. */
export interface Decimal {
  readonly scale: number;
  readonly value: number;
}

/** Insertion-ordered, so encoding preserves the order the peer sent; a repeated key keeps its last value. */
export type FieldTable = ReadonlyMap<string, FieldValue>;

export type FieldType = FieldValue['type'];

const TAG_OF = {
  bool: 't',
  int8: 'b',
  uint8: 'B',
  int16: 's',
  uint16: 'u',
  int32: 'I',
  uint32: 'i',
  int64: 'l',
  float: 'f',
  double: 'd',
  decimal: 'D',
  longstr: 'S',
  bytes: 'x',
  array: 'A',
  timestamp: 'T',
  table: 'F',
  void: 'V',
} as const satisfies Record<FieldType, string>;

export const FIELD_TAGS: Readonly<Record<FieldType, string>> = TAG_OF;

const CODE = (tag: string): number => tag.charCodeAt(0);

// Nesting is bounded so a hostile peer cannot exhaust the stack with "F F F F ..." inside one frame.
const MAX_DEPTH = 64;

export function readTable(r: WireReader, depth = 0): FieldTable {
  const len = r.long();
  if (len > r.remaining) throw new Malformed('SYNTAX_ERROR', `field table length ${len} runs past the payload`);
  const end = r.offset + len;
  const table = new Map<string, FieldValue>();
  while (r.offset < end) {
    const key = r.shortstr();
    table.set(key, readValue(r, depth + 1, end));
  }
  if (r.offset !== end) throw new Malformed('SYNTAX_ERROR', 'field table entry runs past the table length');
  return table;
}

function readArray(r: WireReader, depth: number): FieldValue[] {
  const len = r.long();
  if (len > r.remaining) throw new Malformed('SYNTAX_ERROR', `field array length ${len} runs past the payload`);
  const end = r.offset + len;
  const values: FieldValue[] = [];
  while (r.offset < end) values.push(readValue(r, depth + 1, end));
  if (r.offset !== end) throw new Malformed('SYNTAX_ERROR', 'field array entry runs past the array length');
  return values;
}

function readValue(r: WireReader, depth: number, end: number): FieldValue {
  if (depth > MAX_DEPTH) throw new Malformed('SYNTAX_ERROR', `field tables nested deeper than ${MAX_DEPTH}`);
  if (r.offset >= end) throw new Malformed('SYNTAX_ERROR', 'field value missing its type tag');
  const tag = r.octet();
  let v: FieldValue;
  switch (tag) {
    case CODE('t'):
      v = { type: 'bool', value: r.octet() !== 0 };
      break;
    case CODE('b'):
      v = { type: 'int8', value: r.int8() };
      break;
    case CODE('B'):
      v = { type: 'uint8', value: r.octet() };
      break;
    case CODE('s'):
      v = { type: 'int16', value: r.int16() };
      break;
    case CODE('u'):
      v = { type: 'uint16', value: r.short() };
      break;
    case CODE('I'):
      v = { type: 'int32', value: r.int32() };
      break;
    case CODE('i'):
      v = { type: 'uint32', value: r.long() };
      break;
    case CODE('l'):
      v = { type: 'int64', value: r.int64() };
      break;
    case CODE('f'):
      v = { type: 'float', value: r.float() };
      break;
    case CODE('d'):
      v = { type: 'double', value: r.double() };
      break;
    case CODE('D'): {
      const scale = r.octet();
      v = { type: 'decimal', value: { scale, value: r.long() } };
      break;
    }
    case CODE('S'):
      v = { type: 'longstr', value: r.longstr() };
      break;
    case CODE('x'):
      v = { type: 'bytes', value: r.longstr() };
      break;
    case CODE('A'):
      v = { type: 'array', value: readArray(r, depth) };
      break;
    case CODE('T'):
      v = { type: 'timestamp', value: r.longlong() };
      break;
    case CODE('F'):
      v = { type: 'table', value: readTable(r, depth) };
      break;
    case CODE('V'):
      v = { type: 'void' };
      break;
    default:
      throw new Malformed('SYNTAX_ERROR', `unknown field value type 0x${tag.toString(16).padStart(2, '0')}`);
  }
  if (r.offset > end) throw new Malformed('SYNTAX_ERROR', 'field value runs past its table');
  return v;
}

export function writeTable(w: WireWriter, table: FieldTable): void {
  const at = w.reserveLong();
  for (const [key, value] of table) {
    writeShortstr(w, key);
    writeValue(w, value);
  }
  w.patchLong(at, w.offset - at - 4);
}

export function writeShortstr(w: WireWriter, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > 255) throw new AmqpEncodeError(`shortstr of ${bytes.length} bytes exceeds 255: ${s.slice(0, 40)}…`);
  w.octet(bytes.length);
  w.bytes(bytes);
}

function writeValue(w: WireWriter, v: FieldValue): void {
  w.octet(CODE(TAG_OF[v.type]));
  switch (v.type) {
    case 'bool':
      return w.octet(v.value ? 1 : 0);
    case 'int8':
      return w.int8(v.value);
    case 'uint8':
      return w.octet(v.value);
    case 'int16':
      return w.int16(v.value);
    case 'uint16':
      return w.short(v.value);
    case 'int32':
      return w.int32(v.value);
    case 'uint32':
      return w.long(v.value);
    case 'int64':
      return w.int64(v.value);
    case 'float':
      return w.float(v.value);
    case 'double':
      return w.double(v.value);
    case 'decimal':
      w.octet(v.value.scale);
      return w.long(v.value.value);
    case 'longstr':
    case 'bytes':
      w.long(v.value.byteLength);
      return w.bytes(v.value);
    case 'array': {
      const at = w.reserveLong();
      for (const item of v.value) writeValue(w, item);
      return w.patchLong(at, w.offset - at - 4);
    }
    case 'timestamp':
      return w.longlong(v.value);
    case 'table':
      return writeTable(w, v.value);
    case 'void':
      return;
  }
}
