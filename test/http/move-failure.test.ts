/**
 * A move whose copies cannot be written answers 500 and leaves every message where it was — except
 * those whose copy a consumer already had: the store keeps such a copy and writes it again, so its
 * original leaves, as after a write that worked.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { UserStore } from '../../src/auth/user-store.js';
import { Broker } from '../../src/broker/broker.js';
import { WriteFailure, type DurabilityBarrier } from '../../src/broker/persistence.js';
import { registerManagementApi } from '../../src/http/api/index.js';
import { Operations } from '../../src/operations/operations.js';
import { ConnectionRegistry } from '../../src/protocol/connection-registry.js';
import { apiClient, array } from './support.js';

/** The management API over `broker`, with `barrier` standing in for the disk. */
async function serve(broker: Broker, barrier: DurabilityBarrier): Promise<FastifyInstance> {
  const users = new UserStore();
  await users.putUser('guest', { password: 'guest', tags: ['administrator'] });
  users.setPermission({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
  const connections = new ConnectionRegistry();
  const ops = new Operations({ broker, users, durability: barrier, connections, log: { error: () => undefined } });
  const app = Fastify();
  await registerManagementApi(app, { broker, users, connections, ops, version: 'test', sampler: { intervalMs: 0 } });
  await app.ready();
  return app;
}

/** Queues `from` (holding a, b, c) and `to` (empty). */
async function withMessages(app: FastifyInstance): Promise<ReturnType<typeof apiClient>> {
  const api = apiClient(app);
  await api('PUT', '/api/queues/%2F/from', { body: {} });
  await api('PUT', '/api/queues/%2F/to', { body: {} });
  for (const payload of ['a', 'b', 'c']) {
    await api('POST', '/api/exchanges/%2F/amq.default/publish', { body: { routing_key: 'from', properties: {}, payload, payload_encoding: 'string' } });
  }
  return api;
}

describe('a move whose write fails', () => {
  it('answers 500 with a JSON body, and the source keeps its messages in order', async () => {
    let failing = false;
    let writes = 0;
    const barrier: DurabilityBarrier = {
      // Once failing, every operation looks as if it wrote, and the write fails.
      get writes() {
        return failing ? ++writes : writes;
      },
      synced: () => (failing ? Promise.reject(new Error('EIO: i/o error')) : Promise.resolve()),
    };
    const app = await serve(new Broker(), barrier);
    try {
      const api = await withMessages(app);
      failing = true;
      const moved = await api('POST', '/api/queues/%2F/from/move', { body: { destination: { queue: 'to' } } });
      expect({ status: moved.status, body: moved.body }).toEqual({ status: 500, body: { error: 'internal_server_error', reason: 'could not write to disk' } });
      failing = false;
      const left = array((await api('POST', '/api/queues/%2F/from/peek', { body: {} })).body);
      expect(left.map((m) => m.payload)).toEqual(['a', 'b', 'c']);
    } finally {
      await app.close();
    }
  });

  it('keeps the originals of the copies the store refused, and moves those whose copies it kept', async () => {
    for (const refuse of [['b'], []]) {
      let failing = false;
      let writes = 0;
      const broker = new Broker();
      const text = (body: Uint8Array): string => new TextDecoder().decode(body);
      const barrier: DurabilityBarrier = {
        get writes() {
          return failing ? ++writes : writes;
        },
        synced: () => Promise.resolve(),
        // As the real store: the copies nobody received are refused (taken out of their queue first); the rest are kept.
        stored: () => {
          if (!failing) return Promise.resolve();
          failing = false;
          const copies = broker.vhosts.get('/')?.queues.get('to')?.browse(undefined, 10).entries ?? [];
          const refused = new Set(copies.map((entry) => entry.message).filter((message) => refuse.includes(text(message.body))));
          broker.refused(refused);
          return Promise.reject(new WriteFailure(new Error('EIO: i/o error'), refused));
        },
      };
      const app = await serve(broker, barrier);
      try {
        const api = await withMessages(app);
        failing = true;
        const moved = await api('POST', '/api/queues/%2F/from/move', { body: { destination: { queue: 'to' } } });
        expect(moved.status).toBe(refuse.length > 0 ? 500 : 200);
        const left = array((await api('POST', '/api/queues/%2F/from/peek', { body: {} })).body);
        const arrived = array((await api('POST', '/api/queues/%2F/to/peek', { body: {} })).body);
        expect(left.map((m) => m.payload)).toEqual(refuse);
        expect(arrived.map((m) => m.payload)).toEqual(['a', 'b', 'c'].filter((payload) => !refuse.includes(payload)));
      } finally {
        await app.close();
      }
    }
  });
});
