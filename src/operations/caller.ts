import type { AuthenticatedUser } from '../auth/authenticator.js';
import type { Channel } from '../broker/channel.js';
import type { VHost } from '../broker/vhost.js';

/** Who asks for an administrative change (users, permissions, vhosts, the cluster name). */
export interface Actor {
  readonly user: AuthenticatedUser;
  /**
   * A definitions import or the broker's own start-up: an administrator acting for the whole broker,
   * not checked against resource permissions (RabbitMQ imports the same way).
   */
  readonly trusted?: boolean;
}

/** Who asks for an operation in a vhost, and over which connection. */
export interface Caller extends Actor {
  readonly vhost: VHost;
  /**
   * The connection's channel: it owns exclusive queues, consumers and delivery tags. Null for the
   * management API, which has no connection.
   */
  readonly channel: Channel | null;
}

/** The broker acting for itself (start-up, definitions import): an administrator that skips permission checks. */
export function trustedActor(name: string): Actor {
  return { user: { name, tags: ['administrator'] }, trusted: true };
}
