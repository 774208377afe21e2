/**
 * Options and results of the connection's methods. Options that mirror a frame are that frame's fields
 * (derived from the protocol's schemas, see frames.ts) minus `op` and `id`; a field is repeated here
 * only to document it or to narrow it for the API.
 */
import type * as F from './frames.js';
import type { ExchangeType } from './frames.js';
import type { NodeTlsOptions, WebSocketConstructor } from './socket.js';
import type { TokenProvider } from './token.js';

/** The fields of a request frame that a caller chooses. */
type FieldsOf<Frame> = Omit<Frame, 'op' | 'id'>;

export interface ConnectOptions extends Omit<FieldsOf<F.ConnectFrame>, 'token'> {
  /** Default `/`. */
  vhost?: string;
  /**
   * An OAuth 2 access token instead of username and password; or a function that returns the current
   * one, which the client calls again before each token expires and hands to the broker (`update-token`).
   */
  token?: string | TokenProvider;
  /** Seconds; the lower non-zero of the client's and the server's is used. */
  heartbeat?: number;
  /** WebSocket implementation; default the global one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Node, `wss://`: a private CA, a client certificate (see NodeTlsOptions). */
  tls?: NodeTlsOptions;
}

export interface ServerInfo {
  server: string;
  version: string;
  heartbeat: number;
}

export interface ExchangeDeclareOptions extends FieldsOf<F.ExchangeDeclareFrame> {
  type?: ExchangeType;
}

export type ExchangeDeleteOptions = FieldsOf<F.ExchangeDeleteFrame>;

export type ExchangeBindOptions = FieldsOf<F.ClientFrames['exchange.bind']>;

export interface QueueDeclareOptions extends FieldsOf<F.QueueDeclareFrame> {
  /** Empty or absent: the server names the queue (`amq.gen-…`). */
  queue?: string;
}

export interface QueueDeclareResult {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export type QueueBindOptions = FieldsOf<F.ClientFrames['queue.bind']>;

export type QueueDeleteOptions = FieldsOf<F.QueueDeleteFrame>;

export interface MessageCountResult {
  messageCount: number;
}

export interface PublishOptions extends Omit<FieldsOf<F.PublishFrame>, 'body' | 'encoding'> {
  /** Default `""`, the default exchange. */
  exchange?: string;
  /** A string travels as UTF-8 text; bytes travel base64-encoded. */
  body: string | Uint8Array;
  /**
   * Milliseconds to hold the message before routing it: sets the `x-delay` header, which an
   * `x-delayed-message` exchange honours (other exchange types ignore it). A non-negative integer.
   */
  delay?: number;
}

export interface PublishResult {
  /** False when the message reached no queue (it was dropped, or returned if mandatory), or is scheduled. */
  routed: boolean;
  /** Set when a delayed exchange holds it: its id there (to list or cancel it) and its due time (ms since the epoch). */
  scheduled?: { id: number; due: number };
}

export interface ConsumeOptions extends FieldsOf<F.ConsumeFrame> {
  /** Absent or empty: the server chooses one (`amq.ctag-…`). */
  consumerTag?: string;
  /** Overrides the connection's `qos` for this consumer. */
  prefetch?: number;
}

export type GetOptions = FieldsOf<F.GetFrame>;

export type NackOptions = Omit<FieldsOf<F.NackFrame>, 'deliveryTag'>;
