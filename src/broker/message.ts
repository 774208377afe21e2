/**
 * The protocol-neutral message. Each protocol (the WebSocket JSON frames, the REST publish, the store)
 * converts to and from this shape at its own edge.
 */
import type { MessageProperties } from './message-properties.js';

export type { HeaderValue, Headers, MessageProperties } from './message-properties.js';

/** What a publisher sent: everything a consumer receives besides the delivery's own fields. */
export interface MessageContent {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  readonly body: Uint8Array;
}

/**
 * Content whose body arrived as (well-formed) text, as most bodies sent over the JSON protocol do. It
 * keeps the string: sending it on as text, or writing it to the store, needs no byte copy per message;
 * `body` encodes the bytes only for whoever asks for them.
 */
export class TextContent implements MessageContent {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: MessageProperties,
    readonly text: string,
    /** The body's length in UTF-8 bytes, measured by whoever made it. */
    readonly size: number,
  ) {}

  get body(): Uint8Array {
    return new TextEncoder().encode(this.text);
  }
}

/** Body length in bytes, without encoding a text body. */
export function contentSize(content: MessageContent): number {
  return content instanceof TextContent ? content.size : content.body.length;
}

/** Reads back the content of a message whose content was released from memory (the message store). */
export interface ContentLoader {
  load(message: Message): MessageContent;
}

/** Timestamps are kept relative to this, so they fit V8's small integers instead of a boxed double each. */
const TIME_BASE = Date.now();

/**
 * A message inside the broker. Its content may be released from memory once the store holds it, so a
 * long backlog costs a few dozen bytes a message; `content` reads it back when a consumer needs it.
 * Every field counts a million times over in a backlog, hence the packing below.
 */
export class Message {
  /** Where the store keeps it; opaque to the broker. */
  storeRef: unknown = undefined;
  /** Set by a queue that is long enough that this message should not keep its content in memory. */
  evictable = false;
  /** The content while it is in memory, else what reads it back. */
  private source: MessageContent | ContentLoader | undefined;
  private readonly publishedDelta: number;

  constructor(
    /** Broker-wide unique and increasing; the store keys records by it, and queues order by it. */
    readonly id: number,
    readonly persistent: boolean,
    /** Body length in bytes, known even when the body is not in memory. */
    readonly size: number,
    /** Milliseconds since the epoch when the broker accepted it. */
    publishedAt: number,
    content: MessageContent | undefined,
    loader?: ContentLoader,
  ) {
    this.publishedDelta = publishedAt - TIME_BASE;
    this.source = content ?? loader;
  }

  static create(id: number, content: MessageContent, publishedAt = Date.now()): Message {
    return new Message(id, isPersistent(content.properties), contentSize(content), publishedAt, content);
  }

  get publishedAt(): number {
    return TIME_BASE + this.publishedDelta;
  }

  /** Its position in any queue: ids increase in publish order (see `QueueEntry.seq`). */
  get seq(): number {
    return this.id;
  }

  get inMemory(): boolean {
    return this.source !== undefined && !isLoader(this.source);
  }

  /** The content, read back from the store if it was released (not cached again, to keep memory bounded). */
  get content(): MessageContent {
    const source = this.source;
    if (source === undefined) throw new Error(`message ${this.id} has no content and no loader`);
    return isLoader(source) ? source.load(this) : source;
  }

  /** Lets the content go from memory; `loader` can read it back. */
  release(loader: ContentLoader): void {
    this.source = loader;
  }

  get exchange(): string {
    return this.content.exchange;
  }

  get routingKey(): string {
    return this.content.routingKey;
  }

  get properties(): MessageProperties {
    return this.content.properties;
  }

  get body(): Uint8Array {
    return this.content.body;
  }
}

function isLoader(source: MessageContent | ContentLoader): source is ContentLoader {
  return typeof (source as ContentLoader).load === 'function';
}

export function isPersistent(properties: MessageProperties): boolean {
  return properties.deliveryMode === 2;
}
