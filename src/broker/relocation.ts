/**
 * What an operator's move or dead-letter retry republishes: the same message, readdressed. Pure rules;
 * the operations layer (src/operations/message-mover.ts) routes and stores the copies.
 */
import type { HeaderValue, Headers, MessageContent } from './message.js';
import { TextContent } from './message.js';

/** The content with another exchange and routing key: properties, headers and body unchanged. */
export function readdressed(content: MessageContent, exchange: string, routingKey: string): MessageContent {
  if (content.exchange === exchange && content.routingKey === routingKey) return content;
  return content instanceof TextContent
    ? new TextContent(exchange, routingKey, content.properties, content.text, content.size)
    : { exchange, routingKey, properties: content.properties, body: content.body };
}

/** Where a dead-lettered message first died: the exchange it had been published to, and its routing keys. */
export interface DeathOrigin {
  readonly exchange: string;
  readonly routingKeys: readonly string[];
}

/**
 * Read from the death headers dead-lettering wrote (dead-letter.ts `recordDeath`): the exchange is
 * `x-first-death-exchange`; the routing keys are those of the first death's `x-death` entry, the one for
 * `x-first-death-queue` and `x-first-death-reason` (entries are per {queue, reason} and keep the keys of
 * their first death), else the oldest entry. Undefined without both an exchange and a routing key: not a
 * dead letter, or one whose headers a client rewrote beyond use.
 */
export function deathOrigin(headers: Readonly<Headers> | undefined): DeathOrigin | undefined {
  if (!headers) return undefined;
  const history = Array.isArray(headers['x-death']) ? headers['x-death'].filter(isTable) : [];
  const queue = headers['x-first-death-queue'];
  const reason = headers['x-first-death-reason'];
  const first = history.find((entry) => entry.queue === queue && entry.reason === reason) ?? history[history.length - 1];
  const named = headers['x-first-death-exchange'];
  const exchange = typeof named === 'string' ? named : first?.exchange;
  const keys = first?.['routing-keys'];
  const routingKeys = Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : [];
  if (typeof exchange !== 'string' || routingKeys.length === 0) return undefined;
  return { exchange, routingKeys };
}

function isTable(value: HeaderValue): value is Headers {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
