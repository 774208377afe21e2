/**
 * Topic permissions over a real WebSocket client (and the REST publish and bind, which take the same
 * path): a publish's routing key against `write`, a binding's key against `read`, only on topic
 * exchanges, with `{username}` and `{vhost}` expanded, and administrators checked like anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarrenError, type WarrenConnection } from '../../src/client/index.js';
import { apiClient, createUser, type Api } from '../http/support.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren;
let api: Api;
let pub: readonly [string, string];
let conn: WarrenConnection;

const all = { configure: '.*', write: '.*', read: '.*' };

async function setTopic(vhost: string, user: string, exchange: string, write: string, read: string): Promise<void> {
  const res = await api('PUT', `/api/topic-permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, { body: { exchange, write, read } });
  expect([201, 204]).toContain(res.status);
}

async function refused(operation: Promise<unknown>): Promise<string> {
  const error = await operation.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WarrenError);
  expect((error as WarrenError).code).toBe(403);
  return (error as WarrenError).message;
}

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
  pub = await createUser(api, 'pub', 'management', all);
  for (const [name, type] of [
    ['events', 'topic'],
    ['other-topic', 'topic'],
    ['plain', 'direct'],
  ] as const) {
    await api('PUT', `/api/exchanges/%2F/${name}`, { body: { type } });
  }
  await api('PUT', '/api/queues/%2F/inbox');
  await setTopic('/', 'pub', 'events', '^pub\\.', '^allowed\\.');
  // On a direct exchange a topic permission is never consulted.
  await setTopic('/', 'pub', 'plain', '^nothing$', '^nothing$');
  conn = await warren.connect({ username: pub[0], password: pub[1] });
});
afterAll(() => warren.stop());

describe('publishing to a topic exchange', () => {
  it('needs a routing key matching write', async () => {
    expect(await conn.publish({ exchange: 'events', routingKey: 'pub.created', body: 'x' })).toMatchObject({ routed: false });
    const message = await refused(conn.publish({ exchange: 'events', routingKey: 'other.created', body: 'x' }));
    expect(message).toContain("write access to topic 'other.created' in exchange 'events' in vhost '/' refused for user 'pub'");
    // The connection goes on working after a refusal.
    expect(await conn.publish({ exchange: 'events', routingKey: 'pub.again', body: 'x' })).toMatchObject({ routed: false });
  });

  it('is free on exchanges without a topic permission, and on exchanges that are not topic exchanges', async () => {
    await conn.publish({ exchange: 'other-topic', routingKey: 'anything', body: 'x' });
    await conn.publish({ exchange: 'amq.topic', routingKey: 'anything', body: 'x' });
    await conn.publish({ exchange: 'plain', routingKey: 'anything', body: 'x' });
  });

  it('is checked on the REST publish too', async () => {
    const body = (routing_key: string): Record<string, unknown> => ({ routing_key, payload: 'x', payload_encoding: 'string', properties: {} });
    expect((await api('POST', '/api/exchanges/%2F/events/publish', { as: pub, body: body('pub.rest') })).status).toBe(200);
    expect((await api('POST', '/api/exchanges/%2F/events/publish', { as: pub, body: body('rest') })).body).toEqual({
      error: 'not_authorised',
      reason: 'Access refused.',
    });
  });
});

describe('binding to and from a topic exchange', () => {
  it('needs a binding key from it matching read, to bind and to unbind', async () => {
    await conn.queueBind({ queue: 'inbox', exchange: 'events', routingKey: 'allowed.#' });
    const message = await refused(conn.queueBind({ queue: 'inbox', exchange: 'events', routingKey: 'secret.#' }));
    expect(message).toContain("read access to topic 'secret.#' in exchange 'events' in vhost '/' refused for user 'pub'");
    await api('POST', '/api/bindings/%2F/e/events/q/inbox', { body: { routing_key: 'secret.#' } });
    await refused(conn.queueUnbind({ queue: 'inbox', exchange: 'events', routingKey: 'secret.#' }));
    await conn.queueUnbind({ queue: 'inbox', exchange: 'events', routingKey: 'allowed.#' });
  });

  it('checks an exchange-to-exchange binding by its source', async () => {
    await refused(conn.exchangeBind({ source: 'events', destination: 'other-topic', routingKey: 'secret' }));
    await conn.exchangeBind({ source: 'events', destination: 'other-topic', routingKey: 'allowed.x' });
    // events as the destination: the source has no topic permission for pub.
    await conn.exchangeBind({ source: 'other-topic', destination: 'events', routingKey: 'secret' });
    await conn.queueBind({ queue: 'inbox', exchange: 'plain', routingKey: 'secret' });
  });

  it('is checked on the REST binding too', async () => {
    expect((await api('POST', '/api/bindings/%2F/e/events/q/inbox', { as: pub, body: { routing_key: 'allowed.rest' } })).status).toBe(201);
    expect((await api('POST', '/api/bindings/%2F/e/events/q/inbox', { as: pub, body: { routing_key: 'rest' } })).status).toBe(401);
  });
});

describe('variables and who is checked', () => {
  it('expands {username} and {vhost} as literal text', async () => {
    const dotted = await createUser(api, 'a.b', '', { ...all, vhost: '/' });
    await setTopic('/', 'a.b', 'events', '^{username}$', '^{vhost}$');
    const c = await warren.connect({ username: dotted[0], password: dotted[1] });
    await c.publish({ exchange: 'events', routingKey: 'a.b', body: 'x' });
    // The dot of the name matches only a dot.
    await refused(c.publish({ exchange: 'events', routingKey: 'axb', body: 'x' }));
    await c.queueBind({ queue: 'inbox', exchange: 'events', routingKey: '/' });
    await refused(c.queueBind({ queue: 'inbox', exchange: 'events', routingKey: 'a.b' }));
  });

  it('leaves a variable it has no value for ({client_id}, MQTT’s) as written', async () => {
    await setTopic('/', 'pub', 'other-topic', '^{client_id}$', '.*');
    await conn.publish({ exchange: 'other-topic', routingKey: '{client_id}', body: 'x' });
    await refused(conn.publish({ exchange: 'other-topic', routingKey: 'pub', body: 'x' }));
    await api('DELETE', '/api/topic-permissions/%2F/pub/other-topic');
    await conn.publish({ exchange: 'other-topic', routingKey: 'pub', body: 'x' });
  });

  it('checks administrators too, and a change applies to open connections at once', async () => {
    const admin = await warren.connect();
    await admin.publish({ exchange: 'events', routingKey: 'guest.x', body: 'x' });
    await setTopic('/', 'guest', 'events', '^admin\\.', '');
    await refused(admin.publish({ exchange: 'events', routingKey: 'guest.x', body: 'x' }));
    await admin.publish({ exchange: 'events', routingKey: 'admin.x', body: 'x' });
    // An empty regex matches only the empty key.
    await refused(admin.queueBind({ queue: 'inbox', exchange: 'events', routingKey: 'admin.x' }));
    await admin.queueBind({ queue: 'inbox', exchange: 'events', routingKey: '' });
    expect((await api('DELETE', '/api/topic-permissions/%2F/guest')).status).toBe(204);
    await admin.publish({ exchange: 'events', routingKey: 'guest.x', body: 'x' });
  });
});
