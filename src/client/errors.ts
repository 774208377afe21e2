/**
 * Errors the client raises. A failure the broker reports becomes a WarrenError carrying the AMQP reply
 * code and its symbolic reason (see docs/protocol.md, "Reply codes").
 */
import type { ErrorName } from '../broker/errors.js';
import type { FrameId } from './frames.js';

export type Reason = ErrorName | (string & {});

export class WarrenError extends Error {
  /** AMQP reply code, e.g. 404. */
  readonly code: number;
  /** Symbolic reason, e.g. `NOT_FOUND`. */
  readonly reason: Reason;
  /** For an error answering a frame sent without `id`: the operation it refers to (e.g. `ack`). */
  readonly ref?: string;
  /** For an error frame that carried an `id` no pending request of this client had (e.g. via `sendRaw`). */
  readonly id?: FrameId;

  constructor(code: number, reason: Reason, message: string, ref?: string, id?: FrameId) {
    super(message);
    this.name = 'WarrenError';
    this.code = code;
    this.reason = reason;
    if (ref !== undefined) this.ref = ref;
    if (id !== undefined) this.id = id;
  }
}

/** What a server `close` push said before the server closed the connection. */
export interface CloseInfo {
  code: number;
  reason: Reason;
  message: string;
}

/**
 * The connection is closed (or could not be opened). Rejects every request still pending when the socket
 * closes, and is thrown by operations attempted afterwards. Carries the server's `close` push code and
 * reason when there was one; otherwise code 0 and reason `CONNECTION_CLOSED`.
 */
export class ConnectionClosedError extends WarrenError {
  constructor(info?: CloseInfo, message?: string) {
    super(
      info?.code ?? 0,
      info?.reason ?? 'CONNECTION_CLOSED',
      message ?? (info ? `connection closed: ${info.reason} - ${info.message}` : 'connection closed'),
    );
    this.name = 'ConnectionClosedError';
  }
}
