// Content header frames (class id, weight, body size, property flags and properties) and body frames.
import { amqpError, AmqpEncodeError, Malformed, type AmqpError } from './errors.js';
import { readTable, writeShortstr, writeTable } from './field-table.js';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_OVERHEAD } from './frame-constants.js';
import { encodeFrame } from './frame-writer.js';
import { BASIC_CLASS_ID, BASIC_PROPERTY_TABLE, type BasicProperties } from './spec/methods.js';
import { WireReader, WireWriter } from './wire-reader.js';

export interface ContentHeader {
  readonly classId: number;
  /** Unused by 0-9-1 and always 0 when we send; kept as received so a round trip is exact. */
  readonly weight: number;
  readonly bodySize: number;
  readonly properties: BasicProperties;
}

// Property i of the spec's list is flagged by bit 15 - i of the first 16-bit flag word; bit 0 of each
// word says another flag word follows, which 0-9-1 (14 properties) never needs.
const flagOf = (i: number): number => 1 << (15 - i);
const KNOWN_FLAGS = BASIC_PROPERTY_TABLE.reduce((all, _p, i) => all | flagOf(i), 0);

export function decodeContentHeader(payload: Uint8Array): ContentHeader | AmqpError {
  const r = new WireReader(payload);
  try {
    const classId = r.short();
    const weight = r.short();
    const size = r.longlong();
    if (classId !== BASIC_CLASS_ID) return amqpError('NOT_IMPLEMENTED', `content header for class ${classId}; only basic carries content`, classId);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed('SYNTAX_ERROR', `body size ${size} is too large`);
    const flags = r.short();
    if ((flags & ~KNOWN_FLAGS) !== 0) {
      throw new Malformed('SYNTAX_ERROR', `property flags 0x${flags.toString(16)} name properties basic does not have`);
    }
    const props: Record<string, unknown> = {};
    BASIC_PROPERTY_TABLE.forEach((p, i) => {
      if ((flags & flagOf(i)) === 0) return;
      switch (p.type) {
        case 'shortstr':
          props[p.field] = r.shortstr();
          break;
        case 'octet':
          props[p.field] = r.octet();
          break;
        case 'timestamp':
          props[p.field] = r.longlong();
          break;
        case 'table':
          props[p.field] = readTable(r);
          break;
      }
    });
    if (r.remaining !== 0) throw new Malformed('SYNTAX_ERROR', `${r.remaining} bytes after the content header's properties`);
    // Built from BASIC_PROPERTY_TABLE, generated from the same spec as the BasicProperties interface.
    return { classId, weight, bodySize: Number(size), properties: props as BasicProperties };
  } catch (e) {
    if (e instanceof Malformed) return amqpError(e.name, `content header: ${e.detail}`, BASIC_CLASS_ID);
    throw e;
  }
}

export function encodeContentHeaderFrame(channel: number, bodySize: number, properties: BasicProperties, classId: number = BASIC_CLASS_ID): Buffer {
  if (!Number.isSafeInteger(bodySize) || bodySize < 0) throw new AmqpEncodeError(`body size ${bodySize} is not a whole number of bytes`);
  const w = new WireWriter(128);
  w.octet(FRAME_HEADER);
  w.short(channel);
  const sizeAt = w.reserveLong();
  w.short(classId);
  w.short(0);
  w.longlong(BigInt(bodySize));
  const flagsAt = w.offset;
  w.short(0);
  let flags = 0;
  const values = properties as Readonly<Record<string, unknown>>;
  BASIC_PROPERTY_TABLE.forEach((p, i) => {
    const v = values[p.field];
    if (v === undefined) return;
    flags |= flagOf(i);
    const what = `basic property ${p.field}`;
    switch (p.type) {
      case 'shortstr':
        if (typeof v !== 'string') throw new AmqpEncodeError(`${what} must be a string`);
        return writeShortstr(w, v);
      case 'octet':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) throw new AmqpEncodeError(`${what} must be an integer in 0..255`);
        return w.octet(v);
      case 'timestamp':
        if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new AmqpEncodeError(`${what} must be a bigint in 0..2^64-1`);
        return w.longlong(v);
      case 'table':
        if (!(v instanceof Map)) throw new AmqpEncodeError(`${what} must be a field table (Map)`);
        return writeTable(w, v);
    }
  });
  w.patchShort(flagsAt, flags);
  w.patchLong(sizeAt, w.offset - sizeAt - 4);
  w.octet(FRAME_END);
  return Buffer.from(w.result());
}

/** Splits a body into body frames no larger than frameMax (whole frame, 0 = no limit). An empty body
 * gives no frames: the header's size of 0 already says the content is complete. */
export function encodeBodyFrames(channel: number, body: Uint8Array, frameMax: number): Buffer[] {
  const room = frameMax > 0 ? frameMax - FRAME_OVERHEAD : body.byteLength;
  if (room <= 0 && body.byteLength > 0) throw new AmqpEncodeError(`frame_max ${frameMax} leaves no room for a body`);
  const frames: Buffer[] = [];
  for (let at = 0; at < body.byteLength; at += room) {
    frames.push(encodeFrame(FRAME_BODY, channel, body.subarray(at, at + room)));
  }
  return frames;
}
