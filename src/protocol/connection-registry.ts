import type { ConnectionDirectory, ConnectionInfo } from '../operations/admin-operations.js';
import type { Alarm, ClientConnection, Traffic } from './client-connection.js';

/**
 * The open client connections of every protocol (JSON WebSocket sessions, AMQP 0-9-1 connections), for
 * listing, for administration and limits, for alarms, and for closing them all at shutdown.
 */
export class ConnectionRegistry implements ConnectionDirectory {
  private readonly connections = new Map<string, ClientConnection>();
  /** Connections opened and closed since start (RabbitMQ's `rabbitmq_connections_{opened,closed}_total`): kept here, as they outlive the connections. */
  opened = 0;
  closed = 0;
  /** Bytes through the sockets of connections that have closed, so broker-wide totals never go down. */
  private closedTraffic = { bytesReceived: 0, bytesSent: 0 };

  add(connection: ClientConnection): void {
    if (!this.connections.has(connection.id)) this.opened++;
    this.connections.set(connection.id, connection);
  }

  remove(connection: ClientConnection): void {
    // Only the registered one: an id is never reused, but a stale remove must not drop a live entry.
    if (this.connections.get(connection.id) !== connection) return;
    this.connections.delete(connection.id);
    this.closed++;
    this.closedTraffic.bytesReceived += connection.traffic.bytesReceived;
    this.closedTraffic.bytesSent += connection.traffic.bytesSent;
  }

  /** Bytes through every connection's socket since start, the closed ones included. */
  traffic(): Traffic {
    let { bytesReceived, bytesSent } = this.closedTraffic;
    for (const connection of this.connections.values()) {
      bytesReceived += connection.traffic.bytesReceived;
      bytesSent += connection.traffic.bytesSent;
    }
    return { bytesReceived, bytesSent };
  }

  get(id: string): ClientConnection | undefined {
    return this.connections.get(id);
  }

  get size(): number {
    return this.connections.size;
  }

  list(): ClientConnection[] {
    return [...this.connections.values()];
  }

  /** Memory alarm: publishers stop being read until it clears; consumers go on. */
  setMemoryAlarm(on: boolean): void {
    this.setAlarm('memory', on);
  }

  /** A memory or disk alarm raised or cleared, for every connection. */
  setAlarm(alarm: Alarm, on: boolean): void {
    for (const connection of this.connections.values()) {
      if (on) connection.block(alarm);
      else connection.unblock(alarm);
    }
  }

  countConnections(match: (connection: ConnectionInfo) => boolean): number {
    let count = 0;
    for (const connection of this.connections.values()) {
      const info = infoOf(connection);
      if (info && match(info)) count++;
    }
    return count;
  }

  countChannels(match: (connection: ConnectionInfo) => boolean): number {
    let count = 0;
    for (const connection of this.connections.values()) {
      const info = infoOf(connection);
      if (info && match(info)) count += connection.channels().length;
    }
    return count;
  }

  closeWhere(match: (connection: ConnectionInfo) => boolean, reason: string): void {
    for (const connection of this.list()) {
      const info = infoOf(connection);
      if (info && match(info)) connection.close('CONNECTION_FORCED', reason);
    }
  }

  closeAll(message: string): void {
    for (const connection of this.list()) connection.close('CONNECTION_FORCED', message);
  }
}

/** Who and where an open connection is; undefined before it is open (nothing to match yet). */
function infoOf(connection: ClientConnection): ConnectionInfo | undefined {
  if (!connection.isOpen || !connection.vhost) return undefined;
  return { user: connection.user?.name ?? '', vhost: connection.vhost.name };
}
