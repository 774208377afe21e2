/**
 * Body codecs that run the same in Node and in browsers (no Buffer): UTF-8 through the global
 * TextEncoder/TextDecoder, base64 through a table codec over bytes.
 */
import type { BodyEncoding } from './frames.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
/** byte value → ASCII code of its base64 digit */
const ENCODE = new Uint8Array(64);
/** ASCII code → digit value, 255 = not a base64 digit */
const DECODE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) {
  const c = ALPHABET.charCodeAt(i);
  ENCODE[i] = c;
  DECODE[c] = i;
}
// Accept the URL-safe alphabet as well when decoding.
DECODE[45] = 62; // '-'
DECODE[95] = 63; // '_'

export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Invalid sequences become U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function encodeBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  const whole = n - (n % 3);
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = ENCODE[v >>> 18] as number;
    out[o++] = ENCODE[(v >>> 12) & 63] as number;
    out[o++] = ENCODE[(v >>> 6) & 63] as number;
    out[o++] = ENCODE[v & 63] as number;
  }
  if (n - whole === 1) {
    const v = bytes[whole] as number;
    out[o++] = ENCODE[v >>> 2] as number;
    out[o++] = ENCODE[(v & 3) << 4] as number;
    out[o++] = PAD;
    out[o] = PAD;
  } else if (n - whole === 2) {
    const v = ((bytes[whole] as number) << 8) | (bytes[whole + 1] as number);
    out[o++] = ENCODE[v >>> 10] as number;
    out[o++] = ENCODE[(v >>> 4) & 63] as number;
    out[o++] = ENCODE[(v & 15) << 2] as number;
    out[o] = PAD;
  }
  // All bytes are ASCII, so UTF-8 decoding is the identity (and native-fast).
  return utf8Decoder.decode(out);
}

/** Decodes standard (or URL-safe) base64, padded or not. Throws on any other character. */
export function decodeBase64(text: string): Uint8Array {
  const src = utf8Encoder.encode(text);
  let len = src.length;
  while (len > 0 && src[len - 1] === PAD) len--;
  if (src.length - len > 2 || len % 4 === 1) throw new Error('invalid base64 length');
  const out = new Uint8Array((len * 3) >>> 2);
  const whole = len - (len % 4);
  let o = 0;
  let bad = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = DECODE[src[i] as number] as number;
    const b = DECODE[src[i + 1] as number] as number;
    const c = DECODE[src[i + 2] as number] as number;
    const d = DECODE[src[i + 3] as number] as number;
    bad |= a | b | c | d;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 255;
    out[o++] = v & 255;
  }
  const rest = len - whole;
  if (rest >= 2) {
    const a = DECODE[src[whole] as number] as number;
    const b = DECODE[src[whole + 1] as number] as number;
    bad |= a | b;
    out[o++] = ((a << 2) | (b >>> 4)) & 255;
    if (rest === 3) {
      const c = DECODE[src[whole + 2] as number] as number;
      bad |= c;
      out[o] = ((b << 4) | (c >>> 2)) & 255;
    }
  }
  // Valid digits are < 64; 255 marks anything else, so any bad digit sets a bit above 63.
  if (bad > 63) throw new Error('invalid base64 character');
  return out;
}

/** The bytes of a body as it travels in a frame. */
export function decodeBody(body: string, encoding: BodyEncoding | undefined): Uint8Array {
  return encoding === 'base64' ? decodeBase64(body) : utf8Encoder.encode(body);
}
