// Token login over the JSON WebSocket protocol, against a local identity provider (JWKS over HTTP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWarren } from '../helpers/warren.js';
import { startTokenWarren, TokenIssuer } from '../helpers/token-issuer.js';
import { RawSocket, uniqueName } from './support.js';

let issuer: TokenIssuer;
let warren: RunningWarren;
let stop: () => Promise<void>;

beforeAll(async () => ({ issuer, warren, stop } = await startTokenWarren()));
afterAll(() => stop());

async function tokenSocket(scope: string | string[], options: { sub?: string; expiresIn?: number } = {}): Promise<RawSocket> {
  const raw = await RawSocket.open(warren.wsUrl);
  const token = await issuer.mint({ scope, ...options });
  const reply = await raw.request({ op: 'connect', vhost: '/', token });
  if (reply.op !== 'ok') throw new Error(`connect refused: ${JSON.stringify(reply)}`);
  return raw;
}

describe('connect with a token', () => {
  it('opens the connection as the token subject, shown in /api/connections', async () => {
    const raw = await tokenSocket('warren.read:*/*', { sub: 'svc-orders' });
    const response = await warren.server.app.inject({
      method: 'GET',
      url: '/api/connections',
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    const connections = JSON.parse(response.body) as Array<{ user: string; auth_mechanism: string }>;
    expect(connections.find((c) => c.user === 'svc-orders')).toMatchObject({ auth_mechanism: 'OAUTH2' });
    raw.close();
  });

  it.each([
    ['expired', { expiresIn: -120 }, /token refused: expired at/],
    ['wrong audience', { audience: 'rabbitmq' }, /audience does not include 'warren'/],
    ['not yet valid', { notBefore: 600 }, /not valid before/],
  ])('refuses a token that is %s, with a clear reason, and closes', async (_what, mint, reason) => {
    const raw = await RawSocket.open(warren.wsUrl);
    const reply = await raw.request({ op: 'connect', token: await issuer.mint({ scope: 'warren.read:*/*', ...mint }) });
    expect(reply).toMatchObject({ op: 'error', code: 403, reason: 'ACCESS_REFUSED', message: expect.stringMatching(reason) });
    expect((await raw.closed).code).toBe(1008);
  });

  it('refuses a token with no scope for the vhost', async () => {
    const raw = await RawSocket.open(warren.wsUrl);
    const reply = await raw.request({ op: 'connect', vhost: '/', token: await issuer.mint({ scope: 'warren.read:other/*' }) });
    expect(reply).toMatchObject({ op: 'error', code: 530, message: "access to vhost '/' refused for user 'app-user'" });
  });

  it('refuses token and password together, and neither', async () => {
    const both = await RawSocket.open(warren.wsUrl);
    expect(await both.request({ op: 'connect', token: 'x', username: 'guest', password: 'guest' })).toMatchObject({
      op: 'error',
      reason: 'SYNTAX_ERROR',
      message: "connect takes either 'token' or 'username' and 'password', not both",
    });
    const neither = await RawSocket.open(warren.wsUrl);
    expect(await neither.request({ op: 'connect' })).toMatchObject({ op: 'error', reason: 'SYNTAX_ERROR' });
  });
});

describe('scopes over the WebSocket', () => {
  it('allows exactly what the scopes grant, through the same checks as stored permissions', async () => {
    const mine = uniqueName('tok');
    const raw = await tokenSocket([`warren.configure:%2F/${mine}*`, `warren.write:%2F/amq.default`, `warren.read:%2F/${mine}*`, 'warren.write:%2F/amq.topic/orders.*']);
    expect(await raw.request({ op: 'queue.declare', queue: `${mine}-q` })).toMatchObject({ op: 'ok' });
    expect(await raw.request({ op: 'queue.declare', queue: 'elsewhere' })).toMatchObject({
      op: 'error',
      code: 403,
      message: "access to queue 'elsewhere' in vhost '/' refused for user 'app-user'",
    });
    expect(await raw.request({ op: 'publish', routingKey: `${mine}-q`, body: 'hi' })).toMatchObject({ op: 'ok' });
    expect(await raw.request({ op: 'get', queue: `${mine}-q`, noAck: true })).toMatchObject({ op: 'ok', message: { body: 'hi' } });
    // Topic exchange: the routing-key part of the scope governs.
    expect(await raw.request({ op: 'publish', exchange: 'amq.topic', routingKey: 'orders.eu', body: 'x' })).toMatchObject({ op: 'ok' });
    expect(await raw.request({ op: 'publish', exchange: 'amq.topic', routingKey: 'invoices.eu', body: 'x' })).toMatchObject({
      op: 'error',
      code: 403,
      message: "write access to topic 'invoices.eu' in exchange 'amq.topic' in vhost '/' refused for user 'app-user'",
    });
    expect(await raw.request({ op: 'publish', exchange: 'amq.direct', routingKey: 'k', body: 'x' })).toMatchObject({ op: 'error', code: 403 });
    raw.close();
  });
});

describe('update-token and expiry', () => {
  it('takes a refreshed token on a live connection: new scopes at once, the old expiry no longer applies', async () => {
    const queue = uniqueName('refresh');
    const raw = await tokenSocket(`warren.configure:%2F/${queue}`, { expiresIn: 2 });
    expect(await raw.request({ op: 'publish', routingKey: queue, body: 'x' })).toMatchObject({ op: 'error', code: 403 });
    const fresh = await issuer.mint({ scope: [`warren.configure:%2F/${queue}`, 'warren.write:%2F/amq.default'], expiresIn: 3600 });
    expect(await raw.request({ op: 'update-token', token: fresh })).toMatchObject({ op: 'ok' });
    expect(await raw.request({ op: 'publish', routingKey: queue, body: 'x' })).toMatchObject({ op: 'ok' });
    // Past the first token's expiry (2 s plus a margin), the connection is still open.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await raw.request({ op: 'publish', routingKey: queue, body: 'y' })).toMatchObject({ op: 'ok' });
    raw.close();
  });

  it("refuses a refreshed token for another user, or an invalid one, and keeps the connection", async () => {
    const raw = await tokenSocket('warren.read:*/*');
    expect(await raw.request({ op: 'update-token', token: await issuer.mint({ sub: 'mallory', scope: 'warren.read:*/*' }) })).toMatchObject({
      op: 'error',
      code: 403,
      message: "update-token: the new token is for user 'mallory', not 'app-user'",
    });
    expect(await raw.request({ op: 'update-token', token: await issuer.mint({ expiresIn: -100 }) })).toMatchObject({ op: 'error', code: 403 });
    expect(await raw.request({ op: 'exchange.declare', exchange: 'amq.direct', passive: true })).toMatchObject({ op: 'ok' });
    raw.close();
  });

  it('refuses update-token on a password connection', async () => {
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'update-token', token: await issuer.mint() })).toMatchObject({
      op: 'error',
      message: 'update-token: this connection did not log in with a token',
    });
    raw.close();
  });

  it('closes the connection when its token expires, with a clear code and reason', async () => {
    const raw = await tokenSocket('warren.read:*/*', { expiresIn: 4 });
    const close = await raw.waitFor((frame) => frame.op === 'close', 'the close push', 15_000);
    expect(close).toMatchObject({ op: 'close', code: 403, reason: 'ACCESS_REFUSED', message: expect.stringMatching(/^token expired at .*update-token/) });
    expect((await raw.closed).code).toBe(1008);
  });
});
