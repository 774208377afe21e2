const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random server-chosen name such as `amq.gen-3Fk…` or `amq.ctag-…`: 22 URL-safe characters, 132 bits. */
export function serverName(prefix: string): string {
  const bytes = new Uint8Array(22);
  globalThis.crypto.getRandomValues(bytes);
  let out = prefix;
  for (const byte of bytes) out += ALPHABET[byte & 63];
  return out;
}

/** AMQP short strings: at most 255 bytes. */
const MAX_NAME_BYTES = 255;
// C0 controls and DEL: never part of a sensible name, and NUL cuts names short in C tools and logs.
const CONTROL = /[\u0000-\u001f\u007f]/;

export type NamedKind = 'vhost' | 'exchange' | 'queue' | 'user' | 'policy';

/**
 * Why `name` cannot name a new object of this kind, or undefined when it can. Every way in (the wire,
 * the REST API, an import) reaches this through the domain, so the rule holds everywhere.
 */
export function nameProblem(kind: NamedKind, name: string): string | undefined {
  if (name === '' && kind !== 'exchange' && kind !== 'queue') return `${kind} name must not be empty`;
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) return `${kind} name is longer than ${MAX_NAME_BYTES} bytes`;
  if (CONTROL.test(name)) return `${kind} name must not contain control characters`;
  return undefined;
}
