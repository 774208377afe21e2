import type { Access, Authenticator } from '../auth/authenticator.js';
import type { TopicAccess, TopicPermissions } from '../auth/topic-permissions.js';
import { accessRefused, BrokerError } from '../broker/errors.js';
import type { Actor, Caller } from './caller.js';

type Resource = 'exchange' | 'queue';

/**
 * RabbitMQ's permission rules, in one place for every way into the broker: the configure/write/read
 * regexes per resource, and the administrator tag for broker-wide changes. Administrators get no
 * exemption from the regexes, as in RabbitMQ; only a trusted actor (import, start-up) skips them.
 */
export class Permissions {
  constructor(
    private readonly authenticator: Pick<Authenticator, 'isAllowed'>,
    private readonly topics: Pick<TopicPermissions, 'find'> = { find: () => undefined },
  ) {}

  check(caller: Caller, access: Access, kind: Resource, name: string): void {
    if (caller.trusted) return;
    const user = caller.user.name;
    const vhost = caller.vhost.name;
    // A token user's scopes stand in for stored permissions; the rule and the refusal are the same.
    const grants = caller.user.grants;
    const allowed = grants ? grants.isAllowed(vhost, access, name) : this.authenticator.isAllowed(user, vhost, access, name);
    if (!allowed) {
      throw accessRefused(`access to ${kind} '${name === '' ? 'amq.default' : name}' in vhost '${vhost}' refused for user '${user}'`);
    }
  }

  /** Naming an alternate exchange needs write on it and read on the exchange being declared. */
  checkAlternateExchange(caller: Caller, exchange: string, alternate: string): void {
    this.check(caller, 'write', 'exchange', alternate);
    this.check(caller, 'read', 'exchange', exchange);
  }

  /** Naming a dead-letter exchange needs write on it and read on the queue being declared. */
  checkDeadLetterExchange(caller: Caller, queue: string, deadLetterExchange: string): void {
    this.check(caller, 'write', 'exchange', deadLetterExchange);
    this.check(caller, 'read', 'queue', queue);
  }

  /** A binding needs write on its destination and read on its source. */
  checkBinding(caller: Caller, source: string, destination: string, destinationKind: Resource): void {
    this.check(caller, 'write', destinationKind, destination);
    this.check(caller, 'read', 'exchange', source);
  }

  /** The tag, or `administrator`, which includes every other. */
  checkTag(actor: Actor, tag: string): void {
    if (actor.trusted || actor.user.tags.includes('administrator') || actor.user.tags.includes(tag)) return;
    throw new BrokerError('ACCESS_REFUSED', `user '${actor.user.name}' is not a ${tag}`);
  }

  /**
   * RabbitMQ's topic authorisation (`rabbit_channel:check_topic_authorisation`): on an exchange of type
   * `topic` only, a publish's routing key must match the user's `write` regex for that exchange and a
   * binding's key (from it) its `read` regex. A user with no topic permission there may use any key.
   * Administrators are checked too; only a trusted actor is not. A missing exchange passes: the
   * operation itself reports it.
   */
  checkTopic(caller: Caller, access: TopicAccess, exchange: string, routingKey: string): void {
    if (caller.trusted) return;
    const user = caller.user.name;
    const vhost = caller.vhost.name;
    const grants = caller.user.grants;
    const permission = grants ? undefined : this.topics.find(user, vhost, exchange);
    if ((!grants && permission === undefined) || caller.vhost.exchanges.get(exchange)?.type !== 'topic') return;
    // Scopes always govern topic exchanges: a key needs a scope with a matching routing-key part (RabbitMQ's oauth2 backend).
    const allowed = grants ? grants.topicAllowed(vhost, access, exchange, routingKey) : (permission?.patterns[access].test(routingKey) ?? true);
    if (!allowed) {
      throw accessRefused(`${access} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${user}'`);
    }
  }

  checkAdministrator(actor: Actor): void {
    if (actor.trusted || actor.user.tags.includes('administrator')) return;
    throw new BrokerError('ACCESS_REFUSED', `user '${actor.user.name}' is not an administrator`);
  }
}
