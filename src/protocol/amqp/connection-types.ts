// What the connection state machine is given (options, injected hooks) and what it asks its owner to do
// (actions). Kept apart from the machine so that adapters can depend on the shapes alone.
import type { AuthMechanism } from './connection-auth.js';
import type { Frame } from './frame-reader.js';
import type { AmqpMethod } from './spec/methods.js';

/** RabbitMQ's connection states (rabbit_reader.erl), plus the two ends. `closing` means the server sent
 * connection.close and waits for close-ok; `closed` means the socket should be (or is being) closed. */
export type ConnectionState = 'awaiting-header' | 'starting' | 'securing' | 'tuning' | 'opening' | 'running' | 'closing' | 'closed';

export interface ConnectionUser {
  readonly name: string;
}

export type AuthOutcome<U extends ConnectionUser> = { readonly ok: true; readonly user: U } | { readonly ok: false; readonly detail?: string };

/** A refusal's `detail` becomes the reply text instead of the default "access to vhost 'x' refused for user 'u'". */
export type OpenOutcome = { readonly ok: true } | { readonly ok: false; readonly detail?: string };

export interface ConnectionHooks<U extends ConnectionUser> {
  authenticate(request: { readonly mechanism: AuthMechanism; readonly user: string; readonly password: string }): Promise<AuthOutcome<U>>;
  canOpen(user: U, vhost: string): Promise<OpenOutcome>;
  /** connection.update-secret; without it the method is refused with 540 NOT_IMPLEMENTED. */
  updateSecret?(user: U, newSecret: Uint8Array, reason: string): Promise<AuthOutcome<U>>;
}

export interface TuneLimits {
  /** 0 means no limit, as in the spec. RabbitMQ's defaults: 2047, 131072, 60. */
  readonly channelMax: number;
  readonly frameMax: number;
  /** Seconds. */
  readonly heartbeat: number;
}

export interface ConnectionMachineOptions<U extends ConnectionUser> {
  readonly hooks: ConnectionHooks<U>;
  readonly server: {
    readonly version: string;
    readonly platform: string;
    /** Announced in server-properties.capabilities, each as `true`; nothing is announced by default. */
    readonly capabilities?: readonly string[];
  };
  readonly tune?: Partial<TuneLimits>;
  /** Offered in connection.start, in this order; default PLAIN and AMQPLAIN. */
  readonly mechanisms?: readonly AuthMechanism[];
  /** Smallest frame_max a client may choose. The spec's FRAME-MIN-SIZE is 4096; RabbitMQ 4.1+ uses 8192. */
  readonly frameMinSize?: number;
  /** RabbitMQ's handshake_timeout: the connection must be open this long after the first tick. */
  readonly handshakeTimeoutMs?: number;
}

export type CloseReason =
  | 'bad-header' // the peer did not speak AMQP 0-9-1; our header was sent back
  | 'handshake-error' // a protocol error before the connection was open; RabbitMQ closes without a close method
  | 'auth-refused' // wrong credentials (a 403 close was sent first if the client asked for it)
  | 'frame-error' // the frame stream is unreadable; a close was sent if the connection was open
  | 'client-closed' // the client's connection.close was answered with close-ok
  | 'close-ok' // our connection.close was acknowledged
  | 'close-timeout' // our connection.close was never acknowledged
  | 'heartbeat-timeout' // nothing received for two heartbeat intervals; no close method, as RabbitMQ
  | 'handshake-timeout'
  | 'server-closed'; // close() before the connection was open: nothing to negotiate, just the socket

export type ConnectionAction<U extends ConnectionUser> =
  /** Bytes to write in order; `method` is set for method frames (handy for logs and tests). */
  | { readonly kind: 'send'; readonly bytes: Uint8Array; readonly method?: AmqpMethod }
  /** tune-ok accepted: set FrameReader.frameMax to `frameMax` (0 = no limit) before reading on. */
  | ({ readonly kind: 'tuned' } & TuneLimits)
  | { readonly kind: 'opened'; readonly user: U; readonly vhost: string }
  | { readonly kind: 'user-updated'; readonly user: U }
  /** A frame for channel `channel` (≠ 0), for the channel layer. */
  | { readonly kind: 'channel-frame'; readonly channel: number; readonly frame: Frame }
  /**
   * Close the socket after writing what was sent before. `lingerMs` is RabbitMQ's SILENT_CLOSE_DELAY
   * (3 s) for handshake and frame errors, so that a client cannot retry failed logins in a tight loop.
   * `detail` is for the log, never for the peer.
   */
  | { readonly kind: 'close-socket'; readonly reason: CloseReason; readonly detail: string; readonly lingerMs: number };

/** Synchronous except where a hook (authenticate, canOpen, updateSecret) is consulted. The owner must not
 * feed the next input until a returned promise has settled. */
export type Step<U extends ConnectionUser> = ConnectionAction<U>[] | Promise<ConnectionAction<U>[]>;
