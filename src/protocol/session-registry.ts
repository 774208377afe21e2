import type { ConnectionDirectory } from '../operations/admin-operations.js';
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

  closeWhere(match: (connection: { readonly user: string; readonly vhost: string }) => boolean, reason: string): void {
    for (const session of this.list()) {
      if (session.state !== 'open') continue;
      if (match({ user: session.user?.name ?? '', vhost: session.vhost.name })) session.close('CONNECTION_FORCED', reason);
    }
  }

  closeAll(message: string): void {
    for (const session of this.list()) session.close('CONNECTION_FORCED', message);
  }
}
