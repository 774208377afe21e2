/**
 * What every route module shares: the broker, users and client connections, the rate sampler, and the lookups and
 * checks every endpoint repeats (vhost by URL name, `amq.default`, vhost access, permission regexes).
 */
import type { BoundListener } from '../bound-listeners.js';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import type { Caller } from '../../operations/caller.js';
import type { Operations } from '../../operations/operations.js';
import type { Channel } from '../../broker/channel.js';
import type { VHost } from '../../broker/vhost.js';
import type { ClientConnection } from '../../protocol/client-connection.js';
import type { ConnectionRegistry } from '../../protocol/connection-registry.js';
import type { TlsStatus } from '../tls/certificate-expiry.js';
import type { ClusterStatus } from '../../cluster/cluster-status.js';
import type { ApiUser } from './auth.js';
import { badRequest, notAuthorised, notFound, objectNotFound } from './errors.js';
import { listQueryProperties } from './listing.js';
import type { RateSampler, Ranges } from './rates.js';

/**
 * The /api scope as every route module registers on it: `request.params`, `query`, `headers` and `body`
 * are typed from the route's `as const` schema, so a shape is written once, in the schema ajv enforces.
 * A property with a `default` comes out required: true here because the API's ajv fills defaults
 * (`useDefaults`), but only for a property of an object schema, never inside `anyOf`/`oneOf`. No route
 * schema has a default today; handlers supply their own fallbacks (`bool(body.durable, false)`).
 */
export type ApiInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, JsonSchemaToTsProvider>;

export interface ApiContext {
  readonly broker: Broker;
  readonly users: UserStore;
  /** Open connections of every protocol. */
  readonly connections: ConnectionRegistry;
  /** Every write goes through these, as the WebSocket's frames do. */
  readonly ops: Operations;
  readonly version: string;
  readonly sampler: RateSampler;
  /** RabbitMQ-style node name, `warren@<host>`. */
  readonly node: string;
  readonly startedAt: number;
  /** Where the HTTP server listens, once it does. */
  listener(): { address: string; port: number } | undefined;
  /** Every port the broker listens on, by protocol. */
  listeners(): readonly BoundListener[];
  /** Largest request body accepted by publish and definitions import. */
  readonly bigBodyLimit: number;
  /** Memory high watermark in bytes. */
  memoryLimit(): number;
  /** Bytes the data dir's message store holds on disk, and free bytes on its file system. */
  disk(): { path: string; used: number; free: number; freeLimit: number };
  /** The TLS listeners' certificates; undefined without TLS. */
  readonly tls?: TlsStatus | undefined;
  /** `/api/cluster` with `--cluster`; undefined on a single node. */
  readonly clusterStatus?: (() => ClusterStatus | Promise<ClusterStatus>) | undefined;
}

/** The vhost named in a GET/DELETE URL; RabbitMQ's plain 404 when it does not exist. */
export function vhostOr404(ctx: ApiContext, name: string): VHost {
  const vhost = ctx.broker.vhosts.get(name);
  if (!vhost) throw objectNotFound();
  return vhost;
}

/** The vhost named in a PUT/POST URL: RabbitMQ answers `vhost_not_found` there. */
export function vhostForWrite(ctx: ApiContext, name: string): VHost {
  const vhost = ctx.broker.vhosts.get(name);
  if (!vhost) throw notFound('vhost_not_found');
  return vhost;
}

/** In exchange-name positions of a URL, `amq.default` means the default exchange `""`. */
export function exchangeName(urlName: string): string {
  return urlName === 'amq.default' ? '' : urlName;
}

/** Administrators, and users with a permission entry in the vhost. */
function canSeeVhost(ctx: ApiContext, user: ApiUser, vhost: string): boolean {
  return user.isAdmin || ctx.users.canAccessVhost(user, vhost);
}

export function checkVhostAccess(ctx: ApiContext, user: ApiUser, vhost: string): void {
  if (!canSeeVhost(ctx, user, vhost)) throw notAuthorised('User not authorised to access virtual host');
}

/** Vhosts shown in all-vhost listings: every one to monitoring users, else those with permissions. */
export function visibleVhosts(ctx: ApiContext, user: ApiUser): VHost[] {
  const all = [...ctx.broker.vhosts.values()];
  return user.isMonitor ? all : all.filter((vhost) => ctx.users.canAccessVhost(user, vhost.name));
}

/** The vhosts a list endpoint covers: one (checked) or all visible ones. */
export function vhostsFor(ctx: ApiContext, user: ApiUser, name: string | undefined): VHost[] {
  if (name === undefined) return visibleVhosts(ctx, user);
  const vhost = vhostOr404(ctx, name);
  checkVhostAccess(ctx, user, vhost.name);
  return [vhost];
}

/** The management API acts as its user, in the vhost of the URL, with no connection of its own. */
export function callerIn(vhost: VHost, user: ApiUser): Caller {
  return { user, vhost, channel: null };
}

/** The open connection owning a channel, by the channel's `connection.id`. */
export function connectionOf(ctx: ApiContext, channel: Channel | null): ClientConnection | undefined {
  const connection = channel ? ctx.connections.get(channel.connection.id) : undefined;
  return connection?.isOpen ? connection : undefined;
}

/** Open connections visible to the user: all for monitoring users, else their own. */
export function visibleConnections(ctx: ApiContext, user: ApiUser, vhost?: string): ClientConnection[] {
  return ctx.connections.list().filter((connection) => {
    if (!connection.isOpen || !connection.vhost) return false;
    if (vhost !== undefined && connection.vhost.name !== vhost) return false;
    return user.isMonitor || connection.user?.name === user.name;
  });
}

/** RabbitMQ ≥ 3.12 prints timestamps such as `idle_since` as RFC 3339 with an explicit offset. */
export function rabbitTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** Body booleans: JSON booleans or the strings rabbitmqadmin sends; the schema has already checked. */
export function bool(value: Boolish | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value === true || value === 'true';
}

export function int(value: Intish | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : Number(value);
}

/** RabbitMQ rejects JSON null anywhere in an argument table (AMQP has no such value to carry it). */
export function checkArguments(args: unknown, what = 'arguments'): Record<string, unknown> {
  if (args === undefined) return {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw badRequest(`${what} must be an object`);
  const walk = (value: unknown): void => {
    if (value === null) throw badRequest(`${what} must not contain null`);
    if (typeof value === 'object') for (const inner of Object.values(value as object)) walk(inner);
  };
  walk(args);
  return args as Record<string, unknown>;
}

/** Names are AMQP short strings: at most 255 bytes. */
export function checkName(name: string, kind: string): void {
  if (Buffer.byteLength(name, 'utf8') > 255) throw badRequest(`${kind} name is longer than 255 bytes`);
}

/** `lengths_age`/`lengths_incr` and `msg_rates_age`/`msg_rates_incr` (seconds), both or neither. */
export function parseRanges(query: Readonly<Record<string, unknown>>): Ranges {
  return { lengths: parseRange(query, 'lengths'), msgRates: parseRange(query, 'msg_rates') };
}

function parseRange(query: Readonly<Record<string, unknown>>, prefix: string): { ageMs: number; incrMs: number } | undefined {
  const age = query[`${prefix}_age`];
  const incr = query[`${prefix}_incr`];
  if (age === undefined && incr === undefined) return undefined;
  const ageS = Number(age);
  const incrS = Number(incr);
  if (!Number.isInteger(ageS) || !Number.isInteger(incrS) || ageS < 0 || incrS < 1 || ageS / incrS > 1000) {
    throw badRequest(`invalid range: ${prefix}_age and ${prefix}_incr must be integers, incr >= 1, at most 1000 samples`);
  }
  return { ageMs: ageS * 1000, incrMs: incrS * 1000 };
}

export const rangeQueryProperties = {
  lengths_age: { type: 'string', description: 'Seconds of queue-length history to return as samples' },
  lengths_incr: { type: 'string', description: 'Seconds between length samples' },
  msg_rates_age: { type: 'string', description: 'Seconds of message-rate history to return as samples' },
  msg_rates_incr: { type: 'string', description: 'Seconds between message-rate samples' },
} as const;

/** JSON Schema pieces for bodies: RabbitMQ's lenient booleans and integers. */
export const boolish = { enum: [true, false, 'true', 'false'], description: 'boolean, or "true" / "false"' } as const;
export const intish = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^[0-9]+$' },
  ],
} as const;
export const table = { type: 'object', description: 'AMQP table (no null values)' } as const;
export type Boolish = FromSchema<typeof boolish>;
export type Intish = FromSchema<typeof intish>;

export const vhostParam = { type: 'string', description: 'Vhost name, percent-encoded (`%2F` for `/`)' } as const;
export const nameParam = { type: 'string', description: 'Object name, percent-encoded' } as const;
/** A path parameter with nothing to add to its name: what @fastify/swagger writes for an undeclared one. */
export const plainParam = { type: 'string' } as const;

/**
 * Route schemas shared by the resource modules. A path parameter is always there once the route matched,
 * so `required` changes nothing at run time (nor in the OpenAPI document); it makes the derived type say so.
 */
export const vhostParams = { type: 'object', properties: { vhost: vhostParam }, required: ['vhost'] } as const;
export const vhostNameParams = { type: 'object', properties: { vhost: vhostParam, name: nameParam }, required: ['vhost', 'name'] } as const;
export type VhostNameParams = FromSchema<typeof vhostNameParams>;
/** `vhost` without a description, for the routes whose OpenAPI entry never had one. */
export const bareVhostParams = { type: 'object', properties: { vhost: plainParam }, required: ['vhost'] } as const;
/** A list that also reports rates: paging, sorting, filtering, and the `*_age`/`*_incr` ranges. */
export const statsListQuery = { type: 'object', properties: { ...listQueryProperties, ...rangeQueryProperties } } as const;
