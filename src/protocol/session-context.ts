import type { Authenticator } from '../auth/authenticator.js';
import type { Broker } from '../broker/broker.js';
import type { Operations } from '../operations/operations.js';
import type { Traffic } from './client-connection.js';
import type { FrameParser } from './frame-parser.js';
import type { Session } from './session.js';

/*
 * What a JSON WebSocket session needs from around it: the socket under it (Transport), the broker and
 * its services (SessionContext), and a logger (the other listeners take the same one). Who is on the
 * other end is client-connection.ts's `Peer`, as for every protocol.
 */

/** What the session needs of the socket under it; the WebSocket route provides it. */
export interface Transport {
  send(text: string): void;
  ping(): void;
  /** Closes gracefully (WebSocket close handshake). */
  close(code: number, reason: string): void;
  /** Drops the connection at once: the peer is gone. */
  terminate(): void;
  /** Stops and resumes reading the peer's frames (back-pressure on publishers under a memory alarm). */
  pauseReading(): void;
  resumeReading(): void;
  readonly traffic: Traffic;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface SessionContext {
  readonly broker: Broker;
  /** Every frame's work goes through these; replies to what wrote to disk wait for it. */
  readonly ops: Operations;
  readonly authenticator: Authenticator;
  readonly parser: FrameParser;
  readonly version: string;
  /** Seconds between heartbeats the server proposes; 0 = none. */
  readonly heartbeat: number;
  /** Milliseconds a new connection has to send `connect`. */
  readonly handshakeTimeout: number;
  readonly log: Logger;
  onOpen?(session: Session): void;
  onClose?(session: Session): void;
}
