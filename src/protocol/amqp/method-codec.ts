// Decodes and encodes every method of the spec by walking the generated METHOD_TABLE, so the wire layout
// (argument order, wire types, bit packing) is the spec's and nothing is hand-copied per method.
import { amqpError, AmqpEncodeError, Malformed, type AmqpError } from './errors.js';
import { readTable, writeShortstr, writeTable, type FieldTable } from './field-table.js';
import { FRAME_END, FRAME_METHOD } from './frame-constants.js';
import { METHOD_TABLE, type AmqpMethod } from './spec/methods.js';
import { WireReader, WireWriter } from './wire-reader.js';

export type MethodSpec = (typeof METHOD_TABLE)[number];
export type MethodName = AmqpMethod['method'];
export type MethodOf<N extends MethodName> = Extract<AmqpMethod, { readonly method: N }>;

const key = (classId: number, methodId: number): number => (classId << 16) | methodId;
const BY_ID = new Map<number, MethodSpec>(METHOD_TABLE.map((m) => [key(m.classId, m.methodId), m]));
const BY_NAME = new Map<string, MethodSpec>(METHOD_TABLE.map((m) => [m.name, m]));
const CLASS_IDS = new Set<number>(METHOD_TABLE.map((m) => m.classId));

export function methodSpec(name: MethodName): MethodSpec {
  const spec = BY_NAME.get(name);
  if (!spec) throw new Error(`no such method ${name}`); // unreachable: MethodName comes from the same table
  return spec;
}

export function methodSpecById(classId: number, methodId: number): MethodSpec | undefined {
  return BY_ID.get(key(classId, methodId));
}

/** Decodes a method frame's payload. Unknown class or method → 540; malformed arguments → 502. */
export function decodeMethod(payload: Uint8Array): AmqpMethod | AmqpError {
  // A method's arguments that cannot be decoded are a frame error, as RabbitMQ raises it (rabbit_reader:
  // "cannot decode"), whatever the fault: truncated, too long, a bad table, a bad string.
  if (payload.byteLength < 4) return amqpError('FRAME_ERROR', `method frame of ${payload.byteLength} bytes has no class/method id`);
  const r = new WireReader(payload);
  const classId = r.short();
  const methodId = r.short();
  const spec = BY_ID.get(key(classId, methodId));
  if (!spec) {
    const what = CLASS_IDS.has(classId) ? `unknown method ${methodId} of class ${classId}` : `unknown class ${classId}`;
    return amqpError('NOT_IMPLEMENTED', what, classId, methodId);
  }
  try {
    const out: Record<string, unknown> = { method: spec.name };
    let bits = 0;
    let bit = 8; // 8 = no octet of packed bits is open
    for (const arg of spec.args) {
      if (arg.type === 'bit') {
        if (bit === 8) {
          bits = r.octet();
          bit = 0;
        }
        out[arg.field] = (bits & (1 << bit)) !== 0;
        bit++;
        continue;
      }
      bit = 8;
      out[arg.field] = readArg(r, arg.type);
    }
    if (r.remaining !== 0) {
      return amqpError('FRAME_ERROR', `${r.remaining} bytes after the arguments of ${spec.name}`, classId, methodId);
    }
    // The object was built from the same generated table the AmqpMethod union was generated from.
    return out as unknown as AmqpMethod;
  } catch (e) {
    if (e instanceof Malformed) return amqpError('FRAME_ERROR', `cannot decode ${spec.name}: ${e.detail}`, classId, methodId);
    throw e;
  }
}

/** Every non-bit wire type the spec defines (timestamp is used by no method argument today, only properties). */
type ArgType = 'octet' | 'short' | 'long' | 'longlong' | 'timestamp' | 'shortstr' | 'longstr' | 'table';

function readArg(r: WireReader, type: ArgType): unknown {
  switch (type) {
    case 'octet':
      return r.octet();
    case 'short':
      return r.short();
    case 'long':
      return r.long();
    case 'longlong':
    case 'timestamp':
      return r.longlong();
    case 'shortstr':
      return r.shortstr();
    case 'longstr':
      return r.longstr();
    case 'table':
      return readTable(r);
  }
}

/** Encodes a method as one complete frame (header, payload, frame-end). Throws AmqpEncodeError for
 * values the wire cannot carry. */
export function encodeMethodFrame(channel: number, method: AmqpMethod): Buffer {
  const w = new WireWriter(128);
  w.octet(FRAME_METHOD);
  w.short(channel);
  const sizeAt = w.reserveLong();
  writeMethodPayload(w, method);
  w.patchLong(sizeAt, w.offset - sizeAt - 4);
  w.octet(FRAME_END);
  return Buffer.from(w.result());
}

/** Encodes just the payload (class id, method id, arguments) of a method frame. */
export function encodeMethodPayload(method: AmqpMethod): Buffer {
  const w = new WireWriter(64);
  writeMethodPayload(w, method);
  return Buffer.from(w.result());
}

function writeMethodPayload(w: WireWriter, method: AmqpMethod): void {
  const spec = methodSpec(method.method);
  // Arguments are looked up by the table's field names; the union's interfaces use the same names.
  const values = method as unknown as Readonly<Record<string, unknown>>;
  w.short(spec.classId);
  w.short(spec.methodId);
  let bits = 0;
  let bit = 8;
  const flush = (): void => {
    if (bit !== 8) w.octet(bits);
    bits = 0;
    bit = 8;
  };
  for (const arg of spec.args) {
    const v = values[arg.field];
    if (arg.type === 'bit') {
      if (bit === 8) bit = 0;
      if (v === true) bits |= 1 << bit;
      else if (v !== false) throw new AmqpEncodeError(`${spec.name}.${arg.field} must be a boolean`);
      bit++;
      if (bit === 8) {
        w.octet(bits);
        bits = 0;
      }
      continue;
    }
    flush();
    writeArg(w, arg.type, v, `${spec.name}.${arg.field}`);
  }
  flush();
}

function writeArg(w: WireWriter, type: ArgType, v: unknown, what: string): void {
  switch (type) {
    case 'octet':
      return w.octet(uint(v, 0xff, what));
    case 'short':
      return w.short(uint(v, 0xffff, what));
    case 'long':
      return w.long(uint(v, 0xffffffff, what));
    case 'longlong':
    case 'timestamp':
      if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new AmqpEncodeError(`${what} must be a bigint in 0..2^64-1`);
      return w.longlong(v);
    case 'shortstr':
      if (typeof v !== 'string') throw new AmqpEncodeError(`${what} must be a string`);
      return writeShortstr(w, v);
    case 'longstr':
      if (!(v instanceof Uint8Array)) throw new AmqpEncodeError(`${what} must be a Uint8Array`);
      w.long(v.byteLength);
      return w.bytes(v);
    case 'table':
      if (!(v instanceof Map)) throw new AmqpEncodeError(`${what} must be a field table (Map)`);
      return writeTable(w, v as FieldTable);
  }
}

function uint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new AmqpEncodeError(`${what} must be an integer in 0..${max}`);
  }
  return v;
}
