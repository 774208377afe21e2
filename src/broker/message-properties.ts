/**
 * AMQP's basic properties, as a JSON Schema and the type derived from it. The schema is plain data so
 * the domain stays free of any validator; the WebSocket protocol validates with it (adding its own
 * `persistent` shorthand) and the client types what it sends and receives from it.
 */
import type { FromSchema } from 'json-schema-to-ts';

const shortString = { type: 'string', maxLength: 255 } as const;

export const messagePropertiesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    contentType: shortString,
    contentEncoding: shortString,
    headers: { type: 'object' },
    /** 1 = transient, 2 = persistent (AMQP delivery-mode). */
    deliveryMode: { enum: [1, 2] },
    priority: { type: 'integer', minimum: 0, maximum: 255 },
    correlationId: shortString,
    replyTo: shortString,
    /** Milliseconds, as a string (AMQP). */
    expiration: { type: 'string', pattern: '^[0-9]{1,12}$' },
    messageId: shortString,
    /** Seconds since the epoch, as AMQP's timestamp property. */
    timestamp: { type: 'integer', minimum: 0 },
    type: shortString,
    userId: shortString,
    appId: shortString,
  },
} as const;

/**
 * A header value is any JSON value. Written by hand: json-schema-to-ts derives no recursive types, and
 * the schema says only `object` for headers (what arrives is parsed JSON, so JSON values is all it holds).
 */
export type HeaderValue = string | number | boolean | null | HeaderValue[] | { [key: string]: HeaderValue };

export type Headers = Record<string, HeaderValue>;

/** Properties as the schema describes them, with headers narrowed from `object` to JSON values. */
export type WithJsonHeaders<P extends { headers?: unknown }> = { [K in keyof P]: K extends 'headers' ? Headers : P[K] };

export type MessageProperties = WithJsonHeaders<FromSchema<typeof messagePropertiesSchema>>;
