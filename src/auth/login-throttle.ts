/**
 * Slows password guessing down: failed logins are counted per source address and per user name, and
 * past a small allowance each further attempt from that address, or for that user, must wait out a
 * penalty that doubles with every failure (up to a cap). Attempts inside the penalty are refused at once,
 * without hashing anything, so guessing costs the attacker time and the broker nothing.
 *
 * Both keys matter: per address stops one client trying many users; per user stops many clients
 * (a botnet) trying one user. The per-user penalty lets an attacker lock a user out for a while; a
 * client whose exact credentials already succeeded recently is not affected (UserStore checks its
 * remembered logins before the throttle), which keeps working clients working.
 */
export interface LoginThrottleOptions {
  /** Failures allowed before penalties start (default 5 per address, 10 per user). */
  readonly addressAllowance?: number;
  readonly userAllowance?: number;
  /** First penalty; it doubles with each further failure (default 1 s). */
  readonly basePenaltyMs?: number;
  /** Longest penalty (default 60 s). */
  readonly maxPenaltyMs?: number;
  /** A key with no failure for this long is forgotten (default 15 min). */
  readonly forgetAfterMs?: number;
  /** Keys tracked at most; the oldest are forgotten first (default 100,000). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Failures {
  count: number;
  last: number;
  /** No attempt before this time. */
  blockedUntil: number;
}

export type ThrottleVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number; readonly by: 'address' | 'user' };

const ALLOWED: ThrottleVerdict = { allowed: true };

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly addressAllowance: number;
  private readonly userAllowance: number;
  private readonly basePenaltyMs: number;
  private readonly maxPenaltyMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.addressAllowance = options.addressAllowance ?? 5;
    this.userAllowance = options.userAllowance ?? 10;
    this.basePenaltyMs = options.basePenaltyMs ?? 1000;
    this.maxPenaltyMs = options.maxPenaltyMs ?? 60_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether a login attempt may be checked now. */
  check(address: string, user: string): ThrottleVerdict {
    const now = this.now();
    const byAddress = this.blockedFor(addressKey(address), now);
    if (byAddress > 0) return { allowed: false, retryAfterMs: byAddress, by: 'address' };
    const byUser = this.blockedFor(userKey(user), now);
    if (byUser > 0) return { allowed: false, retryAfterMs: byUser, by: 'user' };
    return ALLOWED;
  }

  failed(address: string, user: string): void {
    const now = this.now();
    this.count(addressKey(address), this.addressAllowance, now);
    this.count(userKey(user), this.userAllowance, now);
  }

  /** A successful login clears what its address and its user had against them. */
  succeeded(address: string, user: string): void {
    this.failures.delete(addressKey(address));
    this.failures.delete(userKey(user));
  }

  private blockedFor(key: string, now: number): number {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    if (now - entry.last > this.forgetAfterMs) {
      this.failures.delete(key);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - now);
  }

  private count(key: string, allowance: number, now: number): void {
    let entry = this.failures.get(key);
    if (!entry || now - entry.last > this.forgetAfterMs) {
      if (this.failures.size >= this.maxKeys) this.forgetOldest();
      entry = { count: 0, last: now, blockedUntil: 0 };
    } else {
      // Map order is insertion order: re-inserting keeps the least recently failed first.
      this.failures.delete(key);
    }
    entry.count++;
    entry.last = now;
    const over = entry.count - allowance;
    if (over > 0) entry.blockedUntil = now + Math.min(this.maxPenaltyMs, this.basePenaltyMs * 2 ** Math.min(over - 1, 30));
    this.failures.set(key, entry);
  }

  private forgetOldest(): void {
    const oldest = this.failures.keys().next();
    if (!oldest.done) this.failures.delete(oldest.value);
  }
}

const addressKey = (address: string): string => `a:${address}`;
const userKey = (user: string): string => `u:${user}`;
