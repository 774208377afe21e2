/**
 * Which messages an operator means when browsing, moving or retrying a queue's messages (`peek`,
 * `move`, `retry-dead-letters`): every condition given must hold; none given matches everything.
 */
import type { HeaderValue, Headers, MessageContent } from './message.js';
import { TextContent } from './message.js';
import type { Message } from './message.js';

export interface MessageFilterSpec {
  /** A glob over the whole routing key: `*` any run of characters (dots too), `?` one, `\` escapes. */
  readonly routingKey?: string | undefined;
  /** Each header equal to this value (JSON equality: the same type and value, arrays and tables by content). */
  readonly headers?: Readonly<Headers> | undefined;
  /** The body contains these bytes (the text's UTF-8). */
  readonly payloadContains?: string | undefined;
  /** `x-first-death-reason` is this. */
  readonly firstDeathReason?: string | undefined;
  /**
   * At least this many milliseconds since the broker accepted the message (a dead letter: since it was
   * dead-lettered, as the copy was made then; a moved message: since it was moved).
   */
  readonly olderThanMs?: number | undefined;
  /** Fewer than this many milliseconds since then. */
  readonly youngerThanMs?: number | undefined;
}

/**
 * A filter ready to test messages. The age is known without the content, so a caller can pass over the
 * messages it rules out before reading any content back from disk.
 */
export class MessageFilter {
  private readonly glob: Glob | undefined;
  private readonly needle: Uint8Array | undefined;

  constructor(private readonly spec: MessageFilterSpec = {}) {
    this.glob = spec.routingKey === undefined ? undefined : new Glob(spec.routingKey);
    this.needle = spec.payloadContains === undefined ? undefined : new TextEncoder().encode(spec.payloadContains);
  }

  /** Whether the message's age lets it match (`now` in ms since the epoch). */
  matchesAge(message: Message, now: number): boolean {
    const age = now - message.publishedAt;
    const { olderThanMs, youngerThanMs } = this.spec;
    return (olderThanMs === undefined || age >= olderThanMs) && (youngerThanMs === undefined || age < youngerThanMs);
  }

  /** Whether the content matches everything but the age. */
  matchesContent(content: MessageContent): boolean {
    const { headers, firstDeathReason } = this.spec;
    if (this.glob && !this.glob.matches(content.routingKey)) return false;
    const own = content.properties.headers ?? {};
    if (firstDeathReason !== undefined && own['x-first-death-reason'] !== firstDeathReason) return false;
    if (headers) for (const [name, value] of Object.entries(headers)) if (!sameValue(own[name], value)) return false;
    if (this.needle && !contains(content, this.needle, this.spec.payloadContains ?? '')) return false;
    return true;
  }
}

function sameValue(a: HeaderValue | undefined, b: HeaderValue): boolean {
  if (a === undefined) return false;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

function contains(content: MessageContent, needle: Uint8Array, text: string): boolean {
  // A body that arrived as text is searched as text: no encoding per message.
  if (content instanceof TextContent) return content.text.includes(text);
  const body = content.body;
  if (needle.length === 0) return true;
  const first = needle[0];
  outer: for (let i = body.indexOf(first as number); i >= 0 && i + needle.length <= body.length; i = body.indexOf(first as number, i + 1)) {
    for (let k = 1; k < needle.length; k++) if (body[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

type GlobToken = { readonly kind: 'any' } | { readonly kind: 'one' } | { readonly kind: 'char'; readonly char: string };

/**
 * A shell-style glob, matched without regular expressions: the greedy two-pointer walk, which falls back
 * only to the last `*`, so no pattern can make it backtrack exponentially (routing keys are ≤ 255 bytes).
 */
export class Glob {
  private readonly tokens: GlobToken[] = [];

  constructor(pattern: string) {
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (c === '\\' && i + 1 < chars.length) this.tokens.push({ kind: 'char', char: chars[++i] as string });
      else if (c === '*') this.tokens.push({ kind: 'any' });
      else if (c === '?') this.tokens.push({ kind: 'one' });
      else this.tokens.push({ kind: 'char', char: c });
    }
  }

  matches(text: string): boolean {
    const chars = [...text];
    const tokens = this.tokens;
    let t = 0;
    let c = 0;
    let star = -1;
    let starAt = 0;
    while (c < chars.length) {
      const token = tokens[t];
      if (token && (token.kind === 'one' || (token.kind === 'char' && token.char === chars[c]))) {
        t++;
        c++;
      } else if (token?.kind === 'any') {
        star = t++;
        starAt = c;
      } else if (star >= 0) {
        t = star + 1;
        c = ++starAt;
      } else return false;
    }
    while (tokens[t]?.kind === 'any') t++;
    return t === tokens.length;
  }
}
