/**
 * Consumer timeouts over the real WebSocket: a server with a short global timeout cancels a consumer that
 * sits on its deliveries, says why, keeps the connection open and redelivers the messages to another
 * consumer. Waits are event-driven; nothing here asserts how long anything took.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { WarrenError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { closeRawSockets, collect, freshQueue, once, publishAll, RawSocket, sync } from './support.js';

const TIMEOUT_MS = 200;

let warren: RunningWarren;
let conn: WarrenConnection;

beforeAll(async () => {
  warren = await startWarren({ consumerTimeout: TIMEOUT_MS });
  conn = await warren.connect();
});

afterEach(() => {
  closeRawSockets();
});

afterAll(async () => {
  await warren?.stop();
});

/** A consume argument that keeps the receiving consumers of these tests out of the timeout. */
const NEVER = { 'x-consumer-timeout': 0 };

describe('a consumer that does not ack in time', () => {
  it('gets a cancelled push with the reason; the connection stays usable; the messages go to another consumer', async () => {
    const queue = await freshQueue(conn);
    // Both ready before the consume, so both are delivered together whatever the machine's load.
    await publishAll(conn, queue, ['a', 'b']);
    const raw = await RawSocket.connected(warren.wsUrl);
    expect(await raw.request({ op: 'consume', queue, consumerTag: 'slow' })).toMatchObject({ op: 'ok', consumerTag: 'slow' });

    const cancelled = await raw.waitFor((f) => f.op === 'cancelled', 'the cancelled push');
    expect(cancelled).toEqual({
      op: 'cancelled',
      consumerTag: 'slow',
      reason: 'consumer_timeout',
      message: `delivery 1 not acknowledged within ${TIMEOUT_MS} ms`,
    });
    // Both were delivered before the push, and are now back in the queue.
    expect(raw.frames.filter((f) => f.op === 'deliver').map((f) => f.body)).toEqual(['a', 'b']);

    // Same socket: a settled tag is unknown, and new work goes on.
    expect(await raw.request({ op: 'ack', deliveryTag: 1 })).toMatchObject({ op: 'error', code: 406, reason: 'PRECONDITION_FAILED' });
    expect(await raw.request({ op: 'queue.declare', queue, passive: true })).toMatchObject({ op: 'ok', messageCount: 2 });
    expect(raw.isOpen).toBe(true);

    const other = await collect(conn, { queue, arguments: NEVER });
    const redelivered = await other.waitFor(2);
    expect(redelivered.map((m) => [m.text(), m.redelivered])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    for (const message of redelivered) message.ack();
    await other.consumer.cancel();
  });

  it('the client ends the consumer and tells the reason on it; other consumers on the connection carry on', async () => {
    const slowQueue = await freshQueue(conn);
    const fastQueue = await freshQueue(conn);
    const client = await warren.connect();
    const slow = await client.consume({ queue: slowQueue, consumerTag: 'slow-client' });
    const fast = await collect(client, { queue: fastQueue, arguments: NEVER });
    const cancelled = once(client, 'cancelled');
    await publishAll(conn, slowQueue, ['held']);

    expect(await cancelled).toBe('slow-client');
    expect(slow.active).toBe(false);
    expect(slow.cancelReason).toEqual({ reason: 'consumer_timeout', message: `delivery 1 not acknowledged within ${TIMEOUT_MS} ms` });

    await publishAll(conn, fastQueue, ['still flowing']);
    expect((await fast.waitFor(1)).map((m) => m.text())).toEqual(['still flowing']);
    await sync(client);
  });

  it('a queue argument overrides the global timeout (0: never times out)', async () => {
    const queue = await freshQueue(conn, { arguments: { 'x-consumer-timeout': 0 } });
    const client = await warren.connect();
    const patient = await collect(client, { queue });
    await publishAll(conn, queue, ['kept']);
    await patient.waitFor(1);
    // Another consumer, on the global timeout, is cancelled meanwhile: proof that the patient one was given time.
    const otherQueue = await freshQueue(conn);
    const cancelled = once(client, 'cancelled');
    await client.consume({ queue: otherQueue, consumerTag: 'impatient' });
    await publishAll(conn, otherQueue, ['x']);
    expect(await cancelled).toBe('impatient');
    expect(patient.consumer.active).toBe(true);
    patient.messages[0]?.ack();
    await sync(client);
  });

  it('refuses an invalid x-consumer-timeout on consume with 406', async () => {
    const queue = await freshQueue(conn);
    const error = await conn.consume({ queue, arguments: { 'x-consumer-timeout': -1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarrenError);
    expect(error).toMatchObject({ code: 406, reason: 'PRECONDITION_FAILED' });
    expect((error as WarrenError).message).toMatch(/x-consumer-timeout/);
  });
});
