/**
 * A cluster leader taking over a replica recovers every message flagged redelivered: its predecessor's
 * last deliveries may have gone out before their Delivered records were written. A single node's
 * restart keeps the flags as recorded.
 */
import { describe, expect, it } from 'vitest';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir, start, stop } = useDataDirs('warren-recover-redelivered-');


describe('recovering a replica', () => {
  it('flags every recovered message redelivered with recoverAsRedelivered, and only delivered ones without it', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'rr', durable: true });
    await conn.queueDeclare({ queue: 'untouched', durable: true });
    for (const body of ['delivered', 'never delivered']) await conn.publish({ routingKey: 'rr', body, properties: { persistent: true } });
    await conn.publish({ routingKey: 'untouched', body: 'never delivered either', properties: { persistent: true } });
    const got = await conn.get({ queue: 'rr' });
    got?.nack({ requeue: true });
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    const plain = [await conn.get({ queue: 'rr' }), await conn.get({ queue: 'rr' })];
    expect(plain.map((m) => [m?.text(), m?.redelivered])).toEqual([
      ['delivered', true],
      ['never delivered', false],
    ]);
    for (const m of plain) m?.nack({ requeue: true });
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir, {}, { recoverAsRedelivered: true });
    conn = await warren.connect();
    const replica = await conn.get({ queue: 'untouched', noAck: true });
    expect([replica?.text(), replica?.redelivered]).toEqual(['never delivered either', true]);
    await stop(warren);
  });
});
