import { describe, expect, it } from 'vitest';
import { HashingAlgorithms, rabbitHash } from '../../src/auth/password-hash.js';
import { PasswordHasher } from '../../src/auth/password-hasher.js';
import { UserStore } from '../../src/auth/user-store.js';

describe('password hashes', () => {
  const hasher = new PasswordHasher();
  const hashPassword = (password: string): Promise<string> => hasher.hash(password);
  const verifyPassword = (password: string, hash: string, algorithm: Parameters<PasswordHasher['verify']>[2]): Promise<boolean> => hasher.verify(password, hash, algorithm);

  it('verifies Warren scrypt hashes and refuses wrong passwords', async () => {
    const hash = await hashPassword('s3cret');
    expect(await verifyPassword('s3cret', hash, HashingAlgorithms.scrypt)).toBe(true);
    expect(await verifyPassword('s3cret!', hash, HashingAlgorithms.scrypt)).toBe(false);
    expect(await hashPassword('s3cret')).not.toBe(hash); // salted
  });

  it.each([HashingAlgorithms.sha256, HashingAlgorithms.sha512, HashingAlgorithms.md5] as const)('verifies RabbitMQ %s hashes', async (algorithm) => {
    const hash = rabbitHash('guest', algorithm);
    expect(await verifyPassword('guest', hash, algorithm)).toBe(true);
    expect(await verifyPassword('Guest', hash, algorithm)).toBe(false);
  });

  it("matches RabbitMQ's documented format: base64(salt ++ sha256(salt ++ password))", async () => {
    const salt = Buffer.from([0x90, 0x8d, 0xc6, 0x0a]);
    const hash = rabbitHash('test12', HashingAlgorithms.sha256, salt);
    expect(Buffer.from(hash, 'base64').subarray(0, 4)).toEqual(salt);
    expect(await verifyPassword('test12', hash, HashingAlgorithms.sha256)).toBe(true);
  });
});

describe('UserStore', () => {
  it('authenticates, and tells a bad password from a loopback-only user', async () => {
    const users = new UserStore();
    await users.putUser('guest', { password: 'guest', tags: ['administrator'] });
    await users.putUser('alice', { password: 'pw', tags: [] });
    expect(await users.authenticate('alice', 'pw', '10.0.0.5')).toMatchObject({ ok: true, user: { name: 'alice' } });
    expect(await users.authenticate('alice', 'nope', '127.0.0.1')).toMatchObject({ ok: false, failure: 'credentials' });
    expect(await users.authenticate('nobody', 'pw', '127.0.0.1')).toMatchObject({ ok: false, failure: 'credentials' });
    expect(await users.authenticate('guest', 'guest', '127.0.0.1')).toMatchObject({ ok: true });
    expect(await users.authenticate('guest', 'guest', '::1')).toMatchObject({ ok: true });
    expect(await users.authenticate('guest', 'guest', '10.0.0.5')).toMatchObject({ ok: false, failure: 'loopback' });
  });

  it('forgets a remembered login as soon as the password changes or the user goes', async () => {
    const users = new UserStore();
    await users.putUser('alice', { password: 'old', tags: [] });
    expect((await users.authenticate('alice', 'old', '127.0.0.1')).ok).toBe(true);
    expect((await users.authenticate('alice', 'old', '127.0.0.1')).ok).toBe(true); // remembered
    await users.putUser('alice', { password: 'new', tags: [] });
    expect((await users.authenticate('alice', 'old', '127.0.0.1')).ok).toBe(false);
    expect((await users.authenticate('alice', 'new', '127.0.0.1')).ok).toBe(true);
    users.deleteUser('alice');
    expect((await users.authenticate('alice', 'new', '127.0.0.1')).ok).toBe(false);
  });

  it('answers logins arriving together each on its own merits', async () => {
    const users = new UserStore();
    await users.putUser('alice', { password: 'right', tags: [] });
    const attempts = ['right', 'wrong', 'right', 'wrong', 'right'].map((password) => users.authenticate('alice', password, '127.0.0.1'));
    expect((await Promise.all(attempts)).map((r) => r.ok)).toEqual([true, false, true, false, true]);
  });

  it('logs in users imported with RabbitMQ password hashes', async () => {
    const users = new UserStore();
    users.restoreUser({ name: 'rabbit', passwordHash: rabbitHash('carrot', HashingAlgorithms.sha512), hashingAlgorithm: HashingAlgorithms.sha512, tags: [] });
    expect((await users.authenticate('rabbit', 'carrot', '127.0.0.1')).ok).toBe(true);
    expect((await users.authenticate('rabbit', 'turnip', '127.0.0.1')).ok).toBe(false);
  });

  it("checks permission regexes as RabbitMQ: unanchored, '' matches nothing, the default exchange is amq.default", () => {
    const users = new UserStore();
    users.setPermission({ user: 'u', vhost: '/', configure: '^app\\.', write: 'amq\\.default|^out$', read: '' });
    expect(users.isAllowed('u', '/', 'configure', 'app.q')).toBe(true);
    expect(users.isAllowed('u', '/', 'configure', 'myapp.q')).toBe(false);
    expect(users.isAllowed('u', '/', 'write', '')).toBe(true);
    expect(users.isAllowed('u', '/', 'write', 'out')).toBe(true);
    expect(users.isAllowed('u', '/', 'write', 'outbox')).toBe(false);
    expect(users.isAllowed('u', '/', 'read', 'anything')).toBe(false);
    expect(users.isAllowed('u', 'other', 'read', 'x')).toBe(false);
    expect(users.canAccessVhost({ name: 'u', tags: [] }, '/')).toBe(true);
    expect(users.canAccessVhost({ name: 'u', tags: [] }, 'other')).toBe(false);
    expect(() => users.setPermission({ user: 'u', vhost: '/', configure: '[', write: '', read: '' })).toThrow(/invalid regular expression in 'configure'/);
  });

  it('tells subscribers about every change', async () => {
    const users = new UserStore();
    let changes = 0;
    const unsubscribe = users.subscribe(() => changes++);
    await users.putUser('a', { password: 'x', tags: [] });
    users.setPermission({ user: 'a', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    users.deletePermission('/', 'a');
    users.deleteUser('a');
    unsubscribe();
    await users.putUser('b', { password: 'x', tags: [] });
    expect(changes).toBe(4);
  });
});
