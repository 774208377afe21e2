/**
 * Options and results of the connection's methods (the camelCase fields of docs/protocol.md, minus
 * `op` and `id`).
 */
import type { ExchangeType, FieldTable, MessageProperties } from './frames.js';
import type { WebSocketConstructor } from './socket.js';

export interface ConnectOptions {
  username: string;
  password: string;
  /** Default `/`. */
  vhost?: string;
  /** Seconds; the lower non-zero of the client's and the server's is used. */
  heartbeat?: number;
  clientProperties?: FieldTable;
  /** WebSocket implementation; default the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
}

export interface ServerInfo {
  server: string;
  version: string;
  heartbeat: number;
}

export interface ExchangeDeclareOptions {
  exchange: string;
  type?: ExchangeType;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  passive?: boolean;
  arguments?: FieldTable;
}

export interface ExchangeDeleteOptions {
  exchange: string;
  ifUnused?: boolean;
}

export interface ExchangeBindOptions {
  destination: string;
  source: string;
  routingKey?: string;
  arguments?: FieldTable;
}

export interface QueueDeclareOptions {
  /** Empty or absent: the server names the queue (`amq.gen-…`). */
  queue?: string;
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  passive?: boolean;
  arguments?: FieldTable;
}

export interface QueueDeclareResult {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface QueueBindOptions {
  queue: string;
  exchange: string;
  routingKey?: string;
  arguments?: FieldTable;
}

export interface QueueDeleteOptions {
  queue: string;
  ifUnused?: boolean;
  ifEmpty?: boolean;
}

export interface MessageCountResult {
  messageCount: number;
}

export interface PublishOptions {
  /** Default `""`, the default exchange. */
  exchange?: string;
  routingKey: string;
  /** A string travels as UTF-8 text; bytes travel base64-encoded. */
  body: string | Uint8Array;
  mandatory?: boolean;
  properties?: MessageProperties;
}

export interface PublishResult {
  /** False when the message reached no queue (it was dropped, or returned if mandatory). */
  routed: boolean;
}

export interface ConsumeOptions {
  queue: string;
  /** Absent or empty: the server chooses one (`amq.ctag-…`). */
  consumerTag?: string;
  noAck?: boolean;
  exclusive?: boolean;
  /** Overrides the connection's `qos` for this consumer. */
  prefetch?: number;
  arguments?: FieldTable;
}

export interface GetOptions {
  queue: string;
  noAck?: boolean;
}

export interface NackOptions {
  multiple?: boolean;
  requeue?: boolean;
}
