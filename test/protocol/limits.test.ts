/**
 * Vhost and user limits enforced on real WebSocket clients: connection limits at `connect` (530),
 * the channel limit (a WebSocket connection is one channel), and `max-queues` on declare, over the wire
 * and over REST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import type { ConnectOptions } from '../../src/client/options.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, createUser, unique, type Api } from '../http/support.js';
import { closeRawSockets, RawSocket } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(async () => {
  closeRawSockets();
  await warren?.stop();
});

/** A vhost made by guest (who so gets full permissions on it). */
async function freshVhost(): Promise<string> {
  const name = unique('lim');
  expect((await api('PUT', `/api/vhosts/${name}`)).status).toBe(201);
  return name;
}

async function put(url: string, value: number): Promise<void> {
  expect((await api('PUT', url, { body: { value } })).status).toBe(204);
}

function refusal(options: Partial<ConnectOptions>): Promise<unknown> {
  return warren.connect(options).then(
    () => new Error('the connection was accepted'),
    (error: unknown) => error,
  );
}

/** Polls the server's own count (not the clock) until the closed connection has left it. */
async function untilConnections(count: (c: { user: string; vhost: string }) => boolean, expected: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (warren.server.connections.countConnections(count) === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the server never counted ${expected} connections`);
}

describe('vhost max-connections', () => {
  it('refuses the connection over the limit with 530 and RabbitMQ’s text; a place freed is taken again', async () => {
    const vhost = await freshVhost();
    await put(`/api/vhost-limits/${vhost}/max-connections`, 2);
    const first = await warren.connect({ vhost });
    await warren.connect({ vhost });
    expect(await refusal({ vhost })).toMatchObject({
      code: 530,
      reason: 'NOT_ALLOWED',
      message: `access to vhost '${vhost}' refused for user 'guest': connection limit (2) is reached`,
    });
    // Other vhosts are not affected.
    await warren.connect({ vhost: '/' });

    await first.close();
    await untilConnections((c) => c.vhost === vhost, 1);
    const again = await warren.connect({ vhost });
    expect(again.serverInfo.server).toBe('warren');
  });

  it('with 0 refuses every connection: an error frame, a close push, and the socket closed', async () => {
    const vhost = await freshVhost();
    await put(`/api/vhost-limits/${vhost}/max-connections`, 0);
    const raw = await RawSocket.open(warren.wsUrl);
    raw.send({ op: 'connect', id: 'c', vhost, username: 'guest', password: 'guest' });
    expect(await raw.next()).toMatchObject({ op: 'error', id: 'c', code: 530, reason: 'NOT_ALLOWED' });
    expect(await raw.next()).toMatchObject({ op: 'close', code: 530, reason: 'NOT_ALLOWED' });
    await raw.closed;
    expect(warren.server.connections.countConnections((c) => c.vhost === vhost)).toBe(0);
  });

  it('a negative limit, or clearing it, lets connections in; lowering it closes nobody', async () => {
    const vhost = await freshVhost();
    await put(`/api/vhost-limits/${vhost}/max-connections`, -1);
    const open: WarrenConnection[] = [await warren.connect({ vhost }), await warren.connect({ vhost })];
    await put(`/api/vhost-limits/${vhost}/max-connections`, 1);
    expect(warren.server.connections.countConnections((c) => c.vhost === vhost)).toBe(2);
    await expect(open[0]?.queueDeclare({ queue: '', exclusive: true })).resolves.toBeDefined();
    expect(await refusal({ vhost })).toMatchObject({ code: 530 });
    expect((await api('DELETE', `/api/vhost-limits/${vhost}/max-connections`)).status).toBe(204);
    await warren.connect({ vhost });
  });
});

describe('user limits', () => {
  it('max-connections counts the user’s connections in every vhost', async () => {
    const other = await freshVhost();
    const name = unique('capped');
    const user = await createUser(api, name, '', { configure: '.*', write: '.*', read: '.*' });
    await api('PUT', `/api/permissions/${other}/${name}`, { body: { configure: '.*', write: '.*', read: '.*' } });
    await put(`/api/user-limits/${name}/max-connections`, 1);
    const login = { username: user[0], password: user[1] };
    await warren.connect({ ...login, vhost: '/' });
    expect(await refusal({ ...login, vhost: other })).toMatchObject({
      code: 530,
      reason: 'NOT_ALLOWED',
      message: `connection refused for user '${name}': user connection limit (1) is reached`,
    });
    // Guest is not limited by another user's limit.
    await warren.connect({ vhost: other });
  });

  it('max-channels: each WebSocket connection holds one channel, so the connection that would open one too many is refused', async () => {
    const name = unique('chan');
    const user = await createUser(api, name, '', { configure: '.*', write: '.*', read: '.*' });
    const login = { username: user[0], password: user[1] };
    await put(`/api/user-limits/${name}/max-channels`, 0);
    expect(await refusal(login)).toMatchObject({
      code: 530,
      reason: 'NOT_ALLOWED',
      message: `number of channels opened for user '${name}' has reached the maximum allowed user limit of 0`,
    });
    await put(`/api/user-limits/${name}/max-channels`, 1);
    await warren.connect(login);
    expect(await refusal(login)).toMatchObject({ code: 530, message: expect.stringContaining('maximum allowed user limit of 1') });
  });
});

describe('vhost max-queues', () => {
  it('refuses a new queue over the wire with 406 and RabbitMQ’s text; redeclaring is fine', async () => {
    const vhost = await freshVhost();
    await put(`/api/vhost-limits/${vhost}/max-queues`, 1);
    const conn = await warren.connect({ vhost });
    await conn.queueDeclare({ queue: 'only', durable: true });
    await expect(conn.queueDeclare({ queue: 'only', durable: true })).resolves.toMatchObject({ queue: 'only' });
    await expect(conn.queueDeclare({ queue: 'second' })).rejects.toMatchObject({
      code: 406,
      reason: 'PRECONDITION_FAILED',
      message: `cannot declare queue 'second': queue limit in vhost '${vhost}' (1) is reached`,
    });
    await expect(conn.queueDeclare({ queue: '', exclusive: true })).rejects.toMatchObject({ code: 406 });
    expect([...warren.server.broker.vhost(vhost).queues.keys()]).toEqual(['only']);
  });

  it('refuses a new queue over REST with 400 and the same reason', async () => {
    const vhost = await freshVhost();
    await put(`/api/vhost-limits/${vhost}/max-queues`, 1);
    expect((await api('PUT', `/api/queues/${vhost}/one`, { body: { durable: true } })).status).toBe(201);
    expect((await api('PUT', `/api/queues/${vhost}/one`, { body: { durable: true } })).status).toBe(204);
    expect(await api('PUT', `/api/queues/${vhost}/two`, { body: { durable: true } })).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: `cannot declare queue 'two': queue limit in vhost '${vhost}' (1) is reached` },
    });
    expect((await api('GET', `/api/queues/${vhost}/two`)).status).toBe(404);
  });

  it('lowering the limit deletes nothing; queues are refused until enough are deleted', async () => {
    const vhost = await freshVhost();
    const conn = await warren.connect({ vhost });
    for (const queue of ['a', 'b', 'c']) await conn.queueDeclare({ queue, durable: true });
    await put(`/api/vhost-limits/${vhost}/max-queues`, 2);
    expect([...warren.server.broker.vhost(vhost).queues.keys()].sort()).toEqual(['a', 'b', 'c']);
    await expect(conn.queueDeclare({ queue: 'd' })).rejects.toMatchObject({ code: 406 });
    await conn.queueDelete({ queue: 'a' });
    await conn.queueDelete({ queue: 'b' });
    await expect(conn.queueDeclare({ queue: 'd' })).resolves.toMatchObject({ queue: 'd' });
  });
});
