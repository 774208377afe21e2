import type { HashingAlgorithm } from '../auth/password-hash.js';
import type { TopicPermission } from '../auth/topic-permissions.js';
import type { Permission, UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import { notFound } from '../broker/errors.js';
import type { VHost, VHostMetadata } from '../broker/vhost.js';
import type { Actor } from './caller.js';
import type { DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

/** The open connections of every protocol, as far as administration needs them. */
export interface ConnectionDirectory {
  /** Closes (320 CONNECTION_FORCED, with `reason`) every open connection matching. */
  closeWhere(match: (connection: ConnectionInfo) => boolean, reason: string): void;
  /** How many open connections match (connection limits). */
  countConnections(match: (connection: ConnectionInfo) => boolean): number;
  /** How many channels the matching open connections hold (channel limits). */
  countChannels(match: (connection: ConnectionInfo) => boolean): number;
}

export interface ConnectionInfo {
  readonly user: string;
  readonly vhost: string;
}

export type UserSpec =
  | { readonly tags: readonly string[]; readonly password?: string | undefined }
  | { readonly tags: readonly string[]; readonly passwordHash: string; readonly hashingAlgorithm: HashingAlgorithm };

/**
 * Broker-wide administration: users, permissions, vhosts and the cluster name. Administrators only.
 * Each resolves once the change is on disk; none is on a hot path.
 */
export class AdminOperations {
  constructor(
    private readonly broker: Broker,
    private readonly users: UserStore,
    private readonly connections: ConnectionDirectory,
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  async putUser(actor: Actor, name: string, spec: UserSpec): Promise<{ created: boolean }> {
    this.permissions.checkAdministrator(actor);
    this.refuseWhileDiskFull();
    const result = await this.users.putUser(name, spec);
    await this.watch.flushed();
    return result;
  }

  /** Deletes the user, its permissions, and closes its connections. False when there was no such user. */
  async deleteUser(actor: Actor, name: string): Promise<boolean> {
    this.permissions.checkAdministrator(actor);
    if (!this.users.deleteUser(name)) return false;
    this.connections.closeWhere((c) => c.user === name, `user '${name}' was deleted`);
    await this.watch.flushed();
    return true;
  }

  async setPermission(actor: Actor, permission: Permission): Promise<{ created: boolean }> {
    this.permissions.checkAdministrator(actor);
    this.refuseWhileDiskFull();
    if (!this.broker.vhosts.has(permission.vhost)) throw notFound(`no vhost '${permission.vhost}'`);
    if (!this.users.getUser(permission.user)) throw notFound(`no user '${permission.user}'`);
    const result = this.users.setPermission(permission);
    await this.watch.flushed();
    return result;
  }

  async deletePermission(actor: Actor, vhost: string, user: string): Promise<boolean> {
    this.permissions.checkAdministrator(actor);
    const deleted = this.users.deletePermission(vhost, user);
    await this.watch.flushed();
    return deleted;
  }

  /**
   * Creates the vhost or updates its metadata. Whoever creates a vhost gets full permissions on it, as
   * RabbitMQ's `maybe_grant_full_permissions` does, so it can use what it made.
   */
  async putVhost(actor: Actor, name: string, metadata: Partial<VHostMetadata>): Promise<{ vhost: VHost; created: boolean }> {
    this.permissions.checkAdministrator(actor);
    const created = !this.broker.vhosts.has(name);
    const vhost = this.broker.addVhost(name);
    vhost.updateMetadata(metadata);
    if (created && !actor.trusted) this.users.setPermission({ user: actor.user.name, vhost: name, configure: '.*', write: '.*', read: '.*' });
    await this.watch.flushed();
    return { vhost, created };
  }

  /** Closes the vhost's connections first: that releases their consumers, unacked messages and exclusive queues. */
  async deleteVhost(actor: Actor, name: string): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const vhost = this.broker.vhost(name);
    this.connections.closeWhere((c) => c.vhost === vhost.name, `vhost '${vhost.name}' is deleted`);
    this.broker.deleteVhost(vhost.name);
    this.users.deleteVhostPermissions(vhost.name);
    await this.watch.flushed();
  }

  async setClusterName(actor: Actor, name: string): Promise<void> {
    this.permissions.checkAdministrator(actor);
    this.broker.setClusterName(name);
    await this.watch.flushed();
  }

  // ---- Topic permissions ----

  /**
   * Sets the user's write/read routing-key regexes on one topic exchange. The exchange need not exist:
   * a permission may guard an exchange that clients declare later (as RabbitMQ allowed until 4.x).
   */
  async setTopicPermission(actor: Actor, permission: TopicPermission): Promise<{ created: boolean }> {
    this.permissions.checkAdministrator(actor);
    this.refuseWhileDiskFull();
    if (!this.broker.vhosts.has(permission.vhost)) throw notFound(`no vhost '${permission.vhost}'`);
    if (!this.users.getUser(permission.user)) throw notFound(`no user '${permission.user}'`);
    const result = this.users.topicPermissions.set(permission);
    await this.watch.flushed();
    return result;
  }

  /** Deletes the user's topic permission on `exchange` in `vhost`, or all of them there; returns how many. */
  async deleteTopicPermissions(actor: Actor, vhost: string, user: string, exchange?: string): Promise<number> {
    this.permissions.checkAdministrator(actor);
    const deleted = this.users.topicPermissions.delete(vhost, user, exchange);
    await this.watch.flushed();
    return deleted;
  }

  /**
   * The domain refuses new durable objects while the disk alarm is on; users and permissions live in
   * the user store, outside it, so they are refused here. Deletions pass: they are how space is freed.
   */
  private refuseWhileDiskFull(): void {
    if (this.broker.writeAlarm) throw this.broker.writeRefusal('user and permission changes');
  }
}
