// Bounds-checked big-endian reads over one payload. Every read past the end throws Malformed, which the
// public decoders turn into a typed 502 SYNTAX_ERROR; Buffer's own RangeErrors are never relied on.
import { Malformed } from './errors.js';

// Fatal, so a shortstr is either exact UTF-8 or refused: a lossy decode would turn bytes into U+FFFD,
// which would neither round-trip nor, at 3 bytes each, always fit back into 255. ignoreBOM keeps a
// leading U+FEFF as part of the string.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class WireReader {
  private pos: number;
  readonly buf: Buffer;

  constructor(bytes: Uint8Array, start = 0, private readonly end = bytes.byteLength) {
    this.buf = asBuffer(bytes);
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): number {
    if (n > this.end - this.pos) {
      throw new Malformed('SYNTAX_ERROR', `${what} needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  octet(): number {
    return this.buf[this.need(1, 'octet')] ?? 0;
  }
  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'));
  }
  short(): number {
    return this.buf.readUInt16BE(this.need(2, 'short'));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'));
  }
  long(): number {
    return this.buf.readUInt32BE(this.need(4, 'long'));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'));
  }
  longlong(): bigint {
    return this.buf.readBigUInt64BE(this.need(8, 'longlong'));
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8, 'int64'));
  }
  float(): number {
    return this.buf.readFloatBE(this.need(4, 'float'));
  }
  double(): number {
    return this.buf.readDoubleBE(this.need(8, 'double'));
  }
  /** A view into the payload, not a copy. */
  bytes(n: number, what: string): Buffer {
    const at = this.need(n, what);
    return this.buf.subarray(at, at + n);
  }
  shortstr(): string {
    const bytes = this.bytes(this.octet(), 'shortstr');
    try {
      return utf8.decode(bytes);
    } catch {
      throw new Malformed('SYNTAX_ERROR', `shortstr is not valid UTF-8: ${bytes.toString('hex').slice(0, 40)}`);
    }
  }
  longstr(): Buffer {
    return this.bytes(this.long(), 'longstr');
  }
}

/** Grows by doubling; one writer per encoded frame, so a frame is built with one final copy at most. */
export class WireWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get offset(): number {
    return this.pos;
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  octet(v: number): void {
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  int8(v: number): void {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
  }
  short(v: number): void {
    const at = this.room(2);
    this.buf.writeUInt16BE(v, at);
  }
  int16(v: number): void {
    const at = this.room(2);
    this.buf.writeInt16BE(v, at);
  }
  long(v: number): void {
    const at = this.room(4);
    this.buf.writeUInt32BE(v, at);
  }
  int32(v: number): void {
    const at = this.room(4);
    this.buf.writeInt32BE(v, at);
  }
  longlong(v: bigint): void {
    const at = this.room(8);
    this.buf.writeBigUInt64BE(v, at);
  }
  int64(v: bigint): void {
    const at = this.room(8);
    this.buf.writeBigInt64BE(v, at);
  }
  float(v: number): void {
    const at = this.room(4);
    this.buf.writeFloatBE(v, at);
  }
  double(v: number): void {
    const at = this.room(8);
    this.buf.writeDoubleBE(v, at);
  }
  bytes(v: Uint8Array): void {
    const at = this.room(v.byteLength);
    this.buf.set(v, at);
  }
  /** Reserves a 4-byte length to be filled by patchLong once the sized part is written. */
  reserveLong(): number {
    return this.room(4);
  }
  patchLong(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }
  patchShort(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }
  /** The written bytes; a view of the writer's buffer, valid until the writer is used again. */
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
