// connection.update-secret through @cloudamqp/amqp-client: the new secret is checked as a login for the
// same user would be; a right one is answered update-secret-ok and the connection carries on, a wrong one
// closes the connection with 530.
import { AMQPClient } from '@cloudamqp/amqp-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../../../helpers/warren.js';

let warren: RunningWarren;

beforeAll(async () => {
  warren = await startWarren();
});

afterAll(async () => {
  await warren.stop();
});

describe('connection.update-secret', () => {
  it('accepts the current password again and the connection goes on', async () => {
    const conn = await new AMQPClient(warren.amqpUrl).connect();
    await conn.updateSecret('guest', 'rotated');
    const ch = await conn.channel();
    const q = await ch.queueDeclare('', { exclusive: true });
    expect(q.name).toMatch(/^amq\.gen-/);
    await conn.close();
  });

  it('refuses a wrong secret with 530 and closes the connection', async () => {
    const conn = await new AMQPClient(warren.amqpUrl).connect();
    const closed = new Promise<Error>((resolve) => (conn.onerror = resolve));
    // The client's promise waits for update-secret-ok, which never comes: the close is what answers.
    void conn.updateSecret('not-the-password', 'rotated').catch(() => undefined);
    expect((await closed).message).toBe('Channel 0 closed: connection closed: NOT_ALLOWED - New secret was refused by one of the backends (530)');
    expect(conn.closed).toBe(true);
  });
});
