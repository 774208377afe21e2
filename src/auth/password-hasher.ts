import { scrypt, type BinaryLike } from 'node:crypto';
import { hashWith, verifyWith, type HashingAlgorithm, SCRYPT } from './password-hash.js';

export interface PasswordHasherOptions {
  /** scrypt computations at once (default 1). */
  readonly concurrency?: number;
  /** Logins allowed to wait for a turn; beyond, a login is refused as busy (default 256). */
  readonly maxWaiting?: number;
}

/**
 * Runs scrypt off the event loop, a bounded number at a time. scrypt runs on libuv's thread pool, the
 * same four threads that carry the store's writes and fsyncs: a burst of logins (guessers, or a fleet of
 * clients reconnecting) would otherwise take every thread and most of both cores, and publishers would
 * wait behind it. One at a time leaves the pool and a core to the broker's own work.
 */
export class PasswordHasher {
  /** scrypt computations started, for tests that check every failure path costs one. */
  computations = 0;
  /** The most computations that ever ran at once. */
  peakActive = 0;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxWaiting: number;

  constructor(options: PasswordHasherOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxWaiting = options.maxWaiting ?? 256;
  }

  /** Whether a login arriving now would be turned away for want of a turn. */
  get saturated(): boolean {
    return this.active >= this.concurrency && this.waiting.length >= this.maxWaiting;
  }

  hash(password: string): Promise<string> {
    return hashWith(password, (p, salt) => this.scrypt(p, salt));
  }

  /**
   * Checks a password against a hash of any supported algorithm. RabbitMQ's salted SHA/MD5 hashes cost
   * microseconds where scrypt costs tens of milliseconds; they pay one scrypt too, so the time a wrong
   * password takes does not tell an imported user from a native or an unknown one.
   */
  async verify(password: string, passwordHash: string, algorithm: HashingAlgorithm): Promise<boolean> {
    const kdf = (p: BinaryLike, salt: Buffer): Promise<Buffer> => this.scrypt(p, salt);
    return verifyWith(password, passwordHash, algorithm, kdf);
  }

  private async scrypt(password: BinaryLike, salt: Buffer): Promise<Buffer> {
    await this.turn();
    this.computations++;
    this.peakActive = Math.max(this.peakActive, this.active);
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT.maxmem }, (error, key) =>
          error ? reject(error) : resolve(key),
        );
      });
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private turn(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active++;
        resolve();
      }),
    );
  }
}
