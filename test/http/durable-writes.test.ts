/**
 * REST writes are as durable as WebSocket ones: each answers only after its change is on disk, so a
 * `kill -9` right after the answer loses nothing; and a failed write is a 500 with a JSON body and a
 * log line, never a silent success.
 */
import Fastify from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/auth/user-store.js';
import { Broker } from '../../src/broker/broker.js';
import type { DurabilityBarrier } from '../../src/broker/persistence.js';
import { registerManagementApi } from '../../src/http/api/index.js';
import { Operations } from '../../src/operations/operations.js';
import { ConnectionRegistry } from '../../src/protocol/connection-registry.js';
import { exited, spawnBroker, type ChildBroker } from '../helpers/child-broker.js';
import { apiClient, basic } from './support.js';

const dirs: string[] = [];
const children: ChildBroker[] = [];

afterEach(() => {
  for (const broker of children.splice(0)) broker.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function request(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: basic('guest', 'guest'), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('REST writes under kill -9', () => {
  it('every change answered before the kill is there after the restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-rest-durable-'));
    dirs.push(dataDir);
    const first = await spawnBroker(dataDir);
    children.push(first);
    const writes: Array<[string, string, unknown, number]> = [
      ['PUT', '/api/vhosts/shop', { description: 'the shop' }, 201],
      ['PUT', '/api/users/clerk', { password: 'secret', tags: 'management' }, 201],
      ['PUT', '/api/permissions/shop/clerk', { configure: '.*', write: '.*', read: '.*' }, 201],
      ['PUT', '/api/exchanges/shop/orders', { type: 'topic', durable: true }, 201],
      ['PUT', '/api/queues/shop/paid', { durable: true, arguments: { 'x-max-length': 10 } }, 201],
      ['POST', '/api/bindings/shop/e/orders/q/paid', { routing_key: 'order.paid' }, 201],
      ['PUT', '/api/cluster-name', { name: 'warren-east' }, 204],
      ['PUT', '/api/policies/shop/short', { pattern: '^paid$', definition: { 'max-length': 3 }, 'apply-to': 'queues' }, 201],
      ['PUT', '/api/operator-policies/shop/cap', { pattern: '.*', definition: { 'max-length': 2 }, priority: 1 }, 201],
    ];
    for (const [method, path, body, status] of writes) expect((await request(first.url, method, path, body)).status, `${method} ${path}`).toBe(status);
    const published = await request(first.url, 'POST', '/api/exchanges/shop/orders/publish', {
      routing_key: 'order.paid',
      properties: { delivery_mode: 2 },
      payload: 'order 1',
      payload_encoding: 'string',
    });
    expect(published).toEqual({ status: 200, body: { routed: true } });
    // The last answer is in: kill at once, with no chance to flush anything more.
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await spawnBroker(dataDir);
    children.push(second);
    expect((await request(second.url, 'GET', '/api/vhosts/shop')).body).toMatchObject({ name: 'shop', description: 'the shop' });
    expect((await request(second.url, 'GET', '/api/users/clerk')).body).toMatchObject({ name: 'clerk', tags: ['management'] });
    expect((await request(second.url, 'GET', '/api/permissions/shop/clerk')).body).toMatchObject({ configure: '.*' });
    expect((await request(second.url, 'GET', '/api/exchanges/shop/orders')).body).toMatchObject({ type: 'topic', durable: true, user_who_performed_action: 'guest' });
    expect((await request(second.url, 'GET', '/api/queues/shop/paid')).body).toMatchObject({ durable: true, arguments: { 'x-max-length': 10 } });
    expect((await request(second.url, 'GET', '/api/bindings/shop/e/orders/q/paid')).body).toMatchObject([{ routing_key: 'order.paid' }]);
    expect((await request(second.url, 'GET', '/api/cluster-name')).body).toEqual({ name: 'warren-east' });
    expect((await request(second.url, 'GET', '/api/policies/shop/short')).body).toMatchObject({ pattern: '^paid$', definition: { 'max-length': 3 } });
    expect((await request(second.url, 'GET', '/api/queues/shop/paid')).body).toMatchObject({
      policy: 'short',
      operator_policy: 'cap',
      effective_policy_definition: { 'max-length': 2 },
    });
    const got = await request(second.url, 'POST', '/api/queues/shop/paid/get', { count: 5, ackmode: 'ack_requeue_false', encoding: 'auto' });
    expect(got.body).toMatchObject([{ payload: 'order 1' }]);
  });
});

describe('a failed write', () => {
  it('answers 500 with a JSON body and logs it, for every kind of REST write', async () => {
    const logged: Array<{ obj: object; msg: string | undefined }> = [];
    const failing: DurabilityBarrier = {
      writes: 0,
      synced: () => Promise.reject(new Error('ENOSPC: no space left on device')),
    };
    const broker = new Broker();
    const users = new UserStore();
    await users.putUser('guest', { password: 'guest', tags: ['administrator'] });
    users.setPermission({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    // Every operation looks as if it wrote: the barrier's count moves on each read.
    let writes = 0;
    Object.defineProperty(failing, 'writes', { get: () => ++writes });
    const connections = new ConnectionRegistry();
    const ops = new Operations({
      broker,
      users,
      durability: failing,
      connections,
      log: { error: (obj, msg) => void logged.push({ obj, msg }) },
    });
    const app = Fastify();
    await registerManagementApi(app, { broker, users, connections, ops, version: 'test', sampler: { intervalMs: 0 } });
    await app.ready();
    try {
      const api = apiClient(app);
      const attempts: Array<[string, string, unknown]> = [
        ['PUT', '/api/queues/%2F/q', { durable: true }],
        ['PUT', '/api/exchanges/%2F/x', { type: 'direct', durable: true }],
        ['POST', '/api/bindings/%2F/e/x/q/q', { routing_key: 'k' }],
        ['POST', '/api/exchanges/%2F/amq.default/publish', { routing_key: 'q', properties: { delivery_mode: 2 }, payload: 'p', payload_encoding: 'string' }],
        ['DELETE', '/api/queues/%2F/q', undefined],
        ['PUT', '/api/vhosts/v2', {}],
        ['PUT', '/api/users/u2', { password: 'pw', tags: '' }],
      ];
      for (const [method, url, body] of attempts) {
        const response = await api(method, url, body === undefined ? {} : { body });
        expect(response.status, `${method} ${url}`).toBe(500);
        expect(response.body, `${method} ${url}`).toEqual({ error: 'internal_server_error', reason: 'could not write to disk' });
      }
      expect(logged.length).toBeGreaterThan(0);
      expect(logged[0]?.msg).toMatch(/write to disk failed/);
    } finally {
      await app.close();
    }
  });
});
