/**
 * RabbitMQ's permission table, checked for a user with narrow regexes over both ways in: the REST API
 * and the WebSocket protocol must refuse exactly the same operations.
 *
 *   configure ^cfg-   write ^w-   read ^r-
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarrenError, type WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, createUser, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;
let narrow: readonly [string, string];

const ACCESS_REFUSED = { error: 'not_authorised', reason: 'Access refused.' };

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  narrow = await createUser(api, 'narrow', 'management', { configure: '^cfg-', write: '^w-', read: '^r-' });
  await api('PUT', '/api/vhosts/elsewhere');
  // Objects the narrow user may use but not create, made by guest.
  for (const x of ['w-x', 'r-x']) await api('PUT', `/api/exchanges/%2F/${x}`, { body: { type: 'fanout' } });
  for (const q of ['w-q', 'r-q', 'r-q2', 'w-q2']) await api('PUT', `/api/queues/%2F/${q}`);
});
afterAll(() => warren.stop());

const as = (): { as: readonly [string, string] } => ({ as: narrow });
const publishBody = { routing_key: 'k', payload: 'x', payload_encoding: 'string', properties: {} };
const getBody = { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' };

describe('REST', () => {
  it('declare and delete need configure', async () => {
    expect((await api('PUT', '/api/queues/%2F/cfg-q', { ...as() })).status).toBe(201);
    expect((await api('PUT', '/api/queues/%2F/other-q', { ...as() })).body).toEqual(ACCESS_REFUSED);
    expect((await api('PUT', '/api/exchanges/%2F/cfg-x', { ...as(), body: { type: 'direct' } })).status).toBe(201);
    expect((await api('PUT', '/api/exchanges/%2F/other-x', { ...as(), body: { type: 'direct' } })).status).toBe(401);
    expect((await api('DELETE', '/api/queues/%2F/w-q2', { ...as() })).status).toBe(401);
    expect((await api('DELETE', '/api/exchanges/%2F/w-x', { ...as() })).status).toBe(401);
    expect((await api('DELETE', '/api/queues/%2F/cfg-q', { ...as() })).status).toBe(204);
    expect((await api('DELETE', '/api/exchanges/%2F/cfg-x', { ...as() })).status).toBe(204);
  });

  it('a dead-letter exchange needs write on it and read on the new queue', async () => {
    const body = { arguments: { 'x-dead-letter-exchange': 'w-x' } };
    expect((await api('PUT', '/api/queues/%2F/cfg-dlx', { ...as(), body })).status).toBe(401);
    expect((await api('PUT', '/api/exchanges/%2F/cfg-ae', { ...as(), body: { arguments: { 'alternate-exchange': 'w-x' } } })).status).toBe(401);
    await api('PUT', '/api/permissions/%2F/narrow', { body: { configure: '^cfg-', write: '^w-', read: '^(r-|cfg-)' } });
    expect((await api('PUT', '/api/queues/%2F/cfg-dlx', { ...as(), body })).status).toBe(201);
    expect((await api('PUT', '/api/queues/%2F/cfg-dlx2', { ...as(), body: { arguments: { 'x-dead-letter-exchange': 'r-x' } } })).status).toBe(401);
    await api('PUT', '/api/permissions/%2F/narrow', { body: { configure: '^cfg-', write: '^w-', read: '^r-' } });
  });

  it('publish needs write on the exchange (the default one is amq.default)', async () => {
    expect((await api('POST', '/api/exchanges/%2F/w-x/publish', { ...as(), body: publishBody })).status).toBe(200);
    expect((await api('POST', '/api/exchanges/%2F/r-x/publish', { ...as(), body: publishBody })).body).toEqual(ACCESS_REFUSED);
    expect((await api('POST', '/api/exchanges/%2F/amq.default/publish', { ...as(), body: publishBody })).status).toBe(401);
  });

  it('get, purge and peek need read on the queue', async () => {
    expect((await api('POST', '/api/queues/%2F/r-q/get', { ...as(), body: getBody })).status).toBe(200);
    expect((await api('POST', '/api/queues/%2F/w-q/get', { ...as(), body: getBody })).status).toBe(401);
    expect((await api('DELETE', '/api/queues/%2F/r-q/contents', { ...as() })).status).toBe(204);
    expect((await api('DELETE', '/api/queues/%2F/w-q/contents', { ...as() })).status).toBe(401);
    expect((await api('POST', '/api/queues/%2F/r-q/peek', { ...as() })).status).toBe(200);
    expect((await api('POST', '/api/queues/%2F/w-q/peek', { ...as() })).status).toBe(401);
  });

  it('bind and unbind need write on the destination and read on the source', async () => {
    expect((await api('POST', '/api/bindings/%2F/e/r-x/q/w-q', { ...as(), body: { routing_key: 'a' } })).status).toBe(201);
    expect((await api('POST', '/api/bindings/%2F/e/w-x/q/w-q', { ...as(), body: {} })).status).toBe(401);
    expect((await api('POST', '/api/bindings/%2F/e/r-x/q/r-q', { ...as(), body: {} })).status).toBe(401);
    expect((await api('POST', '/api/bindings/%2F/e/r-x/e/w-x', { ...as(), body: {} })).status).toBe(201);
    expect((await api('POST', '/api/bindings/%2F/e/w-x/e/r-x', { ...as(), body: {} })).status).toBe(401);
    await api('POST', '/api/bindings/%2F/e/r-x/q/r-q2', { body: { routing_key: 'b' } });
    expect((await api('DELETE', '/api/bindings/%2F/e/r-x/q/r-q2/b', { ...as() })).status).toBe(401);
    expect((await api('DELETE', '/api/bindings/%2F/e/r-x/q/w-q/a', { ...as() })).status).toBe(204);
  });

  it('reading metadata needs vhost access only', async () => {
    expect((await api('GET', '/api/queues/%2F/w-q', { ...as() })).status).toBe(200);
    expect((await api('GET', '/api/exchanges/%2F', { ...as() })).status).toBe(200);
    expect((await api('GET', '/api/bindings/%2F', { ...as() })).status).toBe(200);
    expect((await api('GET', '/api/queues/elsewhere', { ...as() })).status).toBe(401);
    expect((await api('PUT', '/api/queues/elsewhere/cfg-q', { ...as() })).status).toBe(401);
    expect((await api('GET', '/api/aliveness-test/elsewhere', { ...as() })).status).toBe(401);
  });
});

describe('WebSocket', () => {
  let conn: WarrenConnection;

  beforeAll(async () => {
    conn = await warren.connect({ username: narrow[0], password: narrow[1] });
  });

  async function refused(operation: Promise<unknown>): Promise<void> {
    const error = await operation.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WarrenError);
    expect((error as WarrenError).code).toBe(403);
  }

  it('declare and delete need configure', async () => {
    await conn.queueDeclare({ queue: 'cfg-ws-q' });
    await refused(conn.queueDeclare({ queue: 'other-ws-q' }));
    await conn.exchangeDeclare({ exchange: 'cfg-ws-x', type: 'direct' });
    await refused(conn.exchangeDeclare({ exchange: 'other-ws-x', type: 'direct' }));
    await refused(conn.queueDelete({ queue: 'w-q2' }));
    await conn.queueDelete({ queue: 'cfg-ws-q' });
  });

  it('publish needs write on the exchange', async () => {
    expect(await conn.publish({ exchange: 'w-x', routingKey: 'k', body: 'x' })).toMatchObject({ routed: expect.any(Boolean) });
    await refused(conn.publish({ exchange: 'r-x', routingKey: 'k', body: 'x' }));
    await refused(conn.publish({ exchange: '', routingKey: 'r-q', body: 'x' }));
  });

  it('consume, get and purge need read on the queue', async () => {
    await conn.get({ queue: 'r-q' });
    await refused(conn.get({ queue: 'w-q' }));
    await conn.queuePurge({ queue: 'r-q' });
    await refused(conn.queuePurge({ queue: 'w-q' }));
    const consumer = await conn.consume({ queue: 'r-q' }, () => undefined);
    await conn.cancel(consumer.consumerTag);
    await refused(conn.consume({ queue: 'w-q' }, () => undefined));
  });

  it('bind needs write on the destination and read on the source', async () => {
    await conn.queueBind({ queue: 'w-q', exchange: 'r-x', routingKey: 'ws' });
    await refused(conn.queueBind({ queue: 'r-q', exchange: 'r-x' }));
    await refused(conn.queueBind({ queue: 'w-q', exchange: 'w-x' }));
    await conn.exchangeBind({ destination: 'w-x', source: 'r-x', routingKey: 'ws' });
    await refused(conn.exchangeBind({ destination: 'r-x', source: 'w-x' }));
  });

  it('a vhost without permissions cannot be opened', async () => {
    await expect(warren.connect({ username: narrow[0], password: narrow[1], vhost: 'elsewhere' })).rejects.toMatchObject({ code: 530 });
  });
});
