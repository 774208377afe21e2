/**
 * Messages as the client hands them out: a delivery to a consumer or a `get` result (ReceivedMessage,
 * which can be settled), or a mandatory message the broker returned (ReturnedMessage).
 * Bodies are decoded lazily: `text()` of a UTF-8 body is the frame's string itself, and `body` bytes are
 * produced once, on first access.
 */
import { decodeBody, decodeUtf8 } from './codec.js';
import type { BodyEncoding, DeliverPush, GetMessage, MessageProperties, ReturnPush } from './frames.js';

/** What a ReceivedMessage calls back into to settle itself (the connection). */
export interface Settler {
  ack(deliveryTag: number, multiple?: boolean): void;
  nack(deliveryTag: number, options?: { multiple?: boolean; requeue?: boolean }): void;
  reject(deliveryTag: number, requeue?: boolean): void;
}

const EMPTY_PROPERTIES: MessageProperties = Object.freeze({});

/** A message's content: routing information, properties and body. */
export class MessageContent {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  #raw: string;
  #encoding: BodyEncoding | undefined;
  #bytes: Uint8Array | undefined;

  constructor(frame: DeliverPush | GetMessage | ReturnPush) {
    this.exchange = frame.exchange;
    this.routingKey = frame.routingKey;
    this.properties = frame.properties ?? EMPTY_PROPERTIES;
    this.#raw = frame.body;
    this.#encoding = frame.encoding;
  }

  /** The body bytes. */
  get body(): Uint8Array {
    return (this.#bytes ??= decodeBody(this.#raw, this.#encoding));
  }

  /** The body as UTF-8 text. */
  text(): string {
    return this.#encoding === 'base64' ? decodeUtf8(this.body) : this.#raw;
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** A delivery to a consumer, or a message fetched with `get`. */
export class ReceivedMessage extends MessageContent {
  /** Set for deliveries to a consumer. */
  readonly consumerTag?: string;
  readonly deliveryTag: number;
  readonly redelivered: boolean;
  /** Set for `get` results: ready messages left in the queue after this one. */
  readonly messageCount?: number;
  readonly #settler: Settler;

  constructor(settler: Settler, frame: DeliverPush | GetMessage) {
    super(frame);
    this.#settler = settler;
    this.deliveryTag = frame.deliveryTag;
    this.redelivered = frame.redelivered;
    if ('consumerTag' in frame) this.consumerTag = frame.consumerTag;
    else this.messageCount = frame.messageCount;
  }

  ack(multiple = false): void {
    this.#settler.ack(this.deliveryTag, multiple);
  }

  nack(options: { multiple?: boolean; requeue?: boolean } = {}): void {
    this.#settler.nack(this.deliveryTag, options);
  }

  reject(requeue = true): void {
    this.#settler.reject(this.deliveryTag, requeue);
  }
}

/** A mandatory message that could not be routed (a `return` push), sent before its publisher confirm. */
export class ReturnedMessage extends MessageContent {
  /** 312 NO_ROUTE. */
  readonly replyCode: number;
  readonly replyText: string;

  constructor(frame: ReturnPush) {
    super(frame);
    this.replyCode = frame.replyCode;
    this.replyText = frame.replyText;
  }
}
