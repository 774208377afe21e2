/**
 * JSON shapes of queues, exchanges and bindings, with RabbitMQ's field names (rabbit_mgmt_format).
 * Connections, channels and consumers are in format-connections.ts.
 */
import type { Binding } from '../../broker/binding.js';
import { DeathReasons } from '../../broker/dead-letter.js';
import { effectiveDefinition } from '../../broker/effective-policy.js';
import type { MessageStats } from '../../broker/message-stats.js';
import type { Exchange } from '../../broker/exchange.js';
import type { Queue } from '../../broker/queue.js';
import type { VHost } from '../../broker/vhost.js';
import { createHash } from 'node:crypto';
import { rabbitTime, type ApiContext } from './context.js';
import { formatConsumer } from './format-connections.js';
import { FORMAT } from './listing.js';
import { exchangeCounters, ExchangeMetrics, queueCounters, QueueMetrics, type Ranges } from './rates.js';

export function formatQueue(ctx: ApiContext, queue: Queue, ranges: Ranges, detailed = false): Record<string, unknown> {
  const ready = queue.messageCount;
  const unacked = queue.unackedCount;
  const series = ctx.sampler.series('queue', queue);
  const consumers = queue.consumerList;
  const readyBytes = queue.readyBytes;
  const unackedBytes = queue.unackedBytes;
  const capacity = consumers.length === 0 ? 0 : consumers.filter((c) => c.hasCapacity).length / consumers.length;
  const exclusiveConsumer = consumers.find((c) => c.exclusive);
  const owner = queue.owner ? ctx.connections.get(queue.owner.id) : undefined;
  const out: Record<string, unknown> = {
    arguments: queue.arguments,
    auto_delete: queue.autoDelete,
    consumer_capacity: capacity,
    consumer_utilisation: capacity,
    consumers: consumers.length,
    durable: queue.durable,
    effective_policy_definition: effectiveDefinition(queue.policy, queue.operatorPolicy),
    exclusive: queue.exclusive,
    exclusive_consumer_tag: exclusiveConsumer ? exclusiveConsumer.tag : null,
    head_message_timestamp: null,
    memory: estimateMemory(queue),
    message_bytes: readyBytes + unackedBytes,
    message_bytes_ready: readyBytes,
    message_bytes_unacknowledged: unackedBytes,
    messages: ready + unacked,
    messages_details: ctx.sampler.details(series, QueueMetrics, 'messages', ranges),
    messages_ready: ready,
    messages_ready_details: ctx.sampler.details(series, QueueMetrics, 'messages_ready', ranges),
    messages_unacknowledged: unacked,
    messages_unacknowledged_details: ctx.sampler.details(series, QueueMetrics, 'messages_unacknowledged', ranges),
    name: queue.name,
    node: ctx.node,
    operator_policy: queue.operatorPolicy?.name ?? null,
    policy: queue.policy?.name ?? null,
    single_active_consumer_tag: queue.limits.singleActiveConsumer ? (consumers[0]?.tag ?? null) : null,
    state: 'running',
    type: 'classic',
    vhost: queue.vhost,
  };
  Object.assign(out, deadLetterCounters(queue.stats));
  if (series?.idle && consumers.length === 0) out.idle_since = rabbitTime(series.changedAt);
  const stats = ctx.sampler.messageStats(queueCounters(queue), series, QueueMetrics, ranges);
  if (stats) out.message_stats = stats;
  if (queue.exclusive && owner) out.owner_pid_details = { name: owner.id, peer_host: owner.peer.address, peer_port: owner.peer.port };
  if (detailed) out.consumer_details = consumers.map((consumer) => formatConsumer(ctx, consumer));
  return out;
}

/**
 * Messages that died in a queue with a dead-letter exchange, by reason, under RabbitMQ's global counter
 * names (its management queue objects have none); `messages_dead_letter_dropped_total` is Warren's: dead
 * letters whose exchange did not exist or whose every target closed a cycle.
 */
export function deadLetterCounters(stats: MessageStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const reason of DeathReasons) out[`messages_dead_lettered_${reason}_total`] = stats.deadLettered[reason];
  out.messages_dead_letter_dropped_total = stats.deadLetterDropped;
  return out;
}

/** A rough figure for consoles: per-entry overhead plus the bodies held in memory. */
function estimateMemory(queue: Queue): number {
  return 4096 + (queue.messageCount + queue.unackedCount) * 160 + queue.readyBytes + queue.consumerCount * 512;
}

export function formatExchange(ctx: ApiContext, exchange: Exchange, ranges: Ranges): Record<string, unknown> {
  const out: Record<string, unknown> = {
    arguments: exchange.arguments,
    auto_delete: exchange.autoDelete,
    durable: exchange.durable,
    internal: exchange.internal,
    name: exchange.name,
    type: exchange.type,
    user_who_performed_action: exchange.declaredBy,
    vhost: exchange.vhost,
  };
  // As RabbitMQ: present only when a policy applies; exchanges report no operator policy.
  if (exchange.policy) out.policy = exchange.policy.name;
  const stats = ctx.sampler.messageStats(exchangeCounters(exchange), ctx.sampler.series('exchange', exchange), ExchangeMetrics, ranges);
  if (stats) out.message_stats = stats;
  // Warren extension: what a delayed exchange holds (see GET …/scheduled).
  if (exchange.scheduled) {
    const next = exchange.scheduled.nextDue;
    out.scheduled_messages = exchange.scheduled.count;
    out.next_scheduled_at = next === undefined ? null : rabbitTime(next);
  }
  return out;
}

/** One row of a bindings list: an explicit binding, or a queue's implicit default-exchange binding. */
export interface BindingRow {
  readonly source: string;
  readonly vhost: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export function bindingRow(binding: Binding): BindingRow {
  const destination = binding.destination;
  return {
    source: binding.source.name,
    vhost: binding.source.vhost,
    destination: destination.kind === 'queue' ? destination.queue.name : destination.exchange.name,
    destinationType: destination.kind,
    routingKey: binding.routingKey,
    arguments: binding.arguments,
  };
}

export function implicitBinding(queue: Queue): BindingRow {
  return { source: '', vhost: queue.vhost, destination: queue.name, destinationType: 'queue', routingKey: queue.name, arguments: {} };
}

/** Every binding of a vhost as RabbitMQ lists them: the implicit default-exchange ones included. */
export function allBindings(vhost: VHost): BindingRow[] {
  const rows: BindingRow[] = [];
  for (const queue of vhost.queues.values()) rows.push(implicitBinding(queue));
  for (const binding of vhost.bindings()) rows.push(bindingRow(binding));
  return rows;
}

export function formatBinding(row: BindingRow): Record<string, unknown> {
  return {
    source: row.source,
    vhost: row.vhost,
    destination: row.destination,
    destination_type: row.destinationType,
    routing_key: row.routingKey,
    arguments: row.arguments,
    properties_key: propertiesKey(row.routingKey, row.arguments),
  };
}

export const bindingListSpec = {
  defaultSort: ['vhost', 'source', 'destination_type', 'destination', 'routing_key', 'properties_key'],
  pageable: false,
  format: formatBinding,
  key(row: BindingRow, key: string): unknown {
    switch (key) {
      case 'vhost':
        return row.vhost;
      case 'source':
        return row.source;
      case 'destination':
        return row.destination;
      case 'destination_type':
        return row.destinationType;
      case 'routing_key':
        return row.routingKey;
      default:
        return FORMAT;
    }
  },
} as const;

/**
 * A binding has no id; RabbitMQ derives `properties_key` from the routing key and a hash of the
 * arguments. Clients treat it as opaque, so any stable hash works as long as lists, `Location` and
 * DELETE agree.
 */
export function propertiesKey(routingKey: string, args: Readonly<Record<string, unknown>>): string {
  const hasArgs = Object.keys(args).length > 0;
  if (!hasArgs) return routingKey === '' ? '~' : escapeKey(routingKey);
  return `${escapeKey(routingKey)}~${argumentsHash(args)}`;
}

function argumentsHash(args: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(stable(args)).digest().subarray(0, 6).toString('base64url');
}

function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(record[k])}`)
    .join(',')}}`;
}

/** RabbitMQ's escaping: letters, digits, `.`, `-`, `_` kept; space → `+`; every other byte `%XX`. */
function escapeKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9._-]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The `{props}` URL segment (already percent-decoded once by the router) back to key and hash. */
export function parsePropertiesKey(props: string): { routingKey: string; hash: string | undefined } | undefined {
  if (props === '~') return { routingKey: '', hash: undefined };
  const tilde = props.indexOf('~');
  const keyPart = tilde < 0 ? props : props.slice(0, tilde);
  try {
    const routingKey = decodeURIComponent(keyPart.replace(/\+/g, ' '));
    return { routingKey, hash: tilde < 0 ? undefined : props.slice(tilde + 1) };
  } catch {
    return undefined;
  }
}

export function matchesPropertiesKey(row: BindingRow, parsed: { routingKey: string; hash: string | undefined }): boolean {
  if (row.routingKey !== parsed.routingKey) return false;
  const hasArgs = Object.keys(row.arguments).length > 0;
  return parsed.hash === undefined || parsed.hash === '' ? !hasArgs : hasArgs && argumentsHash(row.arguments) === parsed.hash;
}
