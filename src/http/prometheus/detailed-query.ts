import { NODE_FAMILIES, CLUSTER_FAMILIES } from './node-families.js';
import { OBJECT_FAMILIES } from './object-families.js';

/** What `/metrics/detailed` was asked for. */
export interface DetailedQuery {
  readonly families: ReadonlySet<string>;
  /** Undefined: every vhost. */
  readonly vhosts: ReadonlySet<string> | undefined;
}

/** RabbitMQ families Warren has no numbers for: refused by name rather than answered empty. */
const NOT_IMPLEMENTED = new Set([
  'channel_process_metrics',
  'channel_queue_exchange_metrics',
  'queue_exchange_metrics',
  'auth_attempt_metrics',
  'auth_attempt_detailed_metrics',
  'stream_consumer_metrics',
  'node_memory',
]);

export const DETAILED_FAMILIES: readonly string[] = [...Object.keys(NODE_FAMILIES), ...Object.keys(OBJECT_FAMILIES), ...Object.keys(CLUSTER_FAMILIES)];

export class DetailedQueryError extends Error {}

/**
 * Reads `family` (repeated) and `vhost` (repeated) as RabbitMQ does. Unlike RabbitMQ, which ignores a
 * family it does not know, a name that selects nothing is an error: a typo would otherwise look like an
 * idle broker.
 */
export function parseDetailedQuery(params: URLSearchParams): DetailedQuery {
  for (const key of new Set(params.keys())) {
    if (key === 'family' || key === 'vhost') continue;
    if (key === 'queue') throw new DetailedQueryError("query parameter 'queue' (a queue name filter) is not supported by Warren; filter by 'vhost'");
    throw new DetailedQueryError(`unknown query parameter '${key}'; expected 'family' and 'vhost'`);
  }
  const families = new Set<string>();
  for (const family of params.getAll('family')) {
    if (NOT_IMPLEMENTED.has(family)) throw new DetailedQueryError(`metric family '${family}' is not implemented by Warren; available: ${DETAILED_FAMILIES.join(', ')}`);
    if (!DETAILED_FAMILIES.includes(family)) throw new DetailedQueryError(`unknown metric family '${family}'; available: ${DETAILED_FAMILIES.join(', ')}`);
    families.add(family);
  }
  const vhosts = params.getAll('vhost');
  return { families, vhosts: vhosts.length === 0 ? undefined : new Set(vhosts) };
}
