/** The shape of a definitions document, checked by ajv before an import reads it. */
import { Ajv } from 'ajv';

const boolish = { enum: [true, false, 'true', 'false'] } as const;
const str = { type: 'string' } as const;
const object = { type: 'object' } as const;
const tags = { anyOf: [str, { type: 'array', items: str }] } as const;
const list = (items: Record<string, unknown>): Record<string, unknown> => ({ type: 'array', items });

const documentSchema = {
  type: 'object',
  properties: {
    rabbit_version: str,
    rabbitmq_version: str,
    users: list({
      type: 'object',
      required: ['name'],
      properties: { name: str, password_hash: str, password: str, hashing_algorithm: str, tags },
    }),
    vhosts: list({
      type: 'object',
      required: ['name'],
      properties: { name: str, description: str, tags, default_queue_type: str, metadata: object, tracing: boolish },
    }),
    permissions: list({
      type: 'object',
      required: ['user', 'vhost', 'configure', 'write', 'read'],
      properties: { user: str, vhost: str, configure: str, write: str, read: str },
    }),
    global_parameters: list({ type: 'object', required: ['name'], properties: { name: str } }),
    policies: list({ type: 'object', required: ['name'], properties: { name: str, vhost: str } }),
    operator_policies: list({ type: 'object', required: ['name'], properties: { name: str, vhost: str } }),
    parameters: list({ type: 'object', required: ['component', 'name'], properties: { component: str, name: str, vhost: str, value: {} } }),
    topic_permissions: { type: 'array' },
    queues: list({
      type: 'object',
      required: ['name'],
      properties: { name: str, vhost: str, durable: boolish, auto_delete: boolish, arguments: object },
    }),
    exchanges: list({
      type: 'object',
      required: ['name'],
      properties: { name: str, vhost: str, type: str, durable: boolish, auto_delete: boolish, internal: boolish, arguments: object },
    }),
    bindings: list({
      type: 'object',
      required: ['source', 'destination'],
      properties: {
        source: str,
        vhost: str,
        destination: str,
        destination_type: { enum: ['queue', 'exchange'] },
        routing_key: str,
        arguments: object,
      },
    }),
  },
} as const;

export type Boolish = boolean | 'true' | 'false';
type Tags = string | string[];
// The shapes `documentSchema` guarantees once it has validated a document.
export interface UserDef { name: string; password_hash?: string; password?: string; hashing_algorithm?: string; tags?: Tags; limits?: unknown }
interface VhostDef { name: string; description?: string; tags?: Tags; default_queue_type?: string; metadata?: Record<string, unknown>; limits?: unknown; tracing?: Boolish }
interface PermissionDef { user: string; vhost: string; configure: string; write: string; read: string }
interface QueueDef { name: string; vhost?: string; type?: unknown; durable?: Boolish; auto_delete?: Boolish; arguments?: Record<string, unknown> }
interface ExchangeDef {
  name: string;
  vhost?: string;
  type?: string;
  durable?: Boolish;
  auto_delete?: Boolish;
  internal?: Boolish;
  arguments?: Record<string, unknown>;
}
interface BindingDef {
  source: string;
  vhost?: string;
  destination: string;
  destination_type?: 'queue' | 'exchange';
  routing_key?: string;
  arguments?: Record<string, unknown>;
}
interface PolicyDef { name: string; vhost?: string; pattern?: unknown; definition?: unknown; priority?: unknown; 'apply-to'?: unknown }
interface ParameterDef { component: string; name: string; vhost?: string; value?: unknown }
export interface DefinitionsDocument {
  rabbit_version?: string;
  rabbitmq_version?: string;
  users?: UserDef[];
  vhosts?: VhostDef[];
  permissions?: PermissionDef[];
  global_parameters?: Array<{ name: string; value?: unknown }>;
  policies?: PolicyDef[];
  operator_policies?: PolicyDef[];
  parameters?: ParameterDef[];
  topic_permissions?: unknown[];
  queues?: QueueDef[];
  exchanges?: ExchangeDef[];
  bindings?: BindingDef[];
}

export const validateDocument = new Ajv({ allErrors: false, strict: false, coerceTypes: false }).compile<DefinitionsDocument>(documentSchema);
