// The bundled client's token login against a real broker and a local identity provider: a fixed token,
// and a token provider the client calls again, by itself, before each token expires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, tokenExpiry, WarrenError, type WarrenConnection } from '../../src/client/index.js';
import { refreshDelay } from '../../src/client/token.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { TokenIssuer } from '../helpers/token-issuer.js';
import { once, withTimeout } from '../protocol/support.js';

let issuer: TokenIssuer;
let warren: RunningWarren;
const open: WarrenConnection[] = [];

beforeAll(async () => {
  issuer = await TokenIssuer.start();
  warren = await startWarren({ oauth2JwksUrl: issuer.jwksUrl });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await warren.stop();
  await issuer.close();
});

const scope = 'warren.configure:*/* warren.write:*/* warren.read:*/*';

describe('token helpers', () => {
  it('reads exp from a token without verifying it', async () => {
    const token = await issuer.mint({ expiresIn: 100 });
    const exp = tokenExpiry(token);
    expect(exp).toBeDefined();
    expect(Math.abs((exp ?? 0) - (Date.now() + 100_000))).toBeLessThan(2000);
    expect(tokenExpiry('not-a-token')).toBeUndefined();
  });

  it('refreshes a minute before expiry, or after four fifths of a short lifetime', () => {
    expect(refreshDelay(3_600_000, 0)).toBe(3_540_000);
    expect(refreshDelay(10_000, 0)).toBe(8_000);
    expect(refreshDelay(-5, 0)).toBe(0);
  });
});

describe('connect with a token', () => {
  it('takes a fixed token, and updateToken() hands over a new one', async () => {
    const conn = await connect(warren.wsUrl, { token: await issuer.mint({ scope }), WebSocket });
    open.push(conn);
    await conn.updateToken(await issuer.mint({ scope }));
    await expect(conn.updateToken(await issuer.mint({ scope, sub: 'someone-else' }))).rejects.toThrow(WarrenError);
    expect((await conn.queueDeclare({ exclusive: true })).queue).toMatch(/^amq\.gen-/);
  });

  it('calls the provider again before the token expires and stays open past the first expiry', async () => {
    let calls = 0;
    let refreshed!: () => void;
    const secondCall = new Promise<void>((resolve) => (refreshed = resolve));
    const provider = async (): Promise<string> => {
      calls += 1;
      if (calls === 2) refreshed();
      return issuer.mint({ scope, expiresIn: calls === 1 ? 2 : 3600 });
    };
    const conn = await connect(warren.wsUrl, { token: provider, WebSocket });
    open.push(conn);
    await withTimeout(secondCall, 'the refresh', 10_000);
    // Beyond the first token's expiry: a connection that was not refreshed would be closed by now.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(conn.isOpen).toBe(true);
    expect((await conn.queueDeclare({ exclusive: true })).queue).toMatch(/^amq\.gen-/);
    expect(calls).toBe(2);
  });

  it("reports a failed refresh as an 'error' event; the broker then closes at expiry", async () => {
    let calls = 0;
    const provider = async (): Promise<string> => {
      calls += 1;
      if (calls > 1) throw new Error('identity provider unreachable');
      return issuer.mint({ scope, expiresIn: 2 });
    };
    const conn = await connect(warren.wsUrl, { token: provider, WebSocket });
    const error = await once(conn, 'error', 10_000);
    expect(error.message).toBe('token refresh failed: identity provider unreachable');
    const close = await once(conn, 'close', 10_000);
    expect(close).toMatchObject({ code: 403, reason: 'ACCESS_REFUSED', message: expect.stringMatching(/^token expired at/) });
  });

  it('rejects connect with the broker\'s reason for a bad token', async () => {
    await expect(connect(warren.wsUrl, { token: await issuer.mint({ audience: 'other' }), WebSocket })).rejects.toThrow(
      "token refused: its audience does not include 'warren'",
    );
  });
});
