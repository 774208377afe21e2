/**
 * Vhost limits (`max-connections`, `max-queues`) and the rules RabbitMQ applies to them
 * (`rabbit_vhost_limit.erl`): a negative value means no limit, 0 allows nothing, N allows N. The same
 * validation serves user limits (`rabbit_auth_backend_internal.erl`), which take the same integers.
 */
import { erlangTerm } from './erlang-term.js';
import { BrokerError, preconditionFailed } from './errors.js';

export const VHOST_LIMIT_NAMES = ['max-connections', 'max-queues'] as const;
export type VHostLimitName = (typeof VHOST_LIMIT_NAMES)[number];
export type VHostLimits = Readonly<Partial<Record<VHostLimitName, number>>>;

/** A set of limits as RabbitMQ validates it: named by `component` in its messages (`limits`, `user-limits`). */
export interface LimitKind<Name extends string> {
  readonly component: string;
  readonly names: readonly Name[];
}

export const VHOST_LIMITS: LimitKind<VHostLimitName> = { component: 'limits', names: VHOST_LIMIT_NAMES };

/**
 * `current` with `name` set to `value`, or the reason RabbitMQ gives for refusing it, in its words
 * (`rabbit_parameter_validation:proplist/3`, values printed as Erlang terms).
 */
export function withLimit<Name extends string>(
  kind: LimitKind<Name>,
  current: Readonly<Partial<Record<Name, number>>>,
  name: string,
  value: unknown,
): Readonly<Partial<Record<Name, number>>> | string {
  if (!isLimitName(kind, name)) return `Unrecognised terms [{${erlangTerm(name)},${erlangTerm(value)}}] in ${kind.component}`;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${name} should be a number, actually was ${erlangTerm(value)}`;
  return sortedLimits(kind, { ...current, [name]: value });
}

/** `current` without `name`; removing a limit that is not set changes nothing, as in RabbitMQ. */
export function withoutLimit<Name extends string>(
  kind: LimitKind<Name>,
  current: Readonly<Partial<Record<Name, number>>>,
  name: string,
): Readonly<Partial<Record<Name, number>>> {
  const next: Partial<Record<Name, number>> = {};
  for (const key of kind.names) if (key !== name && current[key] !== undefined) next[key] = current[key];
  return next;
}

/**
 * A whole set of limits as stored or imported: every key known, every value an integer. Returns the
 * limits in a stable key order, or the first problem.
 */
export function parseLimits<Name extends string>(kind: LimitKind<Name>, value: unknown): Readonly<Partial<Record<Name, number>>> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${kind.component} not a list ${erlangTerm(value)}`;
  let limits: Partial<Record<Name, number>> = {};
  for (const [name, limit] of Object.entries(value)) {
    const next = withLimit(kind, limits, name, limit);
    if (typeof next === 'string') return next;
    limits = { ...next };
  }
  return limits;
}

export function hasLimits(limits: Readonly<Record<string, number | undefined>>): boolean {
  return Object.values(limits).some((value) => value !== undefined);
}

/** Whether one more is refused when `count` are there: negative or unset is no limit, 0 refuses all. */
export function limitReached(limit: number | undefined, count: number): boolean {
  if (limit === undefined || limit < 0) return false;
  return count >= limit;
}

/** Refuses a new queue once the vhost holds `max-queues`; redeclaring an existing one never gets here. */
export function checkQueueLimit(limits: VHostLimits, vhost: string, queue: string, queueCount: number): void {
  const limit = limits['max-queues'];
  if (limit !== undefined && limitReached(limit, queueCount)) {
    throw preconditionFailed(`cannot declare queue '${queue}': queue limit in vhost '${vhost}' (${limit}) is reached`);
  }
}

/** 530 for a connection to a vhost holding `max-connections` connections already (`rabbit_reader`). */
export function checkConnectionLimit(limits: VHostLimits, vhost: string, user: string, connectionCount: number): void {
  const limit = limits['max-connections'];
  if (limit !== undefined && limitReached(limit, connectionCount)) {
    throw new BrokerError('NOT_ALLOWED', `access to vhost '${vhost}' refused for user '${user}': connection limit (${limit}) is reached`);
  }
}

function isLimitName<Name extends string>(kind: LimitKind<Name>, name: string): name is Name {
  return (kind.names as readonly string[]).includes(name);
}

function sortedLimits<Name extends string>(kind: LimitKind<Name>, limits: Readonly<Partial<Record<Name, number>>>): Readonly<Partial<Record<Name, number>>> {
  const sorted: Partial<Record<Name, number>> = {};
  for (const name of kind.names) if (limits[name] !== undefined) sorted[name] = limits[name];
  return sorted;
}
