/**
 * Opening the WebSocket: the browser-compatible API surface both native WebSocket and the `ws` package
 * implement. `ws` is only ever imported dynamically, when no other implementation is available.
 */
import { ConnectionClosedError } from './errors.js';

export const OPEN = 1;

/** The subset of the WebSocket API the client uses. Handlers take `never` so both DOM and `ws` types fit. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType?: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: undefined, options?: NodeTlsOptions) => WebSocketLike;

/**
 * Node only: how `wss://` trusts the server (a private CA) and proves the client (a client certificate),
 * handed to the `ws` package's constructor. A browser uses its own trust store and ignores these.
 */
export interface NodeTlsOptions {
  /** PEM: the CA(s) the server's certificate must chain to, instead of Node's default roots. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** PEM client certificate and key, for a server started with --tls-verify-peer. */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** Default true; false accepts any server certificate (tests only). */
  rejectUnauthorized?: boolean;
}

export interface MessageEventLike {
  data: unknown;
}

export interface CloseEventLike {
  code: number;
  reason: string;
}

interface ErrorEventLike {
  message?: unknown;
  error?: unknown;
}

/**
 * `given`, else the global WebSocket (browsers, Node ≥ 22), else the `ws` package. With TLS options the
 * `ws` package: Node's global WebSocket takes none and would fail the handshake against a private CA.
 */
export async function resolveWebSocket(given?: WebSocketConstructor, tls?: NodeTlsOptions): Promise<WebSocketConstructor> {
  if (given) return given;
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof native === 'function' && tls === undefined) return native;
  const ws = await import('ws');
  return ws.default;
}

/** Resolves once the socket is open; rejects with ConnectionClosedError if it fails or closes first. */
export function openSocket(url: string, Impl: WebSocketConstructor, tls?: NodeTlsOptions): Promise<WebSocketLike> {
  return new Promise<WebSocketLike>((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = tls ? new Impl(url, undefined, tls) : new Impl(url);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    socket.binaryType = 'arraybuffer';
    const fail = (detail: string): void => {
      socket.onopen = socket.onerror = socket.onclose = null;
      reject(new ConnectionClosedError(undefined, `cannot connect to ${url}: ${detail}`));
    };
    socket.onopen = () => {
      socket.onopen = socket.onerror = socket.onclose = null;
      resolve(socket);
    };
    socket.onerror = (event: ErrorEventLike) => {
      const message = event.message ?? (event.error instanceof Error ? event.error.message : undefined);
      fail(typeof message === 'string' && message !== '' ? message : 'connection error');
    };
    socket.onclose = (event: CloseEventLike) => fail(`closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
  });
}
