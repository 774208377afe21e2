/** Dead-lettering over the real WebSocket: a rejected message arrives in the dead-letter queue with its x-death. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  warren = await startWarren();
  conn = await warren.connect();
});
afterAll(() => warren.stop());

describe('dead-lettering over the wire', () => {
  it('reject without requeue: the message arrives in the DLQ with x-death and the first/last-death headers', async () => {
    await conn.exchangeDeclare({ exchange: 'wire.dlx', type: 'fanout' });
    await conn.queueDeclare({ queue: 'wire.dead' });
    await conn.queueBind({ queue: 'wire.dead', exchange: 'wire.dlx' });
    await conn.queueDeclare({ queue: 'wire.work', arguments: { 'x-dead-letter-exchange': 'wire.dlx' } });
    await conn.publish({ routingKey: 'wire.work', body: 'job', properties: { expiration: '60000', headers: { a: 1 } } });
    const got = await conn.get({ queue: 'wire.work' });
    got?.reject(false);
    const dead = await conn.get({ queue: 'wire.dead', noAck: true });
    expect(dead?.text()).toBe('job');
    expect(dead?.exchange).toBe('wire.dlx');
    expect(dead?.routingKey).toBe('wire.work');
    expect(dead?.properties.expiration).toBeUndefined();
    const headers = dead?.properties.headers ?? {};
    expect(headers).toMatchObject({
      a: 1,
      'x-death': [{ count: 1, reason: 'rejected', queue: 'wire.work', exchange: '', 'routing-keys': ['wire.work'], 'original-expiration': '60000' }],
      'x-first-death-queue': 'wire.work',
      'x-first-death-reason': 'rejected',
      'x-first-death-exchange': '',
      'x-last-death-queue': 'wire.work',
      'x-last-death-reason': 'rejected',
      'x-last-death-exchange': '',
    });
    const [death] = headers['x-death'] as Array<{ time: number }>;
    expect(Number.isInteger(death?.time)).toBe(true);
    expect(Math.abs((death?.time ?? 0) - Date.now() / 1000)).toBeLessThan(60);
  });
});
