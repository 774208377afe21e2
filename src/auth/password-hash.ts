import { createHash, randomBytes, timingSafeEqual, type BinaryLike } from 'node:crypto';

/**
 * Password hash formats. Warren's own are scrypt; RabbitMQ's (salted SHA-256/512/MD5, from a definitions
 * export) are accepted so imported users can log in with their old passwords, and are replaced by scrypt
 * at their first successful login. `PasswordHasher` runs the computations.
 */
export const HashingAlgorithms = {
  scrypt: 'warren_password_hashing_scrypt',
  sha256: 'rabbit_password_hashing_sha256',
  sha512: 'rabbit_password_hashing_sha512',
  md5: 'rabbit_password_hashing_md5',
} as const;

export type HashingAlgorithm = (typeof HashingAlgorithms)[keyof typeof HashingAlgorithms];

export function isHashingAlgorithm(value: string): value is HashingAlgorithm {
  return (Object.values(HashingAlgorithms) as string[]).includes(value);
}

// N=2^14, r=8: ~16 MiB and a few tens of ms, the interactive-login setting scrypt's authors suggest.
export const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;
const SCRYPT_SALT = 16;

/** scrypt with Warren's parameters, as `PasswordHasher` schedules it. */
export type Kdf = (password: BinaryLike, salt: Buffer) => Promise<Buffer>;

/** A new scrypt hash, base64 of `salt ++ key`, like RabbitMQ's `password_hash` field is base64. */
export async function hashWith(password: string, kdf: Kdf): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT);
  const key = await kdf(password, salt);
  return Buffer.concat([salt, key]).toString('base64');
}

/** Checks a password against a stored hash; every algorithm costs one scrypt (see PasswordHasher.verify). */
export async function verifyWith(password: string, passwordHash: string, algorithm: HashingAlgorithm, kdf: Kdf): Promise<boolean> {
  const stored = Buffer.from(passwordHash, 'base64');
  if (algorithm === HashingAlgorithms.scrypt) {
    const usable = stored.length === SCRYPT_SALT + SCRYPT.keylen;
    const key = await kdf(password, usable ? stored.subarray(0, SCRYPT_SALT) : DUMMY_SALT);
    return usable && timingSafeEqual(key, stored.subarray(SCRYPT_SALT));
  }
  await kdf(password, DUMMY_SALT);
  // RabbitMQ: base64(salt(4) ++ H(salt ++ utf8(password))).
  if (stored.length < 5) return false;
  const salt = stored.subarray(0, 4);
  const expected = stored.subarray(4);
  const actual = createHash(digestOf(algorithm)).update(salt).update(password, 'utf8').digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** RabbitMQ's format, for tests and for users who want to hand Warren a hash made elsewhere. */
export function rabbitHash(password: string, algorithm: Exclude<HashingAlgorithm, 'warren_password_hashing_scrypt'>, salt = randomBytes(4)): string {
  return Buffer.concat([salt, createHash(digestOf(algorithm)).update(salt).update(password, 'utf8').digest()]).toString('base64');
}

function digestOf(algorithm: HashingAlgorithm): string {
  return algorithm === HashingAlgorithms.sha512 ? 'sha512' : algorithm === HashingAlgorithms.md5 ? 'md5' : 'sha256';
}

const DUMMY_SALT = Buffer.alloc(SCRYPT_SALT, 1);

/** A valid-looking hash to verify against when the user does not exist, so both paths cost the same. */
export const DUMMY_SCRYPT_HASH = Buffer.concat([DUMMY_SALT, Buffer.alloc(SCRYPT.keylen, 1)]).toString('base64');
