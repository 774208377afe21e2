/**
 * A test-only multi-channel `ClientConnection`: real broker `Channel`s owned by one connection identity,
 * registered in a real server's registry, so the management API's multi-channel views can be tested
 * through the REST routes without a wire protocol. It records what the server asked of it.
 */
import type { AuthenticatedUser } from '../../src/auth/authenticator.js';
import { Channel, type DeliverySink } from '../../src/broker/channel.js';
import type { ErrorName } from '../../src/broker/errors.js';
import type { VHost } from '../../src/broker/vhost.js';
import type { WarrenServer } from '../../src/http/server.js';
import type { Caller } from '../../src/operations/caller.js';
import type { ChannelView, ClientConnection, Peer } from '../../src/protocol/client-connection.js';

let nextId = 1;

export interface TestChannelOptions {
  readonly confirm?: boolean;
  readonly transactional?: boolean;
  readonly unconfirmed?: number;
  readonly uncommittedMessages?: number;
  readonly uncommittedAcks?: number;
}

interface MutableView {
  number: number;
  channel: Channel;
  confirm: boolean;
  transactional: boolean;
  unconfirmed: number;
  uncommittedMessages: number;
  uncommittedAcks: number;
}

const sink: DeliverySink = { deliver: () => undefined, consumerCancelled: () => undefined };

export class TestConnection implements ClientConnection {
  readonly id = `127.0.0.1:${40000 + nextId} -> 127.0.0.1:5672 #${nextId++}`;
  readonly protocol = 'AMQP 0-9-1';
  readonly transport = 'tcp';
  readonly connectedAt = Date.now();
  readonly peer: Peer;
  readonly localPort = 5672;
  readonly authMechanism = 'PLAIN';
  readonly heartbeat = 60;
  readonly frameMax = 131072;
  readonly channelMax = 2047;
  /** Set by a test that wants to see bytes in the listings. */
  traffic = { bytesReceived: 0, bytesSent: 0 };
  isOpen = true;
  /** What `block`/`unblock` and `close` were called with, in order. */
  readonly calls: string[] = [];
  private readonly views = new Map<number, MutableView>();

  constructor(
    private readonly server: WarrenServer,
    readonly user: AuthenticatedUser,
    readonly vhost: VHost,
    readonly clientProperties: Readonly<Record<string, unknown>> = {},
  ) {
    this.peer = { address: '127.0.0.1', port: 40000 + nextId };
    server.connections.add(this);
  }

  /** Opens channel `number` on the broker, owned by this connection; its caller acts through the real operations layer. */
  openChannel(number: number, options: TestChannelOptions = {}): { channel: Channel; caller: Caller } {
    const channel = new Channel(`${this.id} (${number})`, this.vhost, sink, this);
    this.views.set(number, {
      number,
      channel,
      confirm: options.confirm ?? false,
      transactional: options.transactional ?? false,
      unconfirmed: options.unconfirmed ?? 0,
      uncommittedMessages: options.uncommittedMessages ?? 0,
      uncommittedAcks: options.uncommittedAcks ?? 0,
    });
    return { channel, caller: { user: this.user, vhost: this.vhost, channel } };
  }

  closeChannel(number: number): void {
    this.views.get(number)?.channel.close();
    this.views.delete(number);
  }

  channels(): ChannelView[] {
    return [...this.views.values()].sort((a, b) => a.number - b.number);
  }

  block(reason: string): void {
    this.calls.push(`block ${reason}`);
  }

  unblock(): void {
    this.calls.push('unblock');
  }

  close(reason: ErrorName, message: string): void {
    this.calls.push(`close ${reason} ${message}`);
    for (const number of [...this.views.keys()]) this.closeChannel(number);
    this.vhost.deleteExclusiveQueues(this);
    this.isOpen = false;
    this.server.connections.remove(this);
  }
}

/** A connection as guest in `/`, authenticated by the server's own user store. */
export async function openTestConnection(server: WarrenServer, clientProperties: Record<string, unknown> = {}): Promise<TestConnection> {
  const result = await server.users.authenticate('guest', 'guest', '127.0.0.1');
  if (!result.ok) throw new Error('guest could not log in');
  return new TestConnection(server, result.user, server.broker.vhost('/'), clientProperties);
}
