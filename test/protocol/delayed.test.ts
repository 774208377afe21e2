/**
 * Delayed messages over the real WebSocket with the TypeScript client: the `delay` option (the
 * `x-delay` header), the confirm that says what was scheduled, routing at the due time, and a mandatory
 * message returned when it turns out unroutable at its due time. The server runs on a fake clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarrenError, type ReturnedMessage, type WarrenConnection } from '../../src/client/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { collect, freshQueue, once, readyCount, record, sync, uniqueName } from './support.js';

describe('delayed messages over the wire', () => {
  let warren: RunningWarren;
  let conn: WarrenConnection;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    warren = await startWarren({}, { clock });
    conn = await warren.connect();
  });

  afterAll(async () => {
    await warren?.stop();
  });

  async function delayedExchange(type = 'direct', durable = false): Promise<string> {
    const exchange = uniqueName('delayed');
    await conn.exchangeDeclare({ exchange, type: 'x-delayed-message', durable, arguments: { 'x-delayed-type': type } });
    return exchange;
  }

  it('refuses x-delayed-message without a valid x-delayed-type with 406', async () => {
    const error = await conn.exchangeDeclare({ exchange: uniqueName('bad'), type: 'x-delayed-message' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarrenError);
    expect((error as WarrenError).code).toBe(406);
    expect((error as WarrenError).message).toMatch(/x-delayed-type/);
  });

  it('the delay option holds the message; the confirm names it; it is delivered at its due time with its x-delay header', async () => {
    const exchange = await delayedExchange();
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange, routingKey: 'k' });
    const deliveries = await collect(conn, { queue, noAck: true });
    const before = clock.now();
    const result = await conn.publish({ exchange, routingKey: 'k', body: 'later', delay: 5000, properties: { headers: { keep: 'me' } } });
    expect(result.routed).toBe(false);
    expect(result.scheduled?.due).toBe(before + 5000);
    expect(typeof result.scheduled?.id).toBe('number');
    await sync(conn);
    expect(deliveries.messages).toEqual([]);
    clock.advance(4999);
    await sync(conn);
    expect(deliveries.messages).toEqual([]);
    clock.advance(1);
    const [message] = await deliveries.waitFor(1);
    expect(message?.text()).toBe('later');
    expect(message?.properties.headers).toMatchObject({ keep: 'me', 'x-delay': 5000 });
  });

  it('without delay (or with 0) a delayed exchange routes at once, as its x-delayed-type', async () => {
    const exchange = await delayedExchange('fanout');
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange, routingKey: '' });
    expect((await conn.publish({ exchange, routingKey: 'any', body: 'now' })).routed).toBe(true);
    expect((await conn.publish({ exchange, routingKey: 'any', body: 'zero', delay: 0 })).routed).toBe(true);
    expect(await readyCount(conn, queue)).toBe(2);
  });

  it('the client refuses a delay that is not a non-negative integer', () => {
    expect(() => conn.publishNoConfirm({ routingKey: 'x', body: 'b', delay: -1 })).toThrow(RangeError);
    expect(() => conn.publishNoConfirm({ routingKey: 'x', body: 'b', delay: 1.5 })).toThrow(RangeError);
  });

  it('a persistent message to a durable delayed exchange is confirmed once stored', async () => {
    const exchange = await delayedExchange('direct', true);
    const result = await conn.publish({ exchange, routingKey: 'k', body: 'p', delay: 60_000, properties: { deliveryMode: 2 } });
    expect(result.scheduled).toBeDefined();
    expect(warren.server.durable.messages.stats.fsyncs).toBeGreaterThan(0);
    expect(warren.server.broker.vhost('/').exchanges.get(exchange)?.scheduled?.count).toBe(1);
  });

  it('returns a mandatory message that no queue takes at its due time, after its confirm', async () => {
    const exchange = await delayedExchange();
    const returns = record(conn, 'return');
    const result = await conn.publish({ exchange, routingKey: 'nowhere', body: 'bounce', mandatory: true, delay: 1000 });
    expect(result.scheduled).toBeDefined();
    await sync(conn);
    expect(returns).toEqual([]);
    const returned = once(conn, 'return');
    clock.advance(1000);
    const message: ReturnedMessage = await returned;
    expect(message.replyCode).toBe(312);
    expect(message.text()).toBe('bounce');
    expect(message.exchange).toBe(exchange);
    expect(message.routingKey).toBe('nowhere');
  });

  it('routes through bindings made after the publish (bindings as at the due time)', async () => {
    const exchange = await delayedExchange('topic');
    await conn.publish({ exchange, routingKey: 'a.b', body: 'late-bound', delay: 100 });
    const queue = await freshQueue(conn);
    await conn.queueBind({ queue, exchange, routingKey: 'a.#' });
    clock.advance(100);
    await sync(conn);
    expect(await readyCount(conn, queue)).toBe(1);
  });
});
