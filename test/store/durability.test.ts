import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ReceivedMessage, type WarrenConnection, type WarrenError } from '../../src/client/index.js';
import { useDataDirs } from '../helpers/data-dirs.js';

const { tempDir, start, stop } = useDataDirs('warren-durable-');

const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function drain(conn: WarrenConnection, queue: string): Promise<Array<{ text: string; redelivered: boolean }>> {
  const out: Array<{ text: string; redelivered: boolean }> = [];
  for (;;) {
    const message = await conn.get({ queue, noAck: true });
    if (!message) return out;
    out.push({ text: message.text(), redelivered: message.redelivered });
  }
}

describe('durable definitions', () => {
  it('keeps durable exchanges, queues and bindings across a restart and drops transient ones', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.exchangeDeclare({ exchange: 'd.x', type: 'topic', durable: true });
    await conn.exchangeDeclare({ exchange: 't.x', type: 'fanout', durable: false });
    await conn.queueDeclare({ queue: 'd.q', durable: true, arguments: { 'x-max-length': 100 } });
    await conn.queueDeclare({ queue: 't.q', durable: false });
    await conn.queueDeclare({ queue: 'excl.q', durable: true, exclusive: true });
    await conn.queueBind({ queue: 'd.q', exchange: 'd.x', routingKey: 'a.#' });
    await conn.queueBind({ queue: 't.q', exchange: 'd.x', routingKey: 'b.#' });
    await conn.exchangeBind({ destination: 'd.x', source: 'amq.topic', routingKey: 'a.#' });
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    await expect(conn.exchangeDeclare({ exchange: 'd.x', type: 'topic', durable: true, passive: true })).resolves.toBeUndefined();
    await expect(conn.queueDeclare({ queue: 'd.q', passive: true })).resolves.toMatchObject({ queue: 'd.q' });
    // Arguments come back too: a redeclare with different ones is inequivalent.
    await expect(conn.queueDeclare({ queue: 'd.q', durable: true })).rejects.toMatchObject({ code: 406 });
    for (const passive of [
      conn.exchangeDeclare({ exchange: 't.x', type: 'fanout', passive: true }),
      conn.queueDeclare({ queue: 't.q', passive: true }),
      conn.queueDeclare({ queue: 'excl.q', passive: true }),
    ]) {
      await expect(passive).rejects.toMatchObject({ code: 404 } satisfies Partial<WarrenError>);
    }
    // Bindings between durable ends survive, including exchange-to-exchange ones.
    expect(await conn.publish({ exchange: 'd.x', routingKey: 'a.1', body: 'direct' })).toEqual({ routed: true });
    expect(await conn.publish({ exchange: 'amq.topic', routingKey: 'a.2', body: 'e2e' })).toEqual({ routed: true });
    // The binding to the transient queue went with it.
    expect(await conn.publish({ exchange: 'd.x', routingKey: 'b.1', body: 'nowhere' })).toEqual({ routed: false });
    expect((await drain(conn, 'd.q')).map((m) => m.text)).toEqual(['direct', 'e2e']);
  });

  it('keeps users and permissions', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    await warren.server.users.putUser('alice', { password: 's3cret', tags: ['management'] });
    warren.server.users.setPermission({ user: 'alice', vhost: '/', configure: '^alice\\.', write: '.*', read: '.*' });
    await warren.server.durable.synced();
    await stop(warren);

    warren = await start(dataDir);
    const conn = await warren.connect({ username: 'alice', password: 's3cret' });
    await expect(conn.queueDeclare({ queue: 'alice.q' })).resolves.toMatchObject({ queue: 'alice.q' });
    await expect(conn.queueDeclare({ queue: 'bob.q' })).rejects.toMatchObject({ code: 403 });
  });
});

describe('persistent messages', () => {
  it('survive a restart in durable queues, in order; transient ones and non-durable queues do not', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'durable', durable: true });
    await conn.queueDeclare({ queue: 'transient', durable: false });
    for (let i = 0; i < 20; i++) {
      await conn.publish({ routingKey: 'durable', body: `p${i}`, properties: { persistent: true } });
      await conn.publish({ routingKey: 'durable', body: `t${i}` });
    }
    await conn.publish({ routingKey: 'transient', body: 'gone', properties: { persistent: true } });
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    const messages = await drain(conn, 'durable');
    expect(messages.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    expect(messages.every((m) => !m.redelivered)).toBe(true);
  });

  it('a client that closes right after publishing still gets every confirm, each after its fsync', async () => {
    const warren = await start(tempDir());
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    const confirms = Array.from({ length: 200 }, (_, i) => conn.publish({ routingKey: 'q', body: `m${i}`, properties: { persistent: true } }));
    await conn.close();
    const results = await Promise.allSettled(confirms);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(warren.server.broker.vhost('/').queues.get('q')?.messageCount).toBe(200);
  });

  it('text and binary bodies come back byte for byte after a restart, read back from the store', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    const texts = ['plain', 'ünïcødé ✓', 'emoji 🐇🥕 and 𝄞', '', 'lone \ud800 surrogate'];
    const binary = new Uint8Array([0, 255, 0xc3, 0x28, 1, 2]);
    for (const text of texts) await conn.publish({ routingKey: 'q', body: text, properties: { persistent: true } });
    await conn.publish({ routingKey: 'q', body: binary, properties: { persistent: true } });
    // The same message delivered from memory before the restart…
    const before = await conn.get({ queue: 'q' });
    expect(before?.text()).toBe('plain');
    before?.reject(true);
    await conn.queueDeclare({ queue: 'sync' });
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    const after: Array<Uint8Array> = [];
    for (;;) {
      const message = await conn.get({ queue: 'q', noAck: true });
      if (!message) break;
      after.push(message.body);
    }
    const encoder = new TextEncoder();
    // A lone surrogate has no UTF-8 form: it is stored, and delivered, as U+FFFD, before and after a restart.
    const expected = [...texts.map((t) => encoder.encode(t.replace('\ud800', '\ufffd'))), binary];
    expect(after.map((b) => [...b])).toEqual(expected.map((b) => [...b]));
  });

  it('keeps acked, rejected, purged messages and deleted queues gone', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await conn.queueDeclare({ queue: 'purged', durable: true });
    await conn.queueDeclare({ queue: 'deleted', durable: true });
    for (const body of ['acked', 'rejected', 'kept']) await conn.publish({ routingKey: 'q', body, properties: { persistent: true } });
    await conn.publish({ routingKey: 'purged', body: 'x', properties: { persistent: true } });
    await conn.publish({ routingKey: 'deleted', body: 'x', properties: { persistent: true } });
    (await conn.get({ queue: 'q' }))?.ack();
    (await conn.get({ queue: 'q' }))?.reject(false);
    await conn.queuePurge({ queue: 'purged' });
    await conn.queueDelete({ queue: 'deleted' });
    await conn.queueDeclare({ queue: 'sync' }); // a round trip after the acks
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    expect((await drain(conn, 'q')).map((m) => m.text)).toEqual(['kept']);
    expect(await drain(conn, 'purged')).toEqual([]);
    await expect(conn.queueDeclare({ queue: 'deleted', passive: true })).rejects.toMatchObject({ code: 404 });
  });

  it('a message routed to several durable queues comes back in each', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    for (const queue of ['a', 'b', 'c']) {
      await conn.queueDeclare({ queue, durable: true });
      await conn.queueBind({ queue, exchange: 'amq.fanout' });
    }
    await conn.publish({ exchange: 'amq.fanout', routingKey: '', body: 'everywhere', properties: { persistent: true } });
    (await conn.get({ queue: 'b' }))?.ack();
    await conn.queueDeclare({ queue: 'sync' });
    await stop(warren);

    warren = await start(dataDir);
    conn = await warren.connect();
    expect((await drain(conn, 'a')).map((m) => m.text)).toEqual(['everywhere']);
    expect(await drain(conn, 'b')).toEqual([]);
    expect((await drain(conn, 'c')).map((m) => m.text)).toEqual(['everywhere']);
  });

  it('survive a torn tail: garbage after the last record is cut off and every complete record served', async () => {
    const dataDir = tempDir();
    let warren = await start(dataDir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    for (let i = 0; i < 10; i++) await conn.publish({ routingKey: 'q', body: `m${i}`, properties: { persistent: true } });
    await stop(warren);
    const segments = readdirSync(join(dataDir, 'messages'))
      .filter((name) => name.endsWith('.seg'))
      .sort();
    const last = join(dataDir, 'messages', segments[segments.length - 1] as string);
    appendFileSync(last, Buffer.from([0, 0, 1, 0, 0x57, 0x52, 1, 2, 3]));
    appendFileSync(last, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)));

    warren = await start(dataDir);
    conn = await warren.connect();
    expect((await drain(conn, 'q')).map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });
});

describe('disk use', () => {
  it('stays bounded under steady publish and ack: settled segments are deleted', async () => {
    const warren = await start(tempDir(), { segmentSize: 64 * 1024 });
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    const body = 'x'.repeat(1024);
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 100 }, () => conn.publish({ routingKey: 'q', body, properties: { persistent: true } })));
      peak = Math.max(peak, warren.server.durable.messages.segmentCount);
      for (;;) {
        const message = await conn.get({ queue: 'q' });
        if (!message) break;
        message.ack();
      }
    }
    // 2 MB went through 64 KiB segments; only the current few remain.
    await conn.publish({ routingKey: 'q', body: 'flush', properties: { persistent: true } });
    await warren.server.durable.synced();
    expect(peak).toBeGreaterThan(1);
    expect(warren.server.durable.messages.segmentCount).toBeLessThanOrEqual(3);
  });
});

describe('disk guard', () => {
  it('refuses persistent publishes and new durable queues with 506 while free space is below the limit; transient ones pass', async () => {
    const warren = await start(tempDir(), { diskFreeLimit: Number.MAX_SAFE_INTEGER });
    const conn = await warren.connect();
    await expect(conn.queueDeclare({ queue: 'q', durable: true })).rejects.toMatchObject({ code: 506, reason: 'RESOURCE_ERROR' });
    await conn.queueDeclare({ queue: 'q' });
    await expect(conn.publish({ routingKey: 'q', body: 'x', properties: { persistent: true } })).rejects.toMatchObject({
      code: 506,
      reason: 'RESOURCE_ERROR',
    });
    await expect(conn.publish({ routingKey: 'q', body: 'x' })).resolves.toEqual({ routed: true });
    expect((await drain(conn, 'q')).length).toBe(1);
  });
});

describe('kill -9', () => {
  const mainJs = new URL('../../dist/main.js', import.meta.url).pathname;

  function spawnBroker(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(process.execPath, [mainJs], {
      env: { ...process.env, WARREN_PORT: '0', WARREN_AMQP_PORT: '0', WARREN_PROMETHEUS_PORT: '0', WARREN_DATA_DIR: dataDir, WARREN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on http:\/\/([^"\s]+)/.exec(output);
        if (match?.[1]) resolve({ child, url: `ws://${match[1]}/ws` });
      });
      child.on('exit', (code) => reject(new Error(`broker exited with ${code}: ${output}`)));
    });
  }

  it('keeps a durable queue, exchange and binding whose declares were answered just before the kill', async () => {
    const dataDir = tempDir();
    const first = await spawnBroker(dataDir);
    const conn = await connect(first.url, { username: 'guest', password: 'guest' });
    await conn.exchangeDeclare({ exchange: 'killed.x', type: 'direct', durable: true });
    await conn.queueDeclare({ queue: 'killed.q', durable: true });
    await conn.queueBind({ queue: 'killed.q', exchange: 'killed.x', routingKey: 'k' });
    // The reply to a durable declare waits for its record's fsync: nothing else is waited for here.
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));

    const second = await spawnBroker(dataDir);
    const again = await connect(second.url, { username: 'guest', password: 'guest' });
    await expect(again.queueDeclare({ queue: 'killed.q', passive: true })).resolves.toMatchObject({ queue: 'killed.q' });
    expect(await again.publish({ exchange: 'killed.x', routingKey: 'k', body: 'routed' })).toEqual({ routed: true });
    await again.close();
    second.child.kill('SIGTERM');
  });

  it('gives back exactly the confirmed messages, in order, unacked ones redelivered, acked ones gone', async () => {
    const dataDir = tempDir();
    const first = await spawnBroker(dataDir);
    const conn = await connect(first.url, { username: 'guest', password: 'guest' });
    await conn.queueDeclare({ queue: 'jobs', durable: true });
    const total = 500;
    // Confirms in flight together, as a real publisher would send them.
    await Promise.all(
      Array.from({ length: total }, (_, i) => conn.publish({ routingKey: 'jobs', body: `job-${i}`, properties: { persistent: true } })),
    );
    // Take exactly 30 (the prefetch), stop consuming, then ack the first 10 and hold 20 unacked.
    const consumer = await conn.consume({ queue: 'jobs', prefetch: 30 });
    const taken: ReceivedMessage[] = [];
    for await (const message of consumer) {
      taken.push(message);
      if (taken.length === 30) break;
    }
    taken[9]?.ack(true);
    // A confirmed publish after the acks: its fsync covers the ack records written before it.
    await conn.publish({ routingKey: 'jobs', body: 'last', properties: { persistent: true } });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));

    const second = await spawnBroker(dataDir);
    const again = await connect(second.url, { username: 'guest', password: 'guest' });
    const recovered = await drain(again, 'jobs');
    const expected = [...Array.from({ length: total }, (_, i) => `job-${i}`).slice(10), 'last'];
    expect(recovered.map((m) => m.text)).toEqual(expected);
    const redelivered = recovered.filter((m) => m.redelivered).map((m) => m.text);
    expect(redelivered).toEqual(Array.from({ length: 20 }, (_, i) => `job-${i + 10}`));
    await again.close();
    second.child.kill('SIGTERM');
  });
});
