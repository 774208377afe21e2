/**
 * The wire frames of docs/protocol.md as TypeScript types: what the client sends and what the server
 * answers or pushes. Each WebSocket text frame carries exactly one of these as a JSON object.
 */
import type { ErrorName } from '../broker/errors.js';
import type {
  ConsumeOptions,
  ExchangeBindOptions,
  ExchangeDeclareOptions,
  ExchangeDeleteOptions,
  GetOptions,
  QueueBindOptions,
  QueueDeclareOptions,
  QueueDeleteOptions,
} from './options.js';

export type FrameId = string | number;
export type BodyEncoding = 'utf8' | 'base64';
/** AMQP field table: values are JSON values. */
export type FieldTable = Record<string, unknown>;
export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: 1 | 2;
  /** `true` is `deliveryMode: 2`; added by the server on pushes when `deliveryMode` is set. */
  persistent?: boolean;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  /** Milliseconds, as a string (AMQP). */
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

// ---------------------------------------------------------------- client frames

interface Frame<Op extends string> {
  op: Op;
  id?: FrameId;
}

export interface ConnectFrame extends Frame<'connect'> {
  vhost?: string;
  username: string;
  password: string;
  heartbeat?: number;
  clientProperties?: FieldTable;
}

/** Request frames carry the fields of the matching client call (options.ts) as they are. */
export interface ExchangeDeclareFrame extends Frame<'exchange.declare'>, ExchangeDeclareOptions {}

export interface ExchangeDeleteFrame extends Frame<'exchange.delete'>, ExchangeDeleteOptions {}

export interface ExchangeBindFrame extends Frame<'exchange.bind' | 'exchange.unbind'>, ExchangeBindOptions {}

export interface QueueDeclareFrame extends Frame<'queue.declare'>, QueueDeclareOptions {}

export interface QueueBindFrame extends Frame<'queue.bind' | 'queue.unbind'>, QueueBindOptions {}

export interface QueuePurgeFrame extends Frame<'queue.purge'> {
  queue: string;
}

export interface QueueDeleteFrame extends Frame<'queue.delete'>, QueueDeleteOptions {}

export interface PublishFrame extends Frame<'publish'> {
  exchange?: string;
  routingKey: string;
  body: string;
  encoding?: BodyEncoding;
  mandatory?: boolean;
  properties?: MessageProperties;
}

export interface QosFrame extends Frame<'qos'> {
  prefetch: number;
}

export interface ConsumeFrame extends Frame<'consume'>, ConsumeOptions {}

export interface CancelFrame extends Frame<'cancel'> {
  consumerTag: string;
}

export interface AckFrame extends Frame<'ack'> {
  deliveryTag: number;
  multiple?: boolean;
}

export interface NackFrame extends Frame<'nack'> {
  deliveryTag: number;
  multiple?: boolean;
  requeue?: boolean;
}

export interface RejectFrame extends Frame<'reject'> {
  deliveryTag: number;
  requeue?: boolean;
}

export interface RecoverFrame extends Frame<'recover'> {
  requeue?: boolean;
}

export interface GetFrame extends Frame<'get'>, GetOptions {}

export type CloseFrame = Frame<'close'>;

export type ClientFrame =
  | ConnectFrame
  | ExchangeDeclareFrame
  | ExchangeDeleteFrame
  | ExchangeBindFrame
  | QueueDeclareFrame
  | QueueBindFrame
  | QueuePurgeFrame
  | QueueDeleteFrame
  | PublishFrame
  | QosFrame
  | ConsumeFrame
  | CancelFrame
  | AckFrame
  | NackFrame
  | RejectFrame
  | RecoverFrame
  | GetFrame
  | CloseFrame;

export type ClientOp = ClientFrame['op'];

// ---------------------------------------------------------------- replies

/** Success reply to a frame that carried `id`; the result fields depend on the operation. */
export interface OkReply {
  op: 'ok';
  id: FrameId;
  [field: string]: unknown;
}

export interface ErrorReply {
  op: 'error';
  /** Present when the failed frame carried a usable `id`. */
  id?: FrameId;
  /** The operation an id-less failure refers to. */
  ref?: string;
  code: number;
  reason: ErrorName | (string & {});
  message: string;
}

/** Result fields of each operation's `ok` reply. */
export interface ConnectOk {
  server: string;
  version: string;
  heartbeat: number;
}
export interface QueueDeclareOk {
  queue: string;
  messageCount: number;
  consumerCount: number;
}
export interface MessageCountOk {
  messageCount: number;
}
export interface PublishOk {
  routed: boolean;
}
export interface ConsumeOk {
  consumerTag: string;
}
export interface GetMessage {
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  messageCount: number;
  body: string;
  encoding?: BodyEncoding;
  properties?: MessageProperties;
}
export interface GetOk {
  message: GetMessage | null;
}

// ---------------------------------------------------------------- pushes

export interface DeliverPush {
  op: 'deliver';
  consumerTag: string;
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  body: string;
  encoding?: BodyEncoding;
  properties?: MessageProperties;
}

export interface CancelledPush {
  op: 'cancelled';
  consumerTag: string;
}

export interface ReturnPush {
  op: 'return';
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
  body: string;
  encoding?: BodyEncoding;
  properties?: MessageProperties;
}

export interface ClosePush {
  op: 'close';
  code: number;
  reason: ErrorName | (string & {});
  message: string;
}

export type ServerFrame = OkReply | ErrorReply | DeliverPush | CancelledPush | ReturnPush | ClosePush;
