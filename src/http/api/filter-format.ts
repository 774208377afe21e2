/** The REST shape of a message filter (peek, move, retry-dead-letters): snake_case JSON to `MessageFilter`. */
import type { FromSchema } from 'json-schema-to-ts';
import type { Headers } from '../../broker/message.js';
import { MessageFilter } from '../../broker/message-filter.js';
import { checkArguments, int, intish } from './context.js';

export const filterSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Every condition given must hold',
  properties: {
    routing_key: { type: 'string', description: 'Glob over the whole routing key: `*` any run of characters (dots too), `?` one, `\\` escapes' },
    headers: { type: 'object', description: 'Each header equal to this value' },
    payload_contains: { type: 'string', description: 'The body contains this text (its UTF-8 bytes)' },
    first_death_reason: { enum: ['rejected', 'expired', 'maxlen', 'delivery_limit'], description: '`x-first-death-reason`' },
    older_than_ms: { ...intish, description: 'At least this old (ms since the broker accepted it)' },
    younger_than_ms: { ...intish, description: 'Younger than this (ms)' },
  },
} as const;

export type FilterBody = FromSchema<typeof filterSchema>;

/** Validated by `filterSchema` first; header values must not be null (AMQP tables carry no null). */
export function parseFilter(body: FilterBody | undefined): MessageFilter {
  if (body === undefined) return new MessageFilter();
  return new MessageFilter({
    routingKey: body.routing_key,
    headers: body.headers === undefined ? undefined : (checkArguments(body.headers, 'filter.headers') as Headers),
    payloadContains: body.payload_contains,
    firstDeathReason: body.first_death_reason,
    olderThanMs: body.older_than_ms === undefined ? undefined : int(body.older_than_ms, 0),
    youngerThanMs: body.younger_than_ms === undefined ? undefined : int(body.younger_than_ms, 0),
  });
}
