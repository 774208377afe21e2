// Content headers as a channel receives them: a publisher's headers usually differ from the previous one
// only in the body size (often not even that), so the properties decoded from the previous header are
// returned again when the property bytes are the same. The first of each is decoded, and every error
// reported, by decodeContentHeader.
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

  decode(payload: Buffer): ContentHeader | AmqpError {
    const propertyBytes = payload.length - FIXED_BYTES;
    const last = this.lastProperties;
    if (last !== undefined && propertyBytes === this.lastLength && payload[0] === 0 && payload[1] === BASIC_CLASS_ID) {
      const high = payload.readUInt32BE(4);
      if (high <= MAX_SAFE_HIGH_WORD && sameBytes(payload, this.lastBytes, propertyBytes)) {
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
}

function sameBytes(payload: Buffer, remembered: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (payload[FIXED_BYTES + i] !== remembered[i]) return false;
  return true;
}
