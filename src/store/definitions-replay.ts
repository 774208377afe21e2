import type { UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DefinitionRecord, RecordKind } from './definition-record.js';
import { DefinitionsLogError } from './definitions-codec.js';
import type { DefinitionsFold } from './definitions-fold.js';

/** Each kind after those it refers to: permissions name vhosts and users, bindings name exchanges and queues. */
const ORDER = [
  'vhost',
  'user',
  'permission',
  'topic-permission',
  // Before the objects they apply to, so each is created under its policies, as it was running.
  'policy',
  'operator-policy',
  'exchange',
  'cluster-name',
  'queue',
  'binding',
] as const satisfies readonly RecordKind[];

/**
 * Rebuilds the broker and the users from the live definitions, through the same methods the wire and
 * the REST API use, so recovery obeys the same rules. A record the broker refuses (say, an exchange
 * type this Warren no longer has) stops the start: starting without it would quietly drop the object
 * and, with a queue, its stored messages.
 */
export function replayDefinitions(fold: DefinitionsFold, broker: Broker, users: UserStore, path: string): void {
  const byKind = new Map<RecordKind, DefinitionRecord[]>(ORDER.map((kind) => [kind, []]));
  for (const record of fold.records()) if (record.del !== true) byKind.get(record.k)?.push(record);
  // The broker makes '/' itself; a log without it is one in which an operator deleted it.
  if (!fold.hasVhost('/') && broker.vhosts.has('/')) broker.deleteVhost('/');
  for (const kind of ORDER) {
    for (const record of byKind.get(kind) ?? []) {
      try {
        apply(record, broker, users);
      } catch (error) {
        throw new DefinitionsLogError(
          `cannot restore ${describe(record)} from the definitions log ${path}: ${(error as Error).message}`,
          path,
        );
      }
    }
  }
  // Last: a limit lowered below what the vhost already held must not refuse the queues it holds.
  for (const record of byKind.get('vhost') ?? []) {
    if (record.k === 'vhost' && record.del !== true && record.d.limits) broker.vhost(record.n).updateLimits(record.d.limits);
  }
}

function apply(record: DefinitionRecord, broker: Broker, users: UserStore): void {
  if (record.del === true) return;
  switch (record.k) {
    case 'vhost': {
      const { limits: _appliedLast, ...metadata } = record.d;
      broker.addVhost(record.n).updateMetadata(metadata);
      break;
    }
    case 'user': {
      const { passwordHash, hashingAlgorithm, tags, limits } = record.d;
      users.restoreUser({ name: record.n, passwordHash, hashingAlgorithm, tags, ...(limits ? { limits } : {}) });
      break;
    }
    case 'permission':
      users.setPermission({ user: record.u, vhost: record.v, ...record.d });
      break;
    case 'topic-permission':
      users.topicPermissions.set({ user: record.u, vhost: record.v, exchange: record.x, ...record.d });
      break;
    case 'exchange':
      broker.vhost(record.v).declareExchange({ exchange: record.n, ...record.d });
      break;
    case 'cluster-name':
      broker.setClusterName(record.d.name);
      break;
    case 'policy':
    case 'operator-policy':
      broker.vhost(record.v).putPolicy(record.k, record.n, record.d);
      break;
    case 'queue':
      broker.vhost(record.v).declareQueue({ queue: record.n, exclusive: false, ...record.d }, null);
      break;
    case 'binding':
      broker.vhost(record.v).bind({ source: record.s, destination: record.n, destinationKind: record.t, routingKey: record.r, arguments: record.a });
      break;
  }
}

function describe(record: DefinitionRecord): string {
  switch (record.k) {
    case 'vhost':
    case 'user':
      return `${record.k} '${record.n}'`;
    case 'permission':
      return `the permissions of user '${record.u}' in vhost '${record.v}'`;
    case 'topic-permission':
      return `the topic permission of user '${record.u}' on exchange '${record.x}' in vhost '${record.v}'`;
    case 'exchange':
    case 'queue':
    case 'policy':
    case 'operator-policy':
      return `${record.k} '${record.n}' in vhost '${record.v}'`;
    case 'binding':
      return `the binding of ${record.t} '${record.n}' to exchange '${record.s}' in vhost '${record.v}'`;
    case 'cluster-name':
      return 'the cluster name';
  }
}
