/**
 * JSON Schemas of every client frame. They are the protocol's single source of truth: the session
 * validates with them (ajv fills in the AMQP defaults), `GET /api/protocol/schema` serves them, and the
 * frame types of server (frames.ts) and client (client/frames.ts) are derived from them. So every
 * schema here is a literal `as const` value: widening one to a plain object would erase its type.
 */
import { messagePropertiesSchema } from '../broker/message-properties.js';

type Schema = Record<string, unknown>;

const name = { type: 'string', maxLength: 255 } as const;
const routingKey = { type: 'string', maxLength: 255, default: '' } as const;
export const tableSchema = { type: 'object', default: {} } as const;
const deliveryTag = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const prefetch = { type: 'integer', minimum: 0, maximum: 65535 } as const;
export const frameIdSchema = { type: ['string', 'integer'] } as const;
const token = { type: 'string', minLength: 1, maxLength: 16384 } as const;

function flag<const Default extends boolean>(value: Default) {
  return { type: 'boolean', default: value } as const;
}

const { contentType, contentEncoding, headers, deliveryMode, ...laterProperties } = messagePropertiesSchema.properties;

/** AMQP's properties plus `persistent`, the wire's shorthand for deliveryMode, listed beside it. */
export const wirePropertiesSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { contentType, contentEncoding, headers, deliveryMode, persistent: { type: 'boolean' }, ...laterProperties },
} as const;

/** Every frame is an object with its `op`, an optional `id`, and the op's own fields. */
function op<const Op extends string, const Fields extends Schema, const Required extends readonly string[]>(
  opName: Op,
  properties: Fields,
  ...required: Required
) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['op', ...required],
    properties: { op: { const: opName }, id: frameIdSchema, ...properties },
  } as const;
}

const exchangeBinding = { destination: name, source: name, routingKey, arguments: tableSchema } as const;
const queueBinding = { queue: name, exchange: name, routingKey, arguments: tableSchema } as const;

export const frameSchemas = {
  connect: op(
    'connect',
    {
      vhost: { type: 'string', default: '/' },
      username: { type: 'string' },
      password: { type: 'string' },
      /** An OAuth 2 access token (JWT) instead of username and password. */
      token,
      heartbeat: { type: 'integer', minimum: 0, maximum: 65535 },
      clientProperties: tableSchema,
    },
  ),
  close: op('close', {}),
  /** A refreshed token for the open connection, before the current one expires. */
  'update-token': op('update-token', { token }, 'token'),
  'exchange.declare': op(
    'exchange.declare',
    {
      exchange: name,
      type: { type: 'string', maxLength: 255 },
      durable: flag(false),
      autoDelete: flag(false),
      internal: flag(false),
      passive: flag(false),
      arguments: tableSchema,
    },
    'exchange',
  ),
  'exchange.delete': op('exchange.delete', { exchange: name, ifUnused: flag(false) }, 'exchange'),
  'exchange.bind': op('exchange.bind', exchangeBinding, 'destination', 'source'),
  'exchange.unbind': op('exchange.unbind', exchangeBinding, 'destination', 'source'),
  'queue.declare': op('queue.declare', {
    queue: { ...name, default: '' },
    durable: flag(false),
    exclusive: flag(false),
    autoDelete: flag(false),
    passive: flag(false),
    arguments: tableSchema,
  }),
  'queue.bind': op('queue.bind', queueBinding, 'queue', 'exchange'),
  'queue.unbind': op('queue.unbind', queueBinding, 'queue', 'exchange'),
  'queue.purge': op('queue.purge', { queue: name }, 'queue'),
  'queue.delete': op('queue.delete', { queue: name, ifUnused: flag(false), ifEmpty: flag(false) }, 'queue'),
  publish: op(
    'publish',
    {
      exchange: { ...name, default: '' },
      routingKey: { type: 'string', maxLength: 255 },
      body: { type: 'string' },
      encoding: { enum: ['utf8', 'base64'], default: 'utf8' },
      mandatory: flag(false),
      properties: wirePropertiesSchema,
    },
    'routingKey',
    'body',
  ),
  qos: op('qos', { prefetch }, 'prefetch'),
  consume: op(
    'consume',
    {
      queue: name,
      consumerTag: { type: 'string', maxLength: 255, default: '' },
      noAck: flag(false),
      exclusive: flag(false),
      prefetch,
      arguments: tableSchema,
    },
    'queue',
  ),
  cancel: op('cancel', { consumerTag: { type: 'string', maxLength: 255 } }, 'consumerTag'),
  ack: op('ack', { deliveryTag, multiple: flag(false) }, 'deliveryTag'),
  nack: op('nack', { deliveryTag, multiple: flag(false), requeue: flag(true) }, 'deliveryTag'),
  reject: op('reject', { deliveryTag, requeue: flag(true) }, 'deliveryTag'),
  recover: op('recover', { requeue: flag(true) }),
  get: op('get', { queue: name, noAck: flag(false) }, 'queue'),
} as const;

export type FrameSchemas = typeof frameSchemas;

export type OpName = keyof FrameSchemas;

export function isOpName(op: string): op is OpName {
  return Object.hasOwn(frameSchemas, op);
}

/** The document served at `GET /api/protocol/schema`. */
export function protocolSchemaDocument(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Warren WebSocket protocol: client frames',
    description: 'Each WebSocket text frame is one JSON object matching the schema of its "op". See docs/protocol.md.',
    definitions: frameSchemas,
    oneOf: Object.keys(frameSchemas).map((key) => ({ $ref: `#/definitions/${key}` })),
  };
}
