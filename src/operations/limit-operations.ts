import type { AuthenticatedUser } from '../auth/authenticator.js';
import { USER_LIMITS, type UserLimits, type UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import { BrokerError, diskAlarmRefusal, notFound, preconditionFailed } from '../broker/errors.js';
import type { VHost } from '../broker/vhost.js';
import { checkConnectionLimit, limitReached, parseLimits, VHOST_LIMITS, withLimit, withoutLimit, type VHostLimits } from '../broker/vhost-limits.js';
import type { ConnectionDirectory } from './admin-operations.js';
import type { Actor } from './caller.js';
import type { DurabilityWatch } from './done.js';
import type { Permissions } from './permissions.js';

/**
 * Vhost limits (`max-connections`, `max-queues`) and user limits (`max-connections`, `max-channels`):
 * setting them (administrators only; each resolves once on disk) and enforcing the connection and
 * channel limits when a connection opens, for every protocol. `max-queues` is enforced by the vhost
 * itself, on every declare.
 */
export class LimitOperations {
  constructor(
    private readonly broker: Broker,
    private readonly users: UserStore,
    private readonly connections: ConnectionDirectory,
    private readonly permissions: Permissions,
    private readonly watch: DurabilityWatch,
  ) {}

  /** Refusals read as RabbitMQ's runtime-parameter validation does (`rabbit_runtime_parameters:format_error`). */
  async setVhostLimit(actor: Actor, vhostName: string, name: string, value: unknown): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const vhost = this.broker.vhost(vhostName);
    const next = withLimit(VHOST_LIMITS, vhost.limits, name, value);
    if (typeof next === 'string') throw preconditionFailed(`Validation failed\n\n${next}\n`);
    vhost.updateLimits(next);
    await this.watch.flushed();
  }

  async clearVhostLimit(actor: Actor, vhostName: string, name: string): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const vhost = this.broker.vhost(vhostName);
    if (vhost.limits[name as keyof VHostLimits] === undefined) return;
    vhost.updateLimits(withoutLimit(VHOST_LIMITS, vhost.limits, name));
    await this.watch.flushed();
  }

  /** All of a vhost's limits at once (definitions import); `limits` is checked here. */
  async replaceVhostLimits(actor: Actor, vhostName: string, limits: unknown): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const parsed = parseLimits(VHOST_LIMITS, limits);
    if (typeof parsed === 'string') throw preconditionFailed(parsed);
    this.broker.vhost(vhostName).updateLimits(parsed);
    await this.watch.flushed();
  }

  /** Refusals in `rabbit_auth_backend_internal:set_user_limits/3`'s words. */
  async setUserLimit(actor: Actor, user: string, name: string, value: unknown): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const next = withLimit(USER_LIMITS, this.userLimits(user), name, value);
    if (typeof next === 'string') throw preconditionFailed(next);
    await this.storeUserLimits(user, next);
  }

  /** `all` clears every limit, as in RabbitMQ (`clear_user_limits(User, <<"all">>)`). */
  async clearUserLimit(actor: Actor, user: string, name: string): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const current = this.userLimits(user);
    if (name !== 'all' && current[name as keyof UserLimits] === undefined) return;
    await this.storeUserLimits(user, name === 'all' ? {} : withoutLimit(USER_LIMITS, current, name));
  }

  /** User limits given with the user (`PUT /api/users`): checked before the user is touched. */
  checkUserLimits(limits: unknown): UserLimits {
    const parsed = parseLimits(USER_LIMITS, limits);
    if (typeof parsed === 'string') throw preconditionFailed(parsed);
    return parsed;
  }

  /** Merged into the user's own, as RabbitMQ's `put_user` does (`internal_user:update_limits(add, …)`). */
  async mergeUserLimits(actor: Actor, user: string, limits: UserLimits): Promise<void> {
    this.permissions.checkAdministrator(actor);
    await this.storeUserLimits(user, { ...this.userLimits(user), ...limits });
  }

  async replaceUserLimits(actor: Actor, user: string, limits: unknown): Promise<void> {
    this.permissions.checkAdministrator(actor);
    const parsed = parseLimits(USER_LIMITS, limits);
    if (typeof parsed === 'string') throw preconditionFailed(parsed);
    await this.storeUserLimits(user, parsed);
  }

  /**
   * Whether `user` may open a connection to `vhost` now, in RabbitMQ's order (`rabbit_reader`): the
   * vhost's connection limit, then the user's. Protocols whose connections carry one channel (the
   * WebSocket protocol) also check the channel limit here: see `admitChannel`. Synchronous, so an
   * adapter that registers the connection in the same turn cannot be overtaken by another connect.
   */
  admitConnection(user: AuthenticatedUser, vhost: VHost): void {
    const inVhost = this.connections.countConnections((c) => c.vhost === vhost.name);
    checkConnectionLimit(vhost.limits, vhost.name, user.name, inVhost);
    const limit = this.users.getUser(user.name)?.limits?.['max-connections'];
    if (limitReached(limit, this.connections.countConnections((c) => c.user === user.name))) {
      throw new BrokerError('NOT_ALLOWED', `connection refused for user '${user.name}': user connection limit (${limit}) is reached`);
    }
  }

  /** Whether `user` may open one more channel (`rabbit_reader:is_over_limits/1`). */
  admitChannel(user: AuthenticatedUser): void {
    const limit = this.users.getUser(user.name)?.limits?.['max-channels'];
    if (limitReached(limit, this.connections.countChannels((c) => c.user === user.name))) {
      throw new BrokerError(
        'NOT_ALLOWED',
        `number of channels opened for user '${user.name}' has reached the maximum allowed user limit of ${limit}`,
      );
    }
  }

  private userLimits(user: string): UserLimits {
    const found = this.users.getUser(user);
    if (!found) throw notFound(`no user '${user}'`);
    return found.limits ?? {};
  }

  /** Users live outside the domain, so the disk alarm is checked here, as for other user changes. */
  private async storeUserLimits(user: string, limits: UserLimits): Promise<void> {
    if (this.broker.diskAlarm) throw diskAlarmRefusal('user changes');
    if (!this.users.setLimits(user, limits)) throw notFound(`no user '${user}'`);
    await this.watch.flushed();
  }
}
