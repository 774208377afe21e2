/**
 * Token login for the client: a fixed token, or a provider the client calls for the first token and again
 * before each one expires. The expiry is read from the token without checking its signature: the client
 * only needs to know when to ask for the next one; the broker is the one that verifies.
 */
import { decodeBase64, decodeUtf8 } from './codec.js';

/** Returns a current access token (a JWT), e.g. from the page's OIDC library. */
export type TokenProvider = () => string | Promise<string>;

/** Refresh this long before expiry, or a fifth of the token's lifetime when that is shorter. */
const REFRESH_MARGIN_MS = 60_000;
/** After a failed refresh, try again this long later (while the token lasts). */
const RETRY_MS = 5_000;

/** `exp` of a JWT in ms since the epoch; undefined when the token has none or is no JWT. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(decodeUtf8(decodeBase64(base64 + '='.repeat((4 - (base64.length % 4)) % 4))));
    const exp = typeof claims === 'object' && claims !== null && 'exp' in claims ? claims.exp : undefined;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** When to ask for the next token, as a delay from now. */
export function refreshDelay(expiresAt: number, now = Date.now()): number {
  const left = expiresAt - now;
  return Math.max(0, left - Math.min(REFRESH_MARGIN_MS, left / 5));
}

/** Keeps a connection's token fresh: calls the provider and sends `update-token` before each expiry. */
export class TokenRefresher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly provider: TokenProvider,
    private readonly send: (token: string) => Promise<void>,
    private readonly failed: (error: Error) => void,
  ) {}

  /** Schedules the refresh of `token` (nothing when it has no expiry). */
  schedule(token: string): void {
    const expiresAt = tokenExpiry(token);
    if (expiresAt === undefined || this.stopped) return;
    this.arm(refreshDelay(expiresAt), expiresAt);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number, expiresAt: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    // setTimeout's longest delay is about 24.8 days.
    this.timer = setTimeout(() => void this.refresh(expiresAt), Math.min(delay, 2 ** 31 - 1));
    // Node: the refresh alone must not keep a process alive.
    const timer: unknown = this.timer;
    if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') timer.unref();
  }

  private async refresh(expiresAt: number): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    try {
      const token = await this.provider();
      await this.send(token);
      this.schedule(token);
    } catch (error) {
      if (this.stopped) return;
      this.failed(error instanceof Error ? error : new Error(String(error)));
      const left = expiresAt - Date.now();
      if (left > 0) this.arm(Math.min(RETRY_MS, left / 2), expiresAt);
    }
  }
}
