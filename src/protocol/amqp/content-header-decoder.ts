// Content headers as a channel receives them: a publisher's headers usually differ from the previous one
// only in the body size (often not even that), so the properties decoded from the previous header are
// returned again when the property bytes are the same, and the copy kept of the previous header is kept
// again when all its bytes are. The first of each is decoded, and every error reported, by
// decodeContentHeader.
import { decodeContentHeader, type ContentHeader } from './content.js';
import type { AmqpError } from './errors.js';
import { BASIC_CLASS_ID, type BasicProperties } from './spec/methods.js';

/** class id (2), weight (2), body size (8): what precedes the property flags. */
const FIXED_BYTES = 12;
/** Property bytes beyond this are decoded every time rather than remembered. */
const REMEMBERED_MAX = 256;
/** Body sizes above 2^53 - 1 are refused by decodeContentHeader; the high word of a safe size is below 2^21. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

export class ContentHeaderDecoder {
  private readonly lastBytes = Buffer.alloc(REMEMBERED_MAX);
  private lastLength = -1;
  private lastProperties: BasicProperties | undefined;
  private lastKept: Buffer = Buffer.alloc(0);

  decode(payload: Buffer): ContentHeader | AmqpError {
    const propertyBytes = payload.length - FIXED_BYTES;
    const last = this.lastProperties;
    if (last !== undefined && propertyBytes === this.lastLength && payload[0] === 0 && payload[1] === BASIC_CLASS_ID) {
      const high = payload.readUInt32BE(4);
      if (high <= MAX_SAFE_HIGH_WORD && sameBytes(payload, FIXED_BYTES, this.lastBytes, 0, propertyBytes)) {
        return { classId: BASIC_CLASS_ID, weight: payload.readUInt16BE(2), bodySize: high * 0x1_0000_0000 + payload.readUInt32BE(8), properties: last };
      }
    }
    const header = decodeContentHeader(payload);
    if ('kind' in header || propertyBytes > REMEMBERED_MAX) return header;
    payload.copy(this.lastBytes, 0, FIXED_BYTES);
    this.lastLength = propertyBytes;
    this.lastProperties = header.properties;
    return header;
  }

  /**
   * A copy of `payload` that is no view into a socket chunk (so a message can keep it): the copy made for
   * the previous header when the bytes are the same. Never written to once made.
   */
  keep(payload: Buffer): Buffer {
    const kept = this.lastKept;
    if (kept.length === payload.length && sameBytes(payload, 0, kept, 0, kept.length)) return kept;
    const copy = Buffer.from(payload);
    if (payload.length <= REMEMBERED_MAX + FIXED_BYTES) this.lastKept = copy;
    return copy;
  }
}

function sameBytes(a: Buffer, aAt: number, b: Buffer, bAt: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}
