/**
 * Client frames as handlers receive them, derived from their JSON Schemas (schemas.ts), so a field added
 * to a schema reaches every handler's type without a second edit.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { WithJsonHeaders } from '../broker/message-properties.js';
import type { frameIdSchema, FrameSchemas, OpName, tableSchema, wirePropertiesSchema } from './schemas.js';

/**
 * A value after validation. The parser's ajv runs with `useDefaults`, so a field whose schema has a
 * default is always present; json-schema-to-ts types it as required when defaulted properties are not
 * kept optional (its default, spelled out here because the parser depends on it).
 */
type Validated<S extends JSONSchema> = FromSchema<S, { keepDefaultedPropertiesOptional: false }>;

export type FrameId = Validated<typeof frameIdSchema>;

export type Table = Validated<typeof tableSchema>;

export type WireProperties = WithJsonHeaders<Validated<typeof wirePropertiesSchema>>;

type ValidatedPublish = Validated<FrameSchemas['publish']>;

/** The only frame with message properties, so the only one whose headers need narrowing to JSON values. */
export type PublishFrame = { [K in keyof ValidatedPublish]: K extends 'properties' ? WireProperties : ValidatedPublish[K] };

export type ClientFrames = { [K in OpName]: K extends 'publish' ? PublishFrame : Validated<FrameSchemas[K]> };

export type ClientFrame = ClientFrames[OpName];

export type ConnectFrame = ClientFrames['connect'];
export type CloseFrame = ClientFrames['close'];
export type ExchangeDeclareFrame = ClientFrames['exchange.declare'];
export type ExchangeDeleteFrame = ClientFrames['exchange.delete'];
/** Bind and unbind carry the same fields, so one handler type serves both. */
export type ExchangeBindFrame = ClientFrames['exchange.bind' | 'exchange.unbind'];
export type QueueDeclareFrame = ClientFrames['queue.declare'];
export type QueueBindFrame = ClientFrames['queue.bind' | 'queue.unbind'];
export type QueuePurgeFrame = ClientFrames['queue.purge'];
export type QueueDeleteFrame = ClientFrames['queue.delete'];
export type QosFrame = ClientFrames['qos'];
export type ConsumeFrame = ClientFrames['consume'];
export type CancelFrame = ClientFrames['cancel'];
export type AckFrame = ClientFrames['ack'];
export type NackFrame = ClientFrames['nack'];
export type RejectFrame = ClientFrames['reject'];
export type RecoverFrame = ClientFrames['recover'];
export type GetFrame = ClientFrames['get'];
