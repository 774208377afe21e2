/**
 * Topic permissions live in the definitions log: set, changed and deleted ones come back as they were
 * after a restart, including the ones a deleted user or vhost took with it, and they are enforced again.
 */
import { describe, expect, it } from 'vitest';
import { WarrenError } from '../../src/client/index.js';
import { checkRecord, recordKey, type DefinitionRecord } from '../../src/store/definition-record.js';
import { DefinitionsFold } from '../../src/store/definitions-fold.js';
import { apiClient, createUser } from '../http/support.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir, start, stop } = useDataDirs('warren-topic-restart-');

describe('topic permissions across a restart', () => {
  it('keeps what was set and keeps deleted ones gone', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let api = apiClient(warren.server.app);
    await api('PUT', '/api/vhosts/shop');
    await api('PUT', '/api/exchanges/shop/events', { body: { type: 'topic', durable: true } });
    await createUser(api, 'alice', '', { configure: '.*', write: '.*', read: '.*', vhost: 'shop' });
    await createUser(api, 'bob', '', { configure: '.*', write: '.*', read: '.*', vhost: 'shop' });
    const put = (user: string, exchange: string, write: string, read = '.*'): Promise<unknown> =>
      api('PUT', `/api/topic-permissions/shop/${user}`, { body: { exchange, write, read } });
    await put('alice', 'events', '^first$');
    await put('alice', 'events', '^{username}\\.');
    await put('alice', 'gone', '.*');
    await put('bob', 'events', '.*');
    await api('DELETE', '/api/topic-permissions/shop/alice/gone');
    const before = (await api('GET', '/api/topic-permissions')).body;
    expect(before).toEqual([
      { user: 'alice', vhost: 'shop', exchange: 'events', write: '^{username}\\.', read: '.*' },
      { user: 'bob', vhost: 'shop', exchange: 'events', write: '.*', read: '.*' },
    ]);

    await stop(warren);
    warren = await start(dataDir);
    api = apiClient(warren.server.app);
    expect((await api('GET', '/api/topic-permissions')).body).toEqual(before);
    const alice = await warren.connect({ username: 'alice', password: 'alice-secret', vhost: 'shop' });
    await alice.publish({ exchange: 'events', routingKey: 'alice.x', body: 'x' });
    await expect(alice.publish({ exchange: 'events', routingKey: 'first', body: 'x' })).rejects.toBeInstanceOf(WarrenError);

    // Deleting the user takes its topic permissions; deleting the vhost takes the rest.
    expect((await api('DELETE', '/api/users/alice')).status).toBe(204);
    await stop(warren);
    warren = await start(dataDir);
    api = apiClient(warren.server.app);
    expect((await api('GET', '/api/topic-permissions')).body).toEqual([{ user: 'bob', vhost: 'shop', exchange: 'events', write: '.*', read: '.*' }]);
    // A new alice starts with none.
    await createUser(api, 'alice', '', { configure: '.*', write: '.*', read: '.*', vhost: 'shop' });
    expect((await api('GET', '/api/users/alice/topic-permissions')).body).toEqual([]);
    expect((await api('DELETE', '/api/vhosts/shop')).status).toBe(204);
    await stop(warren);
    warren = await start(dataDir);
    expect((await apiClient(warren.server.app)('GET', '/api/topic-permissions')).body).toEqual([]);
  });
});

describe('the topic-permission record', () => {
  it('is keyed by vhost, user and exchange, and checked field by field', () => {
    const record = { k: 'topic-permission', v: '/', u: 'alice', x: 'events', d: { write: '^a', read: '' } };
    expect(checkRecord(record)).toEqual(record);
    expect(checkRecord({ k: 'topic-permission', v: '/', u: 'alice', x: 'events', del: true })).toMatchObject({ del: true });
    expect(checkRecord({ ...record, x: 1 })).toBe("'x' is not a string");
    expect(checkRecord({ ...record, d: { write: '^a' } })).toBe("'d.read' is not a string");
    const key = (x: string): string => {
      const typed: DefinitionRecord = { k: 'topic-permission', v: '/', u: 'alice', x, d: { write: '^a', read: '' } };
      return recordKey(typed);
    };
    expect(key('events')).not.toBe(key('other'));
    expect(key('events')).not.toBe(recordKey({ k: 'permission', v: '/', u: 'alice', d: { configure: '', write: '', read: '' } }));
  });
});

describe('the definitions fold', () => {
  it('drops a user’s or a vhost’s topic permissions with it', () => {
    const fold = new DefinitionsFold();
    const topic = (v: string, u: string, x: string): DefinitionRecord => ({ k: 'topic-permission', v, u, x, d: { write: '.*', read: '.*' } });
    for (const record of [topic('/', 'alice', 'a'), topic('/', 'alice', 'b'), topic('shop', 'bob', 'a'), topic('/', 'bob', 'a')]) fold.apply(record);
    expect(fold.apply({ k: 'user', n: 'alice', del: true })).toBe(true);
    expect([...fold.records()]).toEqual([topic('shop', 'bob', 'a'), topic('/', 'bob', 'a')]);
    expect(fold.apply({ k: 'vhost', n: 'shop', del: true })).toBe(true);
    expect([...fold.records()]).toEqual([topic('/', 'bob', 'a')]);
  });
});
