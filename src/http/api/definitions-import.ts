/** `POST /api/definitions`: merges a RabbitMQ definitions document into the broker. */
import { HashingAlgorithms, isHashingAlgorithm, type HashingAlgorithm } from '../../auth/password-hash.js';
import type { UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import { BrokerError } from '../../broker/errors.js';
import { validateQueueArguments } from '../../broker/queue-arguments.js';
import { trustedActor, type Caller } from '../../operations/caller.js';
import type { Operations } from '../../operations/operations.js';
import { validateDocument, type DefinitionsDocument, type UserDef, type Boolish } from './definitions-document.js';
import { parseTags, type ImportOptions } from './definitions-format.js';
import { importLimits, isVhostLimitsParameter, planLimits } from './definitions-limits.js';
import { OPERATOR_POLICY_COMPONENT, planPolicy, type PolicyPlan } from './definitions-policies.js';
import { ImportReport } from './definitions-report.js';
import { importTopicPermissions, planTopicPermissions } from './definitions-topic-permissions.js';

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
    // Newer exports name the queue type beside the arguments too: a quorum queue or stream cannot be
    // made a classic queue without a word.
    if (q.type !== undefined && q.type !== 'classic') throw invalid(`queue '${q.name}' in vhost '${vhost}' is of type ${JSON.stringify(q.type)}: Warren has classic queues only`);
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
        // As RabbitMQ's import: `tracing` turns the vhost's firehose on (or off).
        ...(v.tracing !== undefined ? { tracing: v.tracing === true || v.tracing === 'true' } : {}),
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
