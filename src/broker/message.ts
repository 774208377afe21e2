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

/**
 * Reads back the contents of messages whose content was released from memory (the message store). The
 * broker reads ahead of each queue's head with `load`, so a delivery never waits for the disk on the
 * event loop.
 */
export interface ContentLoader {
  /**
   * The contents of `messages`, in order, read without blocking the event loop. A content that cannot be
   * read (a damaged record, a closed store) comes back undefined, and the loader logs why; it never rejects.
   */
  load(messages: readonly Message[]): Promise<Array<MessageContent | undefined>>;
}

/** A read of released contents in flight; every message it covers points at it until it completes. */
class PendingRead {
  done: Promise<void> = Promise.resolve();
  constructor(readonly loader: ContentLoader) {}
}

/** A content read back ahead of its delivery, and the loader that can read it again once it is let go. */
class ReadBack {
  constructor(
    readonly content: MessageContent,
    readonly loader: ContentLoader,
  ) {}
}

type ContentSource = MessageContent | ContentLoader | PendingRead | ReadBack;

/** Reactions to it run at the end of the current task (the next microtask checkpoint). */
const TASK_END = Promise.resolve();

/** Timestamps are kept relative to this, so they fit V8's small integers instead of a boxed double each. */
const TIME_BASE = Date.now();

/**
 * `Message.flags` bits: booleans share one field, as every field costs 8 bytes a message in a backlog.
 * The last three say what `source` holds, so the delivery path tests a bit instead of the source's type.
 */
const PERSISTENT = 1;
const EVICTABLE = 2;
/** `source` is the content, or a `ReadBack` of it. */
const IN_MEMORY = 4;
/** `source` is a `ReadBack`. */
const READ_BACK = 8;
/** The content could not be read back (`source` is the loader): a queue drops the message when it reaches the head. */
const UNREADABLE = 16;
/** It has an `expiration` property: queues read the content for it only then, off the fan-out hot path. */
const HAS_EXPIRATION = 32;
/** Some queue handed it to a consumer or a basic.get (see `handedOut`). */
const HANDED_OUT = 64;
/** The AMQP priority (0–255) sits in bits 8–15: a priority queue needs it even while the content is released. */
const PRIORITY_SHIFT = 8;

/**
 * A message inside the broker. Its content may be released from memory once the store holds it, so a
 * long backlog costs a few dozen bytes a message; queues read it back ahead of delivery (`readBack`).
 * `content` only ever returns what is in memory: nothing here reads the disk on the spot. Every field
 * counts a million times over in a backlog, hence the packing below.
 */
export class Message {
  /** Where the store keeps it; opaque to the broker. */
  storeRef: unknown = undefined;
  /**
   * What a protocol edge derived from the content for delivery (its encoded frame part), shared by every
   * delivery of this message within the current task: a publish routed to several queues reaches all
   * their waiting consumers synchronously, so the edge encodes it once. The broker never reads it and
   * empties it at the end of the task, so a message left in a backlog or awaiting its ack keeps nothing.
   */
  private edgeEncoding: unknown = undefined;
  /** The content while it is in memory, else what reads it back (or a read in flight). */
  private source: ContentSource | undefined;
  private readonly publishedDelta: number;
  private flags: number;

  constructor(
    /** Broker-wide unique and increasing; the store keys records by it, and queues order by it. */
    readonly id: number,
    persistent: boolean,
    /** Body length in bytes, known even when the body is not in memory. */
    readonly size: number,
    /** Milliseconds since the epoch when the broker accepted it. */
    publishedAt: number,
    content: MessageContent | undefined,
    loader?: ContentLoader,
    /** A recovered stub has no content to read it from: the store passes what it recorded. */
    priority: number = content?.properties.priority ?? 0,
  ) {
    this.publishedDelta = publishedAt - TIME_BASE;
    this.flags =
      (persistent ? PERSISTENT : 0) |
      (content ? IN_MEMORY : 0) |
      (content?.properties.expiration !== undefined ? HAS_EXPIRATION : 0) |
      ((priority & 0xff) << PRIORITY_SHIFT);
    this.source = content ?? loader;
  }

  static create(id: number, content: MessageContent, publishedAt = Date.now()): Message {
    return new Message(id, isPersistent(content.properties), contentSize(content), publishedAt, content);
  }

  /**
   * Starts reading back the released contents among `messages` (those in memory, being read or
   * unreadable are left alone), one `load` per loader. Resolves once each is in memory or marked
   * unreadable; undefined when there was nothing to read.
   */
  static readBack(messages: Iterable<Message>): Promise<void> | undefined {
    const byLoader = new Map<ContentLoader, Message[]>();
    for (const message of messages) {
      const loader = message.loaderIfReleased();
      if (!loader) continue;
      const group = byLoader.get(loader);
      if (group) group.push(message);
      else byLoader.set(loader, [message]);
    }
    if (byLoader.size === 0) return undefined;
    const reads: Promise<void>[] = [];
    for (const [loader, group] of byLoader) reads.push(Message.startRead(loader, group));
    return reads.length === 1 ? reads[0] : Promise.all(reads).then(() => undefined);
  }

  /**
   * The contents of `messages`, read back where released, without keeping them (showing messages
   * without touching them). Undefined for one that cannot be read.
   */
  static async contentsOf(messages: readonly Message[]): Promise<Array<MessageContent | undefined>> {
    const out = messages.map((message) => (message.inMemory ? message.content : undefined));
    const byLoader = new Map<ContentLoader, number[]>();
    messages.forEach((message, i) => {
      const loader = out[i] === undefined ? message.loaderIfNotInMemory() : undefined;
      if (!loader) return;
      const positions = byLoader.get(loader);
      if (positions) positions.push(i);
      else byLoader.set(loader, [i]);
    });
    await Promise.all(
      [...byLoader].map(async ([loader, positions]) => {
        const contents = await loader.load(positions.map((i) => messages[i] as Message));
        positions.forEach((at, k) => (out[at] = contents[k]));
      }),
    );
    return out;
  }

  get persistent(): boolean {
    return (this.flags & PERSISTENT) !== 0;
  }

  /** Set by a queue that is long enough that this message should not keep its content in memory. */
  get evictable(): boolean {
    return (this.flags & EVICTABLE) !== 0;
  }

  set evictable(evictable: boolean) {
    this.flags = evictable ? this.flags | EVICTABLE : this.flags & ~EVICTABLE;
  }

  /**
   * Some queue has handed the message to a consumer or a basic.get. Queues deliver a stored message
   * before its record is on disk; if that write then fails, a message nobody received is refused (its
   * publish answered with an error), but one that was handed out is kept and written again, since
   * telling its publisher "not stored" would bring it back as a duplicate.
   */
  get handedOut(): boolean {
    return (this.flags & HANDED_OUT) !== 0;
  }

  markHandedOut(): void {
    this.flags |= HANDED_OUT;
  }

  /** The `priority` property (0 when it had none), known even when the content is not in memory. */
  get priority(): number {
    return (this.flags >>> PRIORITY_SHIFT) & 0xff;
  }

  /** Whether it was published with an `expiration` (known only while its content was: a recovered stub says no). */
  get hasExpiration(): boolean {
    return (this.flags & HAS_EXPIRATION) !== 0;
  }

  get publishedAt(): number {
    return TIME_BASE + this.publishedDelta;
  }

  /** Its position in any queue: ids increase in publish order (see `QueueEntry.seq`). */
  get seq(): number {
    return this.id;
  }

  /** Whether `content` may be read now. */
  get inMemory(): boolean {
    return (this.flags & IN_MEMORY) !== 0;
  }

  /** The read bringing its content back, while one is in flight. */
  get reading(): Promise<void> | undefined {
    return this.source instanceof PendingRead ? this.source.done : undefined;
  }

  /** Its content could not be read back: it can never be delivered. */
  get unreadable(): boolean {
    return (this.flags & UNREADABLE) !== 0;
  }

  /** The content, which must be in memory: a released one is read back first (`readBack`). */
  get content(): MessageContent {
    if ((this.flags & IN_MEMORY) === 0) throw new Error(`message ${this.id}: its content is not in memory`);
    return this.flags & READ_BACK ? (this.source as ReadBack).content : (this.source as MessageContent);
  }

  /** Lets the content go from memory; `loader` can read it back. */
  release(loader: ContentLoader): void {
    this.source = loader;
    this.flags &= ~(IN_MEMORY | READ_BACK | UNREADABLE);
  }

  /** Lets go of a content read back ahead of delivery, once delivered: only read-ahead windows hold such contents. */
  dropReadBack(): void {
    if (this.flags & READ_BACK) this.release((this.source as ReadBack).loader);
  }

  /** A detached copy with `content` in memory, to show this message without reading it back into it. */
  holding(content: MessageContent): Message {
    return new Message(this.id, this.persistent, this.size, this.publishedAt, content, undefined, this.priority);
  }

  /** The edge's encoding for deliveries within the current task, if an edge has made one (see `shareEncoding`). */
  get sharedEncoding(): unknown {
    return this.edgeEncoding;
  }

  /**
   * Keeps what a protocol edge encoded for the deliveries of this message within the current task;
   * it is emptied when the task ends (at the next microtask checkpoint), deliveries or not.
   */
  shareEncoding(encoding: unknown): void {
    // A promise reaction rather than queueMicrotask, which costs twice as much (an AsyncResource per call).
    if (this.edgeEncoding === undefined) void TASK_END.then(() => (this.edgeEncoding = undefined));
    this.edgeEncoding = encoding;
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

  /** What can read its content back: released, or being read (a caller that cannot wait reads it again). */
  private loaderIfNotInMemory(): ContentLoader | undefined {
    const source = this.source;
    if (this.flags & IN_MEMORY || source === undefined) return undefined;
    return source instanceof PendingRead ? source.loader : (source as ContentLoader);
  }

  /** What can read its content back when it is released, readable, and no read of it is in flight. */
  private loaderIfReleased(): ContentLoader | undefined {
    const source = this.source;
    if (this.flags & (IN_MEMORY | UNREADABLE) || source === undefined || source instanceof PendingRead) return undefined;
    return source as ContentLoader;
  }

  /** The outcome of a read: the content in memory (until `dropReadBack`), or the message unreadable. */
  private readBackAs(content: MessageContent | undefined, loader: ContentLoader): void {
    this.source = content ? new ReadBack(content, loader) : loader;
    this.flags = (this.flags & ~(IN_MEMORY | READ_BACK | UNREADABLE)) | (content ? IN_MEMORY | READ_BACK : UNREADABLE);
  }

  /** Marks `messages` as being read by one `load`, and settles each when it completes: read back, or unreadable. */
  private static startRead(loader: ContentLoader, messages: Message[]): Promise<void> {
    const read = new PendingRead(loader);
    for (const message of messages) message.source = read;
    const settle = (message: Message, content: MessageContent | undefined): void => {
      if (message.source === read) message.readBackAs(content, loader);
    };
    read.done = loader.load(messages).then(
      (contents) => messages.forEach((message, i) => settle(message, contents[i])),
      // The contract says load never rejects; if one does anyway, retrying could spin, so nothing is retried.
      () => messages.forEach((message) => settle(message, undefined)),
    );
    return read.done;
  }
}

export function isPersistent(properties: MessageProperties): boolean {
  return properties.deliveryMode === 2;
}
