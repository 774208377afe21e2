/** `GET /api/definitions`: the broker as a RabbitMQ definitions document. */
import type { UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import { isDurableBinding } from '../../broker/vhost.js';
import { RABBITMQ_VERSION, type ExportOptions } from './definitions-format.js';
import { exportUserLimits, exportVhostLimits } from './definitions-limits.js';
import { exportPolicies } from './definitions-policies.js';
import { exportTopicPermissions } from './definitions-topic-permissions.js';

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
