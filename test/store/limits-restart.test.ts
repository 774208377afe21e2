/** Vhost and user limits are durable: kept across a restart, cleared ones stay cleared, old logs load. */
import { describe, expect, it } from 'vitest';
import { checkRecord } from '../../src/store/definition-record.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import { apiClient, createUser } from '../http/support.js';

const { tempDir, start, stop } = useDataDirs('warren-limits-restart-');

describe('limits across a restart', () => {
  it('keeps vhost and user limits, even a max-queues below the queues the vhost holds, and enforces them', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let api = apiClient(warren.server.app);
    await api('PUT', '/api/vhosts/shop');
    for (const queue of ['a', 'b', 'c']) expect((await api('PUT', `/api/queues/shop/${queue}`, { body: { durable: true } })).status).toBe(201);
    await api('PUT', '/api/vhost-limits/shop/max-queues', { body: { value: 2 } });
    await api('PUT', '/api/vhost-limits/shop/max-connections', { body: { value: 0 } });
    const [user, password] = await createUser(api, 'capped', '', { configure: '.*', write: '.*', read: '.*' });
    await api('PUT', '/api/user-limits/capped/max-connections', { body: { value: 0 } });
    await api('PUT', '/api/user-limits/capped/max-channels', { body: { value: 5 } });
    await stop(warren);

    warren = await start(dataDir);
    api = apiClient(warren.server.app);
    expect((await api('GET', '/api/vhost-limits/shop')).body).toEqual([{ vhost: 'shop', value: { 'max-connections': 0, 'max-queues': 2 } }]);
    expect((await api('GET', '/api/user-limits/capped')).body).toEqual([{ user: 'capped', value: { 'max-connections': 0, 'max-channels': 5 } }]);
    expect([...warren.server.broker.vhost('shop').queues.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(await api('PUT', '/api/queues/shop/d', { body: { durable: true } })).toMatchObject({ status: 400 });
    await expect(warren.connect({ vhost: 'shop' })).rejects.toMatchObject({ code: 530 });
    await expect(warren.connect({ username: user, password })).rejects.toMatchObject({ code: 530, message: expect.stringContaining('user connection limit (0)') });
  });

  it('keeps cleared limits cleared', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let api = apiClient(warren.server.app);
    await api('PUT', '/api/vhost-limits/%2F/max-queues', { body: { value: 0 } });
    await api('PUT', '/api/user-limits/guest/max-connections', { body: { value: 0 } });
    await stop(warren);
    warren = await start(dataDir);
    api = apiClient(warren.server.app);
    expect((await api('DELETE', '/api/vhost-limits/%2F/max-queues')).status).toBe(204);
    expect((await api('DELETE', '/api/user-limits/guest/all')).status).toBe(204);
    await stop(warren);
    warren = await start(dataDir);
    api = apiClient(warren.server.app);
    expect((await api('GET', '/api/vhost-limits')).body).toEqual([]);
    expect((await api('GET', '/api/user-limits')).body).toEqual([]);
    const conn = await warren.connect();
    await expect(conn.queueDeclare({ queue: 'allowed-again' })).resolves.toMatchObject({ queue: 'allowed-again' });
  });
});

describe('limits in definition records', () => {
  const vhost = { description: '', tags: [], defaultQueueType: 'classic', tracing: false };
  const user = { passwordHash: '', hashingAlgorithm: 'rabbit_password_hashing_sha256', tags: [] };

  it('loads records written before limits existed', () => {
    expect(typeof checkRecord({ k: 'vhost', n: '/', d: vhost })).toBe('object');
    expect(typeof checkRecord({ k: 'user', n: 'guest', d: user })).toBe('object');
  });

  it('takes valid limits and refuses records whose limits Warren would not write', () => {
    expect(typeof checkRecord({ k: 'vhost', n: '/', d: { ...vhost, limits: { 'max-queues': 3 } } })).toBe('object');
    expect(typeof checkRecord({ k: 'user', n: 'guest', d: { ...user, limits: { 'max-channels': -1 } } })).toBe('object');
    expect(checkRecord({ k: 'vhost', n: '/', d: { ...vhost, limits: { 'max-queues': '3' } } })).toBe(
      "'d.limits': max-queues should be a number, actually was <<\"3\">>",
    );
    expect(checkRecord({ k: 'user', n: 'guest', d: { ...user, limits: { 'max-queues': 1 } } })).toContain('Unrecognised terms');
    expect(checkRecord({ k: 'vhost', n: '/', d: { ...vhost, limits: [] } })).toContain('not a list');
  });
});
