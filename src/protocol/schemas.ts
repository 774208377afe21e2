/**
 * JSON Schemas of every client frame. They are the protocol's single source of truth: the session
 * validates with them (ajv fills in the AMQP defaults), and `GET /api/protocol/schema` serves them.
 */
type Schema = Record<string, unknown>;

const name = { type: 'string', maxLength: 255 } as const;
const routingKey = { type: 'string', maxLength: 255, default: '' } as const;
const table = { type: 'object', default: {} } as const;
const flag = (value: boolean): Schema => ({ type: 'boolean', default: value });
const deliveryTag = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const prefetch = { type: 'integer', minimum: 0, maximum: 65535 } as const;

export const propertiesSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    contentType: { type: 'string', maxLength: 255 },
    contentEncoding: { type: 'string', maxLength: 255 },
    headers: { type: 'object' },
    deliveryMode: { enum: [1, 2] },
    persistent: { type: 'boolean' },
    priority: { type: 'integer', minimum: 0, maximum: 255 },
    correlationId: { type: 'string', maxLength: 255 },
    replyTo: { type: 'string', maxLength: 255 },
    expiration: { type: 'string', pattern: '^[0-9]{1,12}$' },
    messageId: { type: 'string', maxLength: 255 },
    timestamp: { type: 'integer', minimum: 0 },
    type: { type: 'string', maxLength: 255 },
    userId: { type: 'string', maxLength: 255 },
    appId: { type: 'string', maxLength: 255 },
  },
};

function op(opName: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['op', ...required],
    properties: { op: { const: opName }, id: { type: ['string', 'integer'] }, ...properties },
  };
}

const bindingFields = (destination: string, source: string): Record<string, Schema> => ({
  [destination]: name,
  [source]: name,
  routingKey,
  arguments: table,
});

export const frameSchemas = {
  connect: op(
    'connect',
    {
      vhost: { type: 'string', default: '/' },
      username: { type: 'string' },
      password: { type: 'string' },
      heartbeat: { type: 'integer', minimum: 0, maximum: 65535 },
      clientProperties: table,
    },
    ['username', 'password'],
  ),
  close: op('close', {}),
  'exchange.declare': op(
    'exchange.declare',
    {
      exchange: name,
      type: { type: 'string', maxLength: 255 },
      durable: flag(false),
      autoDelete: flag(false),
      internal: flag(false),
      passive: flag(false),
      arguments: table,
    },
    ['exchange'],
  ),
  'exchange.delete': op('exchange.delete', { exchange: name, ifUnused: flag(false) }, ['exchange']),
  'exchange.bind': op('exchange.bind', bindingFields('destination', 'source'), ['destination', 'source']),
  'exchange.unbind': op('exchange.unbind', bindingFields('destination', 'source'), ['destination', 'source']),
  'queue.declare': op('queue.declare', {
    queue: { ...name, default: '' },
    durable: flag(false),
    exclusive: flag(false),
    autoDelete: flag(false),
    passive: flag(false),
    arguments: table,
  }),
  'queue.bind': op('queue.bind', bindingFields('queue', 'exchange'), ['queue', 'exchange']),
  'queue.unbind': op('queue.unbind', bindingFields('queue', 'exchange'), ['queue', 'exchange']),
  'queue.purge': op('queue.purge', { queue: name }, ['queue']),
  'queue.delete': op('queue.delete', { queue: name, ifUnused: flag(false), ifEmpty: flag(false) }, ['queue']),
  publish: op(
    'publish',
    {
      exchange: { ...name, default: '' },
      routingKey: { type: 'string', maxLength: 255 },
      body: { type: 'string' },
      encoding: { enum: ['utf8', 'base64'], default: 'utf8' },
      mandatory: flag(false),
      properties: propertiesSchema,
    },
    ['routingKey', 'body'],
  ),
  qos: op('qos', { prefetch }, ['prefetch']),
  consume: op(
    'consume',
    {
      queue: name,
      consumerTag: { type: 'string', maxLength: 255, default: '' },
      noAck: flag(false),
      exclusive: flag(false),
      prefetch,
      arguments: table,
    },
    ['queue'],
  ),
  cancel: op('cancel', { consumerTag: { type: 'string', maxLength: 255 } }, ['consumerTag']),
  ack: op('ack', { deliveryTag, multiple: flag(false) }, ['deliveryTag']),
  nack: op('nack', { deliveryTag, multiple: flag(false), requeue: flag(true) }, ['deliveryTag']),
  reject: op('reject', { deliveryTag, requeue: flag(true) }, ['deliveryTag']),
  recover: op('recover', { requeue: flag(true) }),
  get: op('get', { queue: name, noAck: flag(false) }, ['queue']),
} as const satisfies Record<string, Schema>;

export type OpName = keyof typeof frameSchemas;

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
