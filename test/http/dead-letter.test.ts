/** Dead-lettering as the management API shows it: counters on queues and in the overview, x-death in get. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, record, type Api } from './support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(() => warren.stop());

describe('dead-lettering in the management API', () => {
  it('counts per reason on the queue and in the overview; x-death shows in get as RabbitMQ shows it', async () => {
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'rest.dead' });
    await conn.queueDeclare({ queue: 'rest.work', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'rest.dead', 'x-max-length': 1 } });
    await conn.publish({ routingKey: 'rest.work', body: 'pushed-out' });
    await conn.publish({ routingKey: 'rest.work', body: 'rejected' });
    (await conn.get({ queue: 'rest.work' }))?.reject(false);
    await conn.queueDeclare({ queue: 'rest.work', passive: true });

    const queue = record((await api('GET', '/api/queues/%2F/rest.work')).body);
    expect(queue).toMatchObject({
      messages_dead_lettered_rejected_total: 1,
      messages_dead_lettered_maxlen_total: 1,
      messages_dead_lettered_expired_total: 0,
      messages_dead_lettered_delivery_limit_total: 0,
      messages_dead_letter_dropped_total: 0,
    });
    const overview = record((await api('GET', '/api/overview')).body);
    expect(record(overview.queue_totals)).toMatchObject({ messages_dead_lettered_rejected_total: 1, messages_dead_lettered_maxlen_total: 1 });

    const got = array(
      (await api('POST', '/api/queues/%2F/rest.dead/get', { body: { count: 2, ackmode: 'ack_requeue_true', encoding: 'auto' } })).body,
    );
    expect(got.map((m) => m.payload)).toEqual(['pushed-out', 'rejected']);
    const headers = record(record(got[1]?.properties).headers);
    expect(headers['x-death']).toEqual([
      { count: 1, reason: 'rejected', queue: 'rest.work', time: expect.any(Number), exchange: '', 'routing-keys': ['rest.work'] },
    ]);
    expect(headers['x-first-death-reason']).toBe('rejected');
    await conn.close();
  });
});
