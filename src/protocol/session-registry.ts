import type { ConnectionDirectory, ConnectionInfo } from '../operations/admin-operations.js';
import type { Session } from './session.js';

/** The open WebSocket sessions, for listing, for administration, and for closing them all at shutdown. */
export class SessionRegistry implements ConnectionDirectory {
  private readonly sessions = new Map<string, Session>();

  add(session: Session): void {
    this.sessions.set(session.id, session);
  }

  remove(session: Session): void {
    this.sessions.delete(session.id);
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  /** Memory alarm: publishers stop being read until it clears; consumers go on. */
  setMemoryAlarm(alarm: boolean): void {
    for (const session of this.sessions.values()) {
      if (alarm) session.block();
      else session.unblock();
    }
  }

  countConnections(match: (connection: ConnectionInfo) => boolean): number {
    let count = 0;
    for (const session of this.sessions.values()) {
      if (session.state === 'open' && match({ user: session.user?.name ?? '', vhost: session.vhost.name })) count++;
    }
    return count;
  }

  /** A WebSocket connection is one channel. */
  countChannels(match: (connection: ConnectionInfo) => boolean): number {
    return this.countConnections(match);
  }

  closeWhere(match: (connection: ConnectionInfo) => boolean, reason: string): void {
    for (const session of this.list()) {
      if (session.state !== 'open') continue;
      if (match({ user: session.user?.name ?? '', vhost: session.vhost.name })) session.close('CONNECTION_FORCED', reason);
    }
  }

  closeAll(message: string): void {
    for (const session of this.list()) session.close('CONNECTION_FORCED', message);
  }
}
