import { describe, expect, it } from 'vitest';
import { HashingAlgorithms, rabbitHash } from '../../src/auth/password-hash.js';
import { PasswordHasher } from '../../src/auth/password-hasher.js';
import { UserStore } from '../../src/auth/user-store.js';

describe('PasswordHasher', () => {
  it.each([1, 2])('runs at most %i scrypt at a time however many logins arrive together', async (concurrency) => {
    const hasher = new PasswordHasher({ concurrency });
    const hash = await hasher.hash('x');
    const checks = Array.from({ length: 8 }, () => hasher.verify('wrong', hash, HashingAlgorithms.scrypt));
    expect(await Promise.all(checks)).toEqual(Array(8).fill(false));
    expect(hasher.computations).toBe(9);
    expect(hasher.peakActive).toBe(concurrency);
  });

  it('makes every failure path cost one scrypt: unknown user, imported fast hash, native hash', async () => {
    const users = new UserStore();
    await users.putUser('native', { password: 'right', tags: [] });
    users.restoreUser({ name: 'imported', passwordHash: rabbitHash('right', HashingAlgorithms.sha256), hashingAlgorithm: HashingAlgorithms.sha256, tags: [] });
    users.restoreUser({ name: 'nohash', passwordHash: '', hashingAlgorithm: HashingAlgorithms.scrypt, tags: [] });
    for (const name of ['native', 'imported', 'unknown', 'nohash']) {
      const before = users.hasher.computations;
      expect((await users.authenticate(name, 'wrong', `10.9.0.${name.length}`)).ok).toBe(false);
      expect(users.hasher.computations - before, name).toBe(1);
    }
  });

  it('upgrades an imported SHA-256 hash to scrypt at the first successful login', async () => {
    const users = new UserStore();
    const changes: string[] = [];
    users.subscribe((change) => void changes.push(change.kind === 'user' ? change.user.hashingAlgorithm : change.kind));
    users.restoreUser({ name: 'imported', passwordHash: rabbitHash('right', HashingAlgorithms.sha256), hashingAlgorithm: HashingAlgorithms.sha256, tags: [] });
    expect((await users.authenticate('imported', 'right', '127.0.0.1')).ok).toBe(true);
    expect(users.getUser('imported')?.hashingAlgorithm).toBe(HashingAlgorithms.scrypt);
    // Told to subscribers, so the upgrade is durable; the password still works, and only it.
    expect(changes).toEqual([HashingAlgorithms.sha256, HashingAlgorithms.scrypt]);
    const fresh = new UserStore();
    const user = users.getUser('imported');
    if (user) fresh.restoreUser(user);
    expect((await fresh.authenticate('imported', 'right', '127.0.0.1')).ok).toBe(true);
    expect((await fresh.authenticate('imported', 'wrong', '127.0.0.1')).ok).toBe(false);
  });
});
