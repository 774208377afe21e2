/** Names a hostile or careless client sends: too long, empty, with control characters. Refused everywhere, clearly. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren;
beforeAll(async () => {
  warren = await startWarren();
});
afterAll(() => warren.stop());

async function rest(method: string, path: string, body: unknown = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${warren.url}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('names over REST', () => {
  it.each([
    ['a 10,000-character queue name', 'PUT', `/api/queues/%2F/${'q'.repeat(10_000)}`, /queue name is longer than 255 bytes/],
    ['a 10,000-character exchange name', 'PUT', `/api/exchanges/%2F/${'x'.repeat(10_000)}`, /exchange name is longer than 255 bytes/],
    ['an empty vhost name', 'PUT', '/api/vhosts/', /vhost name must not be empty/],
    ['a vhost name with NUL', 'PUT', '/api/vhosts/a%00b', /control characters/],
    ['a queue name with NUL', 'PUT', '/api/queues/%2F/a%00b', /control characters/],
    ['an exchange name with a newline', 'PUT', '/api/exchanges/%2F/a%0Ab', /control characters/],
    ['a user name with NUL', 'PUT', '/api/users/a%00b', /control characters/],
  ])('%s: 400 with a JSON reason', async (_what, method, path, reason) => {
    const response = await rest(method, path, path.startsWith('/api/users/') ? { password: 'pw', tags: '' } : {});
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'bad_request', reason: expect.stringMatching(reason) });
  });

  it('creates nothing for any of them', async () => {
    const vhosts = (await (await fetch(`${warren.url}/api/vhosts`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })).json()) as Array<{ name: string }>;
    expect(vhosts.map((v) => v.name)).toEqual(['/']);
  });
});

describe('names over the WebSocket', () => {
  it('refuses a queue or exchange name with a control character with 406, and the connection goes on', async () => {
    const conn = await warren.connect();
    await expect(conn.queueDeclare({ queue: 'a\u0000b' })).rejects.toMatchObject({ code: 406 } satisfies Partial<WarrenError>);
    await expect(conn.exchangeDeclare({ exchange: 'x\u0007', type: 'direct' })).rejects.toMatchObject({ code: 406 } satisfies Partial<WarrenError>);
    await expect(conn.queueDeclare({ queue: 'fine' })).resolves.toMatchObject({ queue: 'fine' });
  });
});
