/** `x-delivery-count` and `x-delivery-limit` over the real WebSocket: deliver pushes, get replies, the DLQ. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { collect } from './support.js';

let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  warren = await startWarren();
  conn = await warren.connect();
});
afterAll(() => warren.stop());

describe('x-delivery-count over the wire', () => {
  it('is absent on the first delivery, then counts the returns; a publisher header of that name is replaced', async () => {
    await conn.queueDeclare({ queue: 'dc.work' });
    await conn.publish({ routingKey: 'dc.work', body: 'job', properties: { headers: { a: 1, 'x-delivery-count': 99 } } });
    const c = await collect(conn, { queue: 'dc.work', noAck: false });
    for (let i = 1; i <= 3; i++) {
      const [message] = (await c.waitFor(i)).slice(i - 1);
      message?.nack({ requeue: true });
    }
    const [last] = (await c.waitFor(4)).slice(3);
    last?.ack();
    const seen = c.messages.map((m) => [m.redelivered, m.properties.headers?.['x-delivery-count']]);
    expect(seen).toEqual([
      [false, 99],
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
    expect(c.messages[1]?.properties.headers?.['a']).toBe(1);
    expect(c.messages[1]?.text()).toBe('job');
    await c.consumer.cancel();
  });

  it('a message without headers gets them for the count', async () => {
    await conn.queueDeclare({ queue: 'dc.bare' });
    await conn.publish({ routingKey: 'dc.bare', body: 'x', properties: { contentType: 'text/plain' } });
    const first = await conn.get({ queue: 'dc.bare' });
    expect(first?.properties.headers).toBeUndefined();
    first?.reject(true);
    const second = await conn.get({ queue: 'dc.bare' });
    expect(second?.properties.headers).toEqual({ 'x-delivery-count': 1 });
    second?.reject(true);
    const c = await collect(conn, { queue: 'dc.bare', noAck: true });
    const [again] = await c.waitFor(1);
    expect(again?.properties).toMatchObject({ contentType: 'text/plain', headers: { 'x-delivery-count': 2 } });
    await c.consumer.cancel();
  });

  it('past x-delivery-limit the message is in the DLQ, reason delivery_limit', async () => {
    await conn.exchangeDeclare({ exchange: 'dc.dlx', type: 'fanout' });
    await conn.queueDeclare({ queue: 'dc.dead' });
    await conn.queueBind({ queue: 'dc.dead', exchange: 'dc.dlx' });
    await conn.queueDeclare({ queue: 'dc.limited', arguments: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dc.dlx' } });
    await conn.publish({ routingKey: 'dc.limited', body: 'poison' });
    (await conn.get({ queue: 'dc.limited' }))?.nack({ requeue: true });
    (await conn.get({ queue: 'dc.limited' }))?.nack({ requeue: true });
    expect(await conn.get({ queue: 'dc.limited' })).toBeNull();
    const dead = await conn.get({ queue: 'dc.dead', noAck: true });
    expect(dead?.text()).toBe('poison');
    expect(dead?.properties.headers).toMatchObject({ 'x-first-death-reason': 'delivery_limit', 'x-death': [{ reason: 'delivery_limit', queue: 'dc.limited' }] });
    expect(dead?.properties.headers?.['x-delivery-count']).toBeUndefined();
  });

  it('an invalid x-delivery-limit is refused with 406', async () => {
    await expect(conn.queueDeclare({ queue: 'dc.bad', arguments: { 'x-delivery-limit': -1 } })).rejects.toMatchObject({ code: 406 });
  });
});
