/**
 * RabbitMQ's definitions JSON (`GET/POST /api/definitions`, `rabbitmqadmin export/import`). It lives
 * beside the REST API that speaks it; the data dir keeps definitions in a log of its own (src/store).
 */
import { Ajv } from 'ajv';
import { HashingAlgorithms, isHashingAlgorithm, type HashingAlgorithm } from '../../auth/password-hash.js';
import type { UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import { BrokerError } from '../../broker/errors.js';
import { validateQueueArguments } from '../../broker/queue-arguments.js';
import { isDurableBinding } from '../../broker/vhost.js';
import { trustedActor, type Caller } from '../../operations/caller.js';
import type { Operations } from '../../operations/operations.js';
import { exportPolicies, OPERATOR_POLICY_COMPONENT, planPolicy, type PolicyPlan } from './definitions-policies.js';
import { ImportReport } from './definitions-report.js';
import { exportUserLimits, exportVhostLimits, importLimits, isVhostLimitsParameter, planLimits } from './definitions-limits.js';
import { exportTopicPermissions, importTopicPermissions, planTopicPermissions } from './definitions-topic-permissions.js';

/** The RabbitMQ release whose definitions format (and management API) Warren follows. */
export const RABBITMQ_VERSION = '3.13.7';

export interface ExportOptions {
  /** Export one vhost, in RabbitMQ's per-vhost shape (no users, vhosts or permissions; no `vhost` keys). */
  readonly vhost?: string | undefined;
  /** Warren's version, for `product_version`. */
  readonly version: string;
  /**
   * Also export transient (non-durable) queues, exchanges and bindings, as RabbitMQ's export does.
   * Off by default: a durability snapshot must not bring transient objects back after a restart.
   */
  readonly includeTransient?: boolean | undefined;
}

export interface ImportOptions {
  /** Import into this vhost only; items' own `vhost` keys are ignored (and users, vhosts, permissions). */
  readonly vhost?: string | undefined;
  /** Who imports: recorded as `user_who_performed_action` (default `rmq-internal`). */
  readonly actingUser?: string | undefined;
}

/** RabbitMQ accepts tags as an array or a comma-separated string. */
export function parseTags(tags: unknown): string[] {
  const list = Array.isArray(tags) ? tags.map(String) : typeof tags === 'string' ? tags.split(',') : [];
  return [...new Set(list.map((t) => t.trim()).filter((t) => t !== ''))];
}

// ---- Export ---------------------------------------------------------------------------------------------

export function exportDefinitions(broker: Broker, users: UserStore, options: ExportOptions): Record<string, unknown> {
  const vhosts = options.vhost === undefined ? [...broker.vhosts.values()] : [broker.vhost(options.vhost)];
  const transient = options.includeTransient ?? false;
  const perVhost = options.vhost !== undefined;
  const queues: Record<string, unknown>[] = [];
  const exchanges: Record<string, unknown>[] = [];
  const bindings: Record<string, unknown>[] = [];
  for (const vhost of vhosts) {
    // The per-vhost shape has no `vhost` keys: the file can be imported into any vhost.
    const where = perVhost ? {} : { vhost: vhost.name };
    for (const q of vhost.queues.values()) {
      if (q.exclusive || (!q.durable && !transient)) continue;
      queues.push({ name: q.name, ...where, durable: q.durable, auto_delete: q.autoDelete, arguments: q.arguments });
    }
    for (const x of vhost.exchanges.values()) {
      if (x.name === '' || x.name.startsWith('amq.') || (!x.durable && !transient)) continue;
      exchanges.push({
        name: x.name,
        ...where,
        type: x.type,
        durable: x.durable,
        auto_delete: x.autoDelete,
        internal: x.internal,
        arguments: x.arguments,
      });
    }
    for (const b of vhost.bindings()) {
      const d = b.destination;
      if (d.kind === 'queue' && d.queue.exclusive) continue;
      if (!transient && !isDurableBinding(b)) continue;
      bindings.push({
        source: b.source.name,
        ...where,
        destination: d.kind === 'queue' ? d.queue.name : d.exchange.name,
        destination_type: d.kind,
        routing_key: b.routingKey,
        arguments: b.arguments,
      });
    }
  }
  const { policies, parameters: operatorPolicies } = exportPolicies(vhosts, perVhost);
  const parameters = [...exportVhostLimits(vhosts, perVhost), ...operatorPolicies];
  if (perVhost) return { rabbit_version: RABBITMQ_VERSION, parameters, policies, queues, exchanges, bindings };
  const clusterName = broker.clusterName;
  return {
    rabbit_version: RABBITMQ_VERSION,
    rabbitmq_version: RABBITMQ_VERSION,
    product_name: 'Warren',
    product_version: options.version,
    users: users.listUsers().map((u) => ({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: u.hashingAlgorithm,
      tags: [...u.tags],
      limits: exportUserLimits(u),
    })),
    vhosts: vhosts.map((vhost) => {
      const m = vhost.metadata;
      const metadata = { description: m.description, tags: [...m.tags], default_queue_type: m.defaultQueueType };
      return { name: vhost.name, ...metadata, metadata };
    }),
    permissions: users.listPermissions().map((p) => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read })),
    topic_permissions: exportTopicPermissions(users),
    parameters,
    global_parameters: clusterName === undefined ? [] : [{ name: 'cluster_name', value: clusterName }],
    policies,
    queues,
    exchanges,
    bindings,
  };
}

// ---- Import ---------------------------------------------------------------------------------------------

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
      properties: { name: str, description: str, tags, default_queue_type: str, metadata: object },
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

type Boolish = boolean | 'true' | 'false';
type Tags = string | string[];
// The shapes `documentSchema` guarantees once it has validated a document.
interface UserDef { name: string; password_hash?: string; password?: string; hashing_algorithm?: string; tags?: Tags; limits?: unknown }
interface VhostDef { name: string; description?: string; tags?: Tags; default_queue_type?: string; metadata?: Record<string, unknown>; limits?: unknown }
interface PermissionDef { user: string; vhost: string; configure: string; write: string; read: string }
interface QueueDef { name: string; vhost?: string; durable?: Boolish; auto_delete?: Boolish; arguments?: Record<string, unknown> }
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
interface DefinitionsDocument {
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

const validateDocument = new Ajv({ allErrors: false, strict: false, coerceTypes: false }).compile<DefinitionsDocument>(documentSchema);

const invalid = (message: string): BrokerError => new BrokerError('PRECONDITION_FAILED', `definitions: ${message}`);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const bool = (value: Boolish | undefined, fallback: boolean): boolean => (value === undefined ? fallback : value === true || value === 'true');

/**
 * Merges a definitions document into the broker, in RabbitMQ's order: users, vhosts, permissions,
 * policies, exchanges, global parameters, queues, bindings. Existing queues and exchanges are left as
 * they are; users, permissions and policies are overwritten; `amq.*` and the default exchange are
 * skipped. Everything that can be checked up front is, so a bad file usually changes nothing; a failure
 * later leaves a partial import, as in RabbitMQ. Sections, keys and parameters Warren has nothing
 * behind are not imported and are listed in the returned report, never dropped without a word.
 * Vhost and user limits are set last (definitions-limits.ts).
 */
export async function importDefinitions(
  ops: Operations,
  broker: Broker,
  users: UserStore,
  json: unknown,
  options: ImportOptions = {},
): Promise<ImportReport> {
  if (!validateDocument(json)) {
    const error = validateDocument.errors?.[0];
    throw invalid(`${error?.instancePath || '/'} ${error?.message ?? 'is invalid'}`);
  }
  const doc = json;
  const full = options.vhost === undefined;
  const docVhosts = new Set(full ? (doc.vhosts ?? []).map((v) => v.name) : []);
  const vhostOf = (item: { vhost?: string | undefined }, what: string): string => {
    const name = options.vhost ?? item.vhost;
    if (name === undefined) throw invalid(`${what} has no vhost`);
    if (!broker.vhosts.has(name) && !docVhosts.has(name)) throw invalid(`${what}: vhost '${name}' does not exist`);
    return name;
  };
  // Up-front checks, so a bad file is refused before anything changes.
  const report = new ImportReport();
  reportUnknownParts(doc, full, report);
  const policyPlans: PolicyPlan[] = [
    ...(doc.policies ?? []).map((p) => planPolicy('policy', vhostOf(p, `policy '${p.name}'`), p, report)),
    ...(doc.operator_policies ?? []).map((p) => planPolicy('operator-policy', vhostOf(p, `operator policy '${p.name}'`), p, report)),
    ...(doc.parameters ?? [])
      .filter((p) => p.component === OPERATOR_POLICY_COMPONENT)
      .map((p) => planPolicy('operator-policy', vhostOf(p, `operator policy '${p.name}'`), { name: p.name, ...asObject(p.value) }, report)),
  ];
  const userPlans = full ? (doc.users ?? []).map((u) => planUser(u, doc)) : [];
  const docUsers = new Set(userPlans.map((u) => u.name));
  if (full) {
    for (const p of doc.permissions ?? []) {
      vhostOf(p, `permission of '${p.user}'`);
      if (!users.getUser(p.user) && !docUsers.has(p.user)) throw invalid(`permission for unknown user '${p.user}'`);
    }
  }
  const known = { user: (n: string) => users.getUser(n) !== undefined || docUsers.has(n), vhost: (n: string) => broker.vhosts.has(n) || docVhosts.has(n) };
  const topicPlans = full ? planTopicPermissions(doc.topic_permissions, known) : [];
  for (const q of doc.queues ?? []) {
    const vhost = vhostOf(q, `queue '${q.name}'`);
    const problem = validateQueueArguments(q.arguments ?? {}, q.name, vhost);
    if (problem) throw invalid(problem.message);
  }
  for (const x of doc.exchanges ?? []) vhostOf(x, `exchange '${x.name}'`);
  for (const b of doc.bindings ?? []) vhostOf(b, `binding '${b.source}' -> '${b.destination}'`);
  const limits = planLimits(doc, broker, full, vhostOf);

  // As RabbitMQ's import: an administrator acting for the broker, not checked against resource permissions.
  const actor = trustedActor(options.actingUser ?? 'rmq-internal');
  const callerIn = (vhost: string): Caller => ({ ...actor, vhost: broker.vhost(vhost), channel: null });
  if (full) {
    for (const plan of userPlans) {
      const spec =
        plan.password !== undefined
          ? { password: plan.password, tags: plan.tags }
          : { passwordHash: plan.passwordHash, hashingAlgorithm: plan.algorithm, tags: plan.tags };
      await ops.admin.putUser(actor, plan.name, spec);
    }
    for (const v of doc.vhosts ?? []) {
      const meta = v.metadata ?? {};
      const description = v.description ?? meta.description;
      const tags = v.tags ?? meta.tags;
      const queueType = v.default_queue_type ?? meta.default_queue_type;
      await ops.admin.putVhost(actor, v.name, {
        ...(typeof description === 'string' ? { description } : {}),
        ...(tags !== undefined ? { tags: parseTags(tags) } : {}),
        ...(typeof queueType === 'string' ? { defaultQueueType: queueType } : {}),
      });
    }
    for (const p of doc.permissions ?? []) {
      await ops.admin.setPermission(actor, { user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read });
    }
    await importTopicPermissions(ops, actor, topicPlans);
  }
  // Before the objects, so each is created under the policies it will run with.
  for (const plan of policyPlans) {
    await ops.policies.putPolicy(actor, plan.kind, plan.vhost, plan.name, { ...plan.spec });
  }
  for (const x of doc.exchanges ?? []) {
    const caller = callerIn(vhostOf(x, `exchange '${x.name}'`));
    if (x.name === '' || x.name.startsWith('amq.') || caller.vhost.exchanges.has(x.name)) continue;
    ops.topology.declareExchange(caller, {
      exchange: x.name,
      type: x.type ?? 'direct',
      durable: bool(x.durable, true),
      autoDelete: bool(x.auto_delete, false),
      internal: bool(x.internal, false),
      arguments: x.arguments ?? {},
    });
  }
  if (full) {
    const clusterName = (doc.global_parameters ?? []).find((p) => p.name === 'cluster_name')?.value;
    if (typeof clusterName === 'string') await ops.admin.setClusterName(actor, clusterName);
  }
  for (const q of doc.queues ?? []) {
    const caller = callerIn(vhostOf(q, `queue '${q.name}'`));
    if (q.name.startsWith('amq.') || caller.vhost.queues.has(q.name)) continue;
    ops.topology.declareQueue(caller, {
      queue: q.name,
      durable: bool(q.durable, true),
      autoDelete: bool(q.auto_delete, false),
      arguments: q.arguments ?? {},
    });
  }
  for (const b of doc.bindings ?? []) {
    const caller = callerIn(vhostOf(b, `binding '${b.source}' -> '${b.destination}'`));
    if (b.source === '') continue;
    ops.topology.bind(caller, {
      source: b.source,
      destination: b.destination,
      destinationKind: b.destination_type ?? 'queue',
      routingKey: b.routing_key ?? '',
      arguments: b.arguments ?? {},
    });
  }
  await importLimits(ops, users, actor, limits);
  await ops.flushed();
  return report;
}

/**
 * `internal_cluster_id` is RabbitMQ's own identity for its cluster (every export has one); Warren keeps
 * its own, so that parameter is known and deliberately not carried over. `cluster_name` is imported.
 */
const KNOWN_GLOBAL_PARAMETERS: ReadonlySet<string> = new Set(['cluster_name', 'internal_cluster_id']);

const KNOWN_SECTIONS: ReadonlySet<string> = new Set([
  'rabbit_version',
  'rabbitmq_version',
  'product_name',
  'product_version',
  'users',
  'vhosts',
  'permissions',
  'topic_permissions',
  'parameters',
  'global_parameters',
  'policies',
  'operator_policies',
  'queues',
  'exchanges',
  'bindings',
]);

const KNOWN_KEYS = {
  user: new Set(['name', 'password_hash', 'password', 'hashing_algorithm', 'tags', 'limits']),
  vhost: new Set(['name', 'description', 'tags', 'default_queue_type', 'metadata', 'limits', 'tracing']),
  permission: new Set(['user', 'vhost', 'configure', 'write', 'read']),
  policy: new Set(['vhost', 'name', 'pattern', 'apply-to', 'definition', 'priority']),
  queue: new Set(['name', 'vhost', 'durable', 'auto_delete', 'arguments', 'type']),
  exchange: new Set(['name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments']),
  binding: new Set(['source', 'vhost', 'destination', 'destination_type', 'routing_key', 'arguments']),
} as const;

/** Every part of the document the import will not carry out, into the report. */
function reportUnknownParts(doc: DefinitionsDocument, full: boolean, report: ImportReport): void {
  for (const key of Object.keys(doc)) if (!KNOWN_SECTIONS.has(key)) report.notImported(`section '${key}'`);
  if (full) {
    for (const u of doc.users ?? []) report.unknownKeys(u, KNOWN_KEYS.user, `user '${u.name}'`);
    for (const v of doc.vhosts ?? []) report.unknownKeys(v, KNOWN_KEYS.vhost, `vhost '${v.name}'`);
    for (const p of doc.permissions ?? []) report.unknownKeys(p, KNOWN_KEYS.permission, `permission of '${p.user}' in '${p.vhost}'`);
  } else {
    // A vhost import takes only what lives in a vhost, as RabbitMQ's.
    for (const section of ['users', 'vhosts', 'permissions', 'topic_permissions', 'global_parameters'] as const) {
      if ((doc[section] ?? []).length > 0) report.notImported(`section '${section}' (a vhost import takes only what is in the vhost)`);
    }
  }
  for (const p of [...(doc.policies ?? []), ...(doc.operator_policies ?? [])]) report.unknownKeys(p, KNOWN_KEYS.policy, `policy '${p.name}'`);
  for (const q of doc.queues ?? []) report.unknownKeys(q, KNOWN_KEYS.queue, `queue '${q.name}'`);
  for (const x of doc.exchanges ?? []) report.unknownKeys(x, KNOWN_KEYS.exchange, `exchange '${x.name}'`);
  for (const b of doc.bindings ?? []) report.unknownKeys(b, KNOWN_KEYS.binding, `binding '${b.source}' -> '${b.destination}'`);
  for (const p of doc.parameters ?? []) {
    if (p.component !== OPERATOR_POLICY_COMPONENT && !isVhostLimitsParameter(p)) report.notImported(`parameter '${p.name}' of component '${p.component}' in vhost '${p.vhost ?? ''}'`);
  }
  if (full) {
    for (const p of doc.global_parameters ?? []) if (!KNOWN_GLOBAL_PARAMETERS.has(p.name)) report.notImported(`global parameter '${p.name}'`);
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

interface UserPlan {
  name: string;
  tags: string[];
  password: string | undefined;
  passwordHash: string;
  algorithm: HashingAlgorithm;
}

function planUser(u: UserDef, doc: DefinitionsDocument): UserPlan {
  const tags = parseTags(u.tags);
  const hash = u.password_hash ?? '';
  if (hash !== '' && !BASE64.test(hash)) throw invalid(`password_hash of user '${u.name}' is not valid base64`);
  const algorithm = u.hashing_algorithm ?? defaultAlgorithm(doc.rabbit_version ?? doc.rabbitmq_version);
  if (!isHashingAlgorithm(algorithm)) throw invalid(`unknown hashing_algorithm '${algorithm}' for user '${u.name}'`);
  return { name: u.name, tags, password: u.password, passwordHash: hash, algorithm };
}

/** Files from before RabbitMQ 3.6 carry no algorithm and were hashed with MD5. */
function defaultAlgorithm(version: string | undefined): HashingAlgorithm {
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  if (version !== undefined && (major < 3 || (major === 3 && minor < 6))) return HashingAlgorithms.md5;
  return HashingAlgorithms.sha256;
}
