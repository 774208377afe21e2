/**
 * The protocol-neutral message. Each protocol (the WebSocket JSON frames, the REST publish, the store)
 * converts to and from this shape at its own edge.
 */
export type HeaderValue =
  | string
  | number
  | boolean
  | null
  | HeaderValue[]
  | { [key: string]: HeaderValue };

export type Headers = Record<string, HeaderValue>;

export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Headers;
  /** 1 = transient, 2 = persistent (AMQP delivery-mode). */
  deliveryMode?: 1 | 2;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch, as AMQP's timestamp property. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

export interface Message {
  /** Broker-wide unique, increasing; the store keys records by it. */
  readonly id: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  readonly body: Uint8Array;
  readonly persistent: boolean;
  /** Milliseconds since the epoch when the broker accepted it. */
  readonly publishedAt: number;
}

export function isPersistent(properties: MessageProperties): boolean {
  return properties.deliveryMode === 2;
}
