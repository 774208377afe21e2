/** Password guessing against a real server, over REST and the WebSocket: throttled, with a clear answer. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type WarrenError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient } from '../http/support.js';

let warren: RunningWarren | undefined;
afterEach(async () => {
  await warren?.stop();
  warren = undefined;
});

describe('password guessing', () => {
  it('over REST: after a few wrong passwords from one address, 429 with Retry-After, even for the right one', async () => {
    warren = await startWarren();
    const api = apiClient(warren.server.app);
    const from = { remoteAddress: '192.0.2.7' };
    await api('PUT', '/api/users/alice', { body: { password: 'right', tags: 'management' } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api('GET', '/api/whoami', { as: ['alice', `guess-${i}`], ...from })).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const throttled = await api('GET', '/api/whoami', { as: ['alice', 'right'], ...from });
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ error: 'too_many_requests', reason: expect.stringMatching(/too many failed logins from 192\.0\.2\.7/) });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Another client, from another address, is not affected.
    expect((await api('GET', '/api/whoami', { as: ['alice', 'right'], remoteAddress: '192.0.2.8' })).status).toBe(200);
  });

  it('over the WebSocket: the connection is refused with a close reason that says why', async () => {
    warren = await startWarren();
    const url = warren.wsUrl;
    const failures: WarrenError[] = [];
    for (let i = 0; i < 7; i++) {
      await connect(url, { username: 'guest', password: `guess-${i}` }).then(
        (c) => c.close(),
        (error: WarrenError) => void failures.push(error),
      );
    }
    expect(failures).toHaveLength(7);
    expect(failures[0]?.message).toMatch(/invalid credentials/);
    expect(failures[6]).toMatchObject({ code: 403, message: expect.stringMatching(/too many failed logins from/) });
  });
});
