/**
 * The wire frames of docs/protocol.md as TypeScript types: what the client sends and what the server
 * answers or pushes. Each WebSocket text frame carries exactly one of these as a JSON object.
 *
 * The frames the client sends, and the message properties, are derived from the server's JSON Schemas
 * (src/protocol/schemas.ts). The imports are type-only, so the compiled client (which also runs in
 * browsers) loads neither the schemas nor json-schema-to-ts.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { ErrorName } from '../broker/errors.js';
import type { frameIdSchema, FrameSchemas, OpName, tableSchema, wirePropertiesSchema } from '../protocol/schemas.js';

/** A frame as sent, before the server's validation: a field with a default may be left out. */
type Sent<S extends JSONSchema> = FromSchema<S, { keepDefaultedPropertiesOptional: true }>;

export type FrameId = Sent<typeof frameIdSchema>;
/** AMQP field table: values are JSON values. */
export type FieldTable = Sent<typeof tableSchema>;
/**
 * Written here, not derived: the schema takes any string (the server answers an unknown type with 503);
 * the client's API offers the types Warren has.
 */
export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers' | 'x-delayed-message';

/**
 * AMQP's properties plus `persistent`, which is `deliveryMode: 2`; the server adds it to pushes when
 * `deliveryMode` is set. `deliveryMode` 1 = transient, 2 = persistent; `expiration` is milliseconds as a
 * string (AMQP); `timestamp` is seconds since the epoch.
 */
export type MessageProperties = Sent<typeof wirePropertiesSchema>;

// ---------------------------------------------------------------- client frames

export type ClientFrames = { [K in OpName]: Sent<FrameSchemas[K]> };

export type ClientFrame = ClientFrames[OpName];

export type ClientOp = ClientFrame['op'];

export type ConnectFrame = ClientFrames['connect'];
export type ExchangeDeclareFrame = ClientFrames['exchange.declare'];
export type ExchangeDeleteFrame = ClientFrames['exchange.delete'];
export type ExchangeBindFrame = ClientFrames['exchange.bind' | 'exchange.unbind'];
export type QueueDeclareFrame = ClientFrames['queue.declare'];
export type QueueBindFrame = ClientFrames['queue.bind' | 'queue.unbind'];
export type QueuePurgeFrame = ClientFrames['queue.purge'];
export type QueueDeleteFrame = ClientFrames['queue.delete'];
export type PublishFrame = ClientFrames['publish'];
export type BodyEncoding = NonNullable<PublishFrame['encoding']>;
export type QosFrame = ClientFrames['qos'];
export type ConsumeFrame = ClientFrames['consume'];
export type CancelFrame = ClientFrames['cancel'];
export type AckFrame = ClientFrames['ack'];
export type NackFrame = ClientFrames['nack'];
export type RejectFrame = ClientFrames['reject'];
export type RecoverFrame = ClientFrames['recover'];
export type GetFrame = ClientFrames['get'];
export type CloseFrame = ClientFrames['close'];

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
  scheduled?: { id: number; due: number };
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
  /** Absent when the consumer's queue was deleted; `consumer_timeout` when a delivery went unacked too long. */
  reason?: 'consumer_timeout' | (string & {});
  /** Says why, for people (which delivery, which timeout). */
  message?: string;
}

/** Why the broker cancelled a consumer, when it said. */
export interface CancelReason {
  reason: 'consumer_timeout' | (string & {});
  message: string;
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
