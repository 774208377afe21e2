const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random server-chosen name such as `amq.gen-3Fk…` or `amq.ctag-…`: 22 URL-safe characters, 132 bits. */
export function serverName(prefix: string): string {
  const bytes = new Uint8Array(22);
  globalThis.crypto.getRandomValues(bytes);
  let out = prefix;
  for (const byte of bytes) out += ALPHABET[byte & 63];
  return out;
}
