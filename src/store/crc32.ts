import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (the zlib / IEEE 802.3 one, so every record's checksum is what `zlib.crc32` gives) of
 * `buf[start, end)`. Every message costs three records — the message, its first delivery, its
 * settlement — and the two small ones are 22 bytes: calling into zlib costs a view of the range and a
 * native call, about 250 ns, where this loop takes 50. Past a few hundred bytes zlib is faster.
 */
export function crc32(buf: Uint8Array, start: number, end: number): number {
  return end - start <= JS_LIMIT ? crc32Js(buf, start, end) : zlibCrc32(buf.subarray(start, end));
}

/** Where the table-driven loop stops being cheaper than zlib's call (measured: even at ~370 bytes). */
const JS_LIMIT = 384;

/** Slicing-by-8 tables: TABLE[k * 256 + n] is the CRC of byte n followed by k zero bytes. */
const TABLE = makeTable();

function makeTable(): Int32Array {
  const table = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (table[c & 0xff] as number) ^ (c >>> 8);
      table[k * 256 + n] = c;
    }
  }
  return table;
}

function crc32Js(buf: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= (buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24);
    c =
      (t[1792 + (c & 0xff)] as number) ^
      (t[1536 + ((c >>> 8) & 0xff)] as number) ^
      (t[1280 + ((c >>> 16) & 0xff)] as number) ^
      (t[1024 + (c >>> 24)] as number) ^
      (t[768 + (buf[i + 4] as number)] as number) ^
      (t[512 + (buf[i + 5] as number)] as number) ^
      (t[256 + (buf[i + 6] as number)] as number) ^
      (t[buf[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
