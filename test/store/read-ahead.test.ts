/**
 * A real server and store: a backlog of persistent messages longer than IN_MEMORY_WINDOW is paged out
 * of memory, and a consumer draining it gets every message, in order, through asynchronous read-ahead.
 * Spies on the store prove that nothing is read on the spot (`loadNow`, the synchronous read) on the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import { IN_MEMORY_WINDOW } from '../../src/broker/persistence.js';
import type { Queue } from '../../src/broker/queue.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient } from '../http/support.js';

const TOTAL = IN_MEMORY_WINDOW + 3000;
const body = (i: number): string => `message ${i} `.padEnd(200, 'x');

const dirs: string[] = [];
const running: RunningWarren[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const warren of running.splice(0)) await warren.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<RunningWarren> {
  const warren = await startWarren({ dataDir });
  running.push(warren);
  return warren;
}

async function stop(warren: RunningWarren): Promise<void> {
  running.splice(running.indexOf(warren), 1);
  await warren.stop();
}

function queueOf(warren: RunningWarren, name: string): Queue {
  const queue = warren.server.broker.vhost('/').queues.get(name);
  if (!queue) throw new Error(`no queue ${name}`);
  return queue;
}

/** How many of the queue's ready messages have their content on disk only. */
function pagedOut(queue: Queue): number {
  return queue.peek(0, queue.messageCount).filter((entry) => !entry.message.inMemory).length;
}

async function fill(conn: WarrenConnection, queue: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    const end = Math.min(to, i + 500);
    await Promise.all(
      Array.from({ length: end - i }, (_, k) => conn.publish({ routingKey: queue, body: body(i + k), properties: { persistent: true } })),
    );
  }
}

/** Consumes `count` messages with manual acks (prefetch 100), in arrival order. */
async function drain(conn: WarrenConnection, queue: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} messages arrived`)), 20_000);
    void conn.consume({ queue, prefetch: 100 }, (message) => {
      seen.push(message.text());
      message.ack();
      if (seen.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return seen;
}

function spyOnStore(warren: RunningWarren): { load: ReturnType<typeof vi.spyOn>; loadNow: ReturnType<typeof vi.spyOn> } {
  const store = warren.server.durable.messages;
  return { load: vi.spyOn(store, 'load'), loadNow: vi.spyOn(store, 'loadNow') };
}

const expected = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => body(from + i));

describe('draining a paged-out backlog', () => {
  it('delivers every message in order, reading contents back in batches and never on the spot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-read-ahead-'));
    dirs.push(dir);
    const warren = await start(dir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, TOTAL);
    await warren.server.durable.synced();
    const queue = queueOf(warren, 'q');
    expect(queue.messageCount).toBe(TOTAL);
    expect(pagedOut(queue)).toBeGreaterThan(TOTAL - IN_MEMORY_WINDOW - 100);

    const { load, loadNow } = spyOnStore(warren);
    expect(await drain(conn, 'q', TOTAL)).toEqual(expected(0, TOTAL));
    expect(loadNow).not.toHaveBeenCalled();
    // Batched: far fewer reads than messages read back.
    expect(load.mock.calls.length).toBeGreaterThan(0);
    expect(load.mock.calls.length).toBeLessThan((TOTAL - IN_MEMORY_WINDOW) / 50);
  });

  it('after a restart, delivers the whole recovered backlog in order without reading on the spot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-read-ahead-'));
    dirs.push(dir);
    let warren = await start(dir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, TOTAL);
    await stop(warren);

    warren = await start(dir);
    const queue = queueOf(warren, 'q');
    expect(pagedOut(queue)).toBe(TOTAL);
    const { loadNow } = spyOnStore(warren);
    conn = await warren.connect();
    expect(await drain(conn, 'q', TOTAL)).toEqual(expected(0, TOTAL));
    expect(loadNow).not.toHaveBeenCalled();
    expect(queue.messageCount).toBe(0);
  });

  it('REST peek and get read paged-out contents back asynchronously', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-read-ahead-'));
    dirs.push(dir);
    let warren = await start(dir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, 20);
    await stop(warren);

    warren = await start(dir);
    const queue = queueOf(warren, 'q');
    const { loadNow } = spyOnStore(warren);
    const api = apiClient(warren.server.app);
    const peeked = await api('POST', '/api/queues/%2F/q/peek', { body: { offset: 5, count: 3 } });
    expect((peeked.body as Array<{ payload: string }>).map((m) => m.payload)).toEqual(expected(5, 8));
    // Peeking leaves the messages as they were: paged out.
    expect(pagedOut(queue)).toBe(20);
    const got = await api('POST', '/api/queues/%2F/q/get', { body: { count: 12, ackmode: 'ack_requeue_true', encoding: 'auto' } });
    expect((got.body as Array<{ payload: string }>).map((m) => m.payload)).toEqual(expected(0, 12));
    expect(loadNow).not.toHaveBeenCalled();
    expect(queue.messageCount).toBe(20);
    // Requeued messages do not keep what was read back for the get.
    expect(queue.peek(0, 12).every((e) => !e.message.inMemory)).toBe(true);
  });
});
