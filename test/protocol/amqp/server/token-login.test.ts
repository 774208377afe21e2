// AMQP 0-9-1 with an OAuth 2 token as the password (RabbitMQ's way: the user name is ignored), and
// connection.update-secret with a refreshed token.
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWarren } from '../../../helpers/warren.js';
import { startTokenWarren, TokenIssuer } from '../../../helpers/token-issuer.js';
import { withTimeout } from '../../support.js';

let issuer: TokenIssuer;
let warren: RunningWarren;
let stop: () => Promise<void>;

beforeAll(async () => ({ issuer, warren, stop } = await startTokenWarren()));
afterAll(() => stop());

function url(token: string): string {
  return `amqp://ignored:${encodeURIComponent(token)}@127.0.0.1:${warren.amqpPort}`;
}

describe('AMQP with a token as the password', () => {
  it('logs in as the token subject with the scopes as permissions', async () => {
    const token = await issuer.mint({ sub: 'amqp-app', scope: 'warren.configure:%2F/amqp-tok-* warren.write:%2F/amq.default warren.read:%2F/amqp-tok-*' });
    const connection = await amqplib.connect(url(token));
    const channel = await connection.createChannel();
    await channel.assertQueue('amqp-tok-1', { durable: false });
    channel.sendToQueue('amqp-tok-1', Buffer.from('hello'));
    const got = await withTimeout(
      (async () => {
        for (;;) {
          const message = await channel.get('amqp-tok-1', { noAck: true });
          if (message) return message;
        }
      })(),
      'the message',
    );
    expect(got.content.toString()).toBe('hello');
    expect([...warren.server.connections.list()].some((c) => c.user?.name === 'amqp-app')).toBe(true);
    // Not in the scopes: refused with 403, as a stored permission would be.
    const denied = await connection.createChannel();
    denied.on('error', () => undefined);
    const error = await denied.assertQueue('other-queue').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/ACCESS_REFUSED - access to queue 'other-queue' in vhost '\/' refused for user 'amqp-app'/);
    await connection.close();
  });

  it('refuses an expired token at login', async () => {
    const token = await issuer.mint({ expiresIn: -100, scope: 'warren.read:*/*' });
    await expect(amqplib.connect(url(token))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('takes a refreshed token with update-secret: new scopes on the open channels', async () => {
    const first = await issuer.mint({ sub: 'rotating', scope: 'warren.configure:%2F/rot-*' });
    const connection = await amqplib.connect(url(first));
    const channel = await connection.createChannel();
    await channel.assertQueue('rot-1', { durable: false });
    const refreshed = await issuer.mint({ sub: 'rotating', scope: 'warren.configure:%2F/rot-* warren.read:%2F/rot-*' });
    await connection.updateSecret(Buffer.from(refreshed), 'refresh');
    // Needs read, which only the refreshed token grants: the open channel sees it.
    expect(await channel.get('rot-1')).toBe(false);
    await connection.close();
  });

  it('refuses update-secret with a token for another user and closes the connection', async () => {
    const connection = await amqplib.connect(url(await issuer.mint({ sub: 'one', scope: 'warren.read:*/*' })));
    const closed = new Promise<Error>((resolve) => connection.on('error', resolve));
    void connection.updateSecret(Buffer.from(await issuer.mint({ sub: 'two', scope: 'warren.read:*/*' })), 'refresh').catch(() => undefined);
    expect((await withTimeout(closed, 'the connection error')).message).toMatch(/NOT_ALLOWED - New secret was refused/);
  });

  it('closes the connection when its token expires', async () => {
    // Long enough to log in on a loaded machine (a 1 s token expired before connection.open in one CI run).
    const connection = await amqplib.connect(url(await issuer.mint({ scope: 'warren.read:*/*', expiresIn: 4 })));
    const closed = new Promise<Error>((resolve) => connection.on('error', resolve));
    expect((await withTimeout(closed, 'the connection error', 15_000)).message).toMatch(/ACCESS_REFUSED - token expired at/);
  });
});
