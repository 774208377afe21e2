import type { UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DurabilityBarrier } from '../broker/persistence.js';
import { AdminOperations, type ConnectionDirectory } from './admin-operations.js';
import { DurabilityWatch, type OperationsLog } from './done.js';
import { LimitOperations } from './limit-operations.js';
import { MessageMover } from './message-mover.js';
import { MessageOperations } from './message-operations.js';
import { Permissions } from './permissions.js';
import { PolicyOperations } from './policy-operations.js';
import { ScheduledOperations } from './scheduled-operations.js';
import { TopologyOperations } from './topology-operations.js';

export interface OperationsOptions {
  readonly broker: Broker;
  readonly users: UserStore;
  /** When present, results say when their writes are on disk. */
  readonly durability?: DurabilityBarrier | undefined;
  readonly connections: ConnectionDirectory;
  readonly log: OperationsLog;
}

/**
 * The one way into the broker for every adapter — the WebSocket session, the REST API, definitions
 * import and the protocols to come. Each operation authorises against the caller's permissions, acts on
 * the domain, counts, and says when its change is durable; adapters only translate frames and requests
 * into these calls and the results into replies.
 */
export class Operations {
  readonly topology: TopologyOperations;
  readonly messages: MessageOperations;
  readonly admin: AdminOperations;
  readonly policies: PolicyOperations;
  readonly limits: LimitOperations;
  /** Moving messages between queues and retrying dead letters (operator tools). */
  readonly mover: MessageMover;
  /** Delayed exchanges' scheduled messages (a Warren extension). */
  readonly scheduled: ScheduledOperations;
  private readonly watch: DurabilityWatch;

  constructor(options: OperationsOptions) {
    const permissions = new Permissions(options.users, options.users.topicPermissions);
    this.watch = new DurabilityWatch(options.durability, options.log);
    this.topology = new TopologyOperations(permissions, this.watch, options.broker.queueChurn);
    this.messages = new MessageOperations(options.broker, permissions, this.watch);
    this.admin = new AdminOperations(options.broker, options.users, options.connections, permissions, this.watch);
    this.policies = new PolicyOperations(options.broker, permissions, this.watch);
    this.limits = new LimitOperations(options.broker, options.users, options.connections, permissions, this.watch);
    this.mover = new MessageMover(options.broker, permissions, this.watch);
    this.scheduled = new ScheduledOperations(permissions, this.watch);
  }

  /** Resolves once everything written so far is on disk (a definitions import waits for its last change). */
  flushed(): Promise<void> {
    return this.watch.flushed();
  }
}
