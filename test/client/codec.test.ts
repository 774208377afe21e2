import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBody, decodeUtf8, encodeBase64, encodeUtf8 } from '../../src/client/codec.js';

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
  return bytes;
}

const nodeBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('base64', () => {
  it('round-trips random bytes of every length remainder', () => {
    for (let n = 0; n < 300; n++) {
      const bytes = randomBytes(n);
      const text = encodeBase64(bytes);
      expect(text).toBe(nodeBase64(bytes));
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it('round-trips a large body', () => {
    const bytes = randomBytes(1 << 20);
    const text = encodeBase64(bytes);
    expect(text === nodeBase64(bytes)).toBe(true);
    expect(Buffer.compare(decodeBase64(text), bytes)).toBe(0);
  });

  it('handles empty input', () => {
    expect(encodeBase64(new Uint8Array(0))).toBe('');
    expect(decodeBase64('')).toEqual(new Uint8Array(0));
  });

  it('matches known vectors (RFC 4648)', () => {
    const vectors: Array<[string, string]> = [
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase64(encodeUtf8(plain))).toBe(encoded);
      expect(decodeUtf8(decodeBase64(encoded))).toBe(plain);
    }
  });

  it('accepts unpadded and URL-safe input', () => {
    expect(decodeUtf8(decodeBase64('Zm9vYg'))).toBe('foob');
    expect(decodeBase64('-_8')).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it('rejects invalid input', () => {
    expect(() => decodeBase64('Zm9v!')).toThrow();
    expect(() => decodeBase64('Z')).toThrow();
    expect(() => decodeBase64('Zm9v====')).toThrow();
    expect(() => decodeBase64('Zm é')).toThrow();
  });
});

describe('utf8', () => {
  it('round-trips non-ASCII text', () => {
    for (const text of ['', 'hello', 'héllo wörld', '日本語テキスト', '🐇 emoji 🎉', '\u0000\u007f\u0080\u07ff\u0800\uffff']) {
      const bytes = encodeUtf8(text);
      expect(bytes).toEqual(new Uint8Array(Buffer.from(text, 'utf8')));
      expect(decodeUtf8(bytes)).toBe(text);
      expect(decodeUtf8(decodeBase64(encodeBase64(bytes)))).toBe(text);
    }
  });

  it('decodes bodies by their frame encoding', () => {
    expect(decodeUtf8(decodeBody('héllo', 'utf8'))).toBe('héllo');
    expect(decodeUtf8(decodeBody('héllo', undefined))).toBe('héllo');
    expect(decodeBody('AAEC/w==', 'base64')).toEqual(new Uint8Array([0, 1, 2, 255]));
  });
});
