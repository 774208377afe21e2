import { isHashingAlgorithm, type HashingAlgorithm } from '../auth/password-hash.js';
import type { TopicPermissionChange } from '../auth/topic-permissions.js';
import { USER_LIMITS, type UserChange, type UserLimits } from '../auth/user-store.js';
import { destinationName, stableStringify, type BindingArguments } from '../broker/binding.js';
import type { DefinitionChange } from '../broker/persistence.js';
import type { ExchangeProperties } from '../broker/exchange.js';
import { parsePolicySpec, type PolicyKind, type PolicySpec } from '../broker/policy.js';
import { hasLimits, parseLimits, VHOST_LIMITS, type LimitKind, type VHostLimits } from '../broker/vhost-limits.js';

/**
 * One entry of the definitions log: the whole state of one durable object (an upsert), or its deletion.
 * The same key always names the same object, so applying a record twice leaves the same state, which
 * is what lets the log be compacted to its live records and replayed from any of them.
 * Short field names because every record repeats them: k kind, v vhost, n name, u user, s source,
 * t destination kind, r routing key, a binding arguments, d the object's data, del a deletion.
 */
export type DefinitionRecord =
  | Entry<{ readonly k: 'vhost'; readonly n: string }, VhostData>
  | Entry<{ readonly k: 'user'; readonly n: string }, UserData>
  | Entry<{ readonly k: 'permission'; readonly v: string; readonly u: string }, PermissionData>
  // x: the topic exchange the permission is about.
  | Entry<{ readonly k: 'topic-permission'; readonly v: string; readonly u: string; readonly x: string }, TopicPermissionData>
  | Entry<{ readonly k: 'exchange'; readonly v: string; readonly n: string }, ExchangeData>
  | Entry<{ readonly k: 'queue'; readonly v: string; readonly n: string }, QueueData>
  | Entry<{ readonly k: PolicyKind; readonly v: string; readonly n: string }, PolicySpec>
  // A binding is nothing but its key: an upsert is the key alone.
  | (BindingKey & { readonly del?: true })
  | { readonly k: 'cluster-name'; readonly d: { readonly name: string }; readonly del?: undefined };

type Entry<Key, Data> = Key & ({ readonly d: Data; readonly del?: undefined } | { readonly del: true; readonly d?: undefined });

export type RecordKind = DefinitionRecord['k'];

export interface BindingKey {
  readonly k: 'binding';
  readonly v: string;
  /** Source exchange. */
  readonly s: string;
  readonly t: 'queue' | 'exchange';
  /** Destination queue or exchange. */
  readonly n: string;
  readonly r: string;
  readonly a: BindingArguments;
}

export interface VhostData {
  readonly description: string;
  readonly tags: readonly string[];
  readonly defaultQueueType: string;
  readonly tracing: boolean;
  /** Absent in logs from before limits, and when the vhost has none. */
  readonly limits?: VHostLimits;
}

export interface UserData {
  readonly passwordHash: string;
  readonly hashingAlgorithm: HashingAlgorithm;
  readonly tags: readonly string[];
  /** Absent in logs from before limits, and when the user has none. */
  readonly limits?: UserLimits;
}

export interface PermissionData {
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface TopicPermissionData {
  readonly write: string;
  readonly read: string;
}

/** An exchange record holds exactly the exchange's own properties. */
export type ExchangeData = ExchangeProperties;

export interface QueueData {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: BindingArguments;
  readonly declaredBy: string;
}

export function isDeletion(record: DefinitionRecord): boolean {
  return record.del === true;
}

/**
 * The identity of the object a record is about. A JSON array, so no name, whatever characters it holds,
 * can make two different keys collide; binding arguments are compared key-order-free.
 */
export function recordKey(record: DefinitionRecord): string {
  switch (record.k) {
    case 'vhost':
    case 'user':
      return JSON.stringify([record.k, record.n]);
    case 'permission':
      return JSON.stringify([record.k, record.v, record.u]);
    case 'topic-permission':
      return JSON.stringify([record.k, record.v, record.u, record.x]);
    case 'exchange':
    case 'queue':
    case 'policy':
    case 'operator-policy':
      return JSON.stringify([record.k, record.v, record.n]);
    case 'binding':
      return JSON.stringify([record.k, record.v, record.s, record.t, record.n, record.r, stableStringify(record.a)]);
    case 'cluster-name':
      return '["cluster-name"]';
  }
}

/** The key of a binding end, as `bindingEnds` gives it: what deleting that exchange or queue drops. */
export function endKey(vhost: string, kind: 'queue' | 'exchange', name: string): string {
  return JSON.stringify([kind, vhost, name]);
}

export function bindingEnds(record: BindingKey): [string, string] {
  return [endKey(record.v, 'exchange', record.s), endKey(record.v, record.t, record.n)];
}

export function recordOfChange(change: DefinitionChange): DefinitionRecord {
  const del = change.kind !== 'cluster-name' && change.deleted ? ({ del: true } as const) : undefined;
  switch (change.kind) {
    case 'vhost': {
      const { name, metadata } = change.vhost;
      if (del) return { k: 'vhost', n: name, ...del };
      const limits = hasLimits(change.vhost.limits) ? { limits: change.vhost.limits } : {};
      const d = { description: metadata.description, tags: [...metadata.tags], defaultQueueType: metadata.defaultQueueType, tracing: metadata.tracing, ...limits };
      return { k: 'vhost', n: name, d };
    }
    case 'exchange': {
      const x = change.exchange;
      if (del) return { k: 'exchange', v: x.vhost, n: x.name, ...del };
      const d = { type: x.type, durable: x.durable, autoDelete: x.autoDelete, internal: x.internal, arguments: x.arguments, declaredBy: x.declaredBy };
      return { k: 'exchange', v: x.vhost, n: x.name, d };
    }
    case 'queue': {
      const q = change.queue;
      if (del) return { k: 'queue', v: q.vhost, n: q.name, ...del };
      return { k: 'queue', v: q.vhost, n: q.name, d: { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments, declaredBy: q.declaredBy } };
    }
    case 'binding': {
      const b = change.binding;
      const key: BindingKey = {
        k: 'binding',
        v: b.source.vhost,
        s: b.source.name,
        t: b.destination.kind,
        n: destinationName(b.destination),
        r: b.routingKey,
        a: b.arguments,
      };
      return del ? { ...key, ...del } : key;
    }
    case 'policy': {
      const p = change.policy;
      if (del) return { k: p.kind, v: p.vhost, n: p.name, ...del };
      return { k: p.kind, v: p.vhost, n: p.name, d: { pattern: p.pattern, applyTo: p.applyTo, priority: p.priority, definition: p.definition } };
    }
    case 'cluster-name':
      return { k: 'cluster-name', d: { name: change.name } };
  }
}

export function recordOfUserChange(change: UserChange): DefinitionRecord {
  if (change.kind === 'user') {
    const { name, passwordHash, hashingAlgorithm, tags, limits } = change.user;
    if (change.deleted) return { k: 'user', n: name, del: true };
    return { k: 'user', n: name, d: { passwordHash, hashingAlgorithm, tags: [...tags], ...(limits && hasLimits(limits) ? { limits } : {}) } };
  }
  if (change.kind === 'topic-permission') return recordOfTopicPermissionChange(change);
  const { vhost, user, configure, write, read } = change.permission;
  if (change.deleted) return { k: 'permission', v: vhost, u: user, del: true };
  return { k: 'permission', v: vhost, u: user, d: { configure, write, read } };
}

function recordOfTopicPermissionChange(change: TopicPermissionChange): DefinitionRecord {
  const { vhost, user, exchange, write, read } = change.permission;
  if (change.deleted) return { k: 'topic-permission', v: vhost, u: user, x: exchange, del: true };
  return { k: 'topic-permission', v: vhost, u: user, x: exchange, d: { write, read } };
}

/**
 * Checks a decoded payload field by field: a record that passed its checksum but is not one Warren
 * writes (a bug, or a newer Warren's record) must stop the start, not half-apply. Returns the problem.
 */
export function checkRecord(value: unknown): DefinitionRecord | string {
  if (!isObject(value)) return 'not an object';
  const deleted = value['del'] === true;
  if (value['del'] !== undefined && !deleted) return "'del' is not true";
  const data = value['d'];
  if (deleted && data !== undefined) return 'a deletion with data';
  switch (value['k']) {
    case 'vhost':
      return need(value, ['n']) ?? (deleted ? ok(value) : checkVhostData(data) ?? ok(value));
    case 'user':
      return need(value, ['n']) ?? (deleted ? ok(value) : checkUserData(data) ?? ok(value));
    case 'permission':
      return need(value, ['v', 'u']) ?? (deleted ? ok(value) : checkStrings(data, ['configure', 'write', 'read']) ?? ok(value));
    case 'topic-permission':
      return need(value, ['v', 'u', 'x']) ?? (deleted ? ok(value) : checkStrings(data, ['write', 'read']) ?? ok(value));
    case 'exchange':
      return need(value, ['v', 'n']) ?? (deleted ? ok(value) : checkExchangeData(data) ?? ok(value));
    case 'queue':
      return need(value, ['v', 'n']) ?? (deleted ? ok(value) : checkQueueData(data) ?? ok(value));
    case 'policy':
    case 'operator-policy':
      return need(value, ['v', 'n']) ?? (deleted ? ok(value) : checkPolicyData(value['k'], data) ?? ok(value));
    case 'binding':
      if (data !== undefined) return 'a binding with data';
      if (value['t'] !== 'queue' && value['t'] !== 'exchange') return "binding 't' is neither 'queue' nor 'exchange'";
      return need(value, ['v', 's', 'n', 'r']) ?? (isObject(value['a']) ? ok(value) : "binding 'a' is not an object");
    case 'cluster-name':
      if (deleted) return 'a deleted cluster name';
      return checkStrings(data, ['name']) ?? ok(value);
    default:
      return `unknown kind ${JSON.stringify(value['k']) ?? 'none'}`;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The caller has checked every field the kind needs: this only tells TypeScript so.
function ok(value: Record<string, unknown>): DefinitionRecord {
  return value as unknown as DefinitionRecord;
}

function need(value: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const field of fields) if (typeof value[field] !== 'string') return `'${field}' is not a string`;
  return undefined;
}

function checkStrings(data: unknown, fields: readonly string[]): string | undefined {
  if (!isObject(data)) return "'d' is not an object";
  for (const field of fields) if (typeof data[field] !== 'string') return `'d.${field}' is not a string`;
  return undefined;
}

function checkBooleans(data: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const field of fields) if (typeof data[field] !== 'boolean') return `'d.${field}' is not a boolean`;
  return undefined;
}

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function checkVhostData(data: unknown): string | undefined {
  const problem = checkStrings(data, ['description', 'defaultQueueType']);
  if (problem || !isObject(data)) return problem ?? "'d' is not an object";
  if (!isStringList(data['tags'])) return "'d.tags' is not a list of strings";
  return checkBooleans(data, ['tracing']) ?? checkLimits(data, VHOST_LIMITS);
}

function checkUserData(data: unknown): string | undefined {
  const problem = checkStrings(data, ['passwordHash', 'hashingAlgorithm']);
  if (problem || !isObject(data)) return problem ?? "'d' is not an object";
  if (!isHashingAlgorithm(data['hashingAlgorithm'] as string)) return `unknown hashing algorithm '${String(data['hashingAlgorithm'])}'`;
  return isStringList(data['tags']) ? checkLimits(data, USER_LIMITS) : "'d.tags' is not a list of strings";
}

function checkLimits<Name extends string>(data: Record<string, unknown>, kind: LimitKind<Name>): string | undefined {
  if (data['limits'] === undefined) return undefined;
  const limits = parseLimits(kind, data['limits']);
  return typeof limits === 'string' ? `'d.limits': ${limits}` : undefined;
}

function checkExchangeData(data: unknown): string | undefined {
  const problem = checkStrings(data, ['type', 'declaredBy']);
  if (problem || !isObject(data)) return problem ?? "'d' is not an object";
  return checkBooleans(data, ['durable', 'autoDelete', 'internal']) ?? (isObject(data['arguments']) ? undefined : "'d.arguments' is not an object");
}

function checkQueueData(data: unknown): string | undefined {
  const problem = checkStrings(data, ['declaredBy']);
  if (problem || !isObject(data)) return problem ?? "'d' is not an object";
  return checkBooleans(data, ['durable', 'autoDelete']) ?? (isObject(data['arguments']) ? undefined : "'d.arguments' is not an object");
}

/** The same checks as a policy set over the API, so a record replays exactly as it was accepted. */
function checkPolicyData(kind: PolicyKind, data: unknown): string | undefined {
  if (!isObject(data)) return "'d' is not an object";
  const spec = parsePolicySpec(kind, data);
  return 'pattern' in spec ? undefined : spec.message.replace(/\s+/g, ' ').trim();
}
