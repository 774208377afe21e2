/**
 * A real server and store: a backlog of persistent messages longer than IN_MEMORY_WINDOW is paged out
 * of memory, and a consumer draining it gets every message, in order, through asynchronous read-ahead.
 * The store has no synchronous read at all; spies on its batched `load` show the reads are batched.
 */
import { readdirSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WarrenConnection } from '../../src/client/index.js';
import type { Message } from '../../src/broker/message.js';
import { IN_MEMORY_WINDOW } from '../../src/broker/persistence.js';
import type { Queue } from '../../src/broker/queue.js';
import { SegmentMessageStore, type StoreLog } from '../../src/store/message-store.js';
import { useDataDirs } from '../helpers/data-dirs.js';
import type { RunningWarren } from '../helpers/warren.js';
import { apiClient } from '../http/support.js';
import { Queues, persistent } from './message-store.contract.js';

const { tempDir, start, stop } = useDataDirs('warren-read-ahead-');

const TOTAL = IN_MEMORY_WINDOW + 3000;
const body = (i: number): string => `message ${i} `.padEnd(200, 'x');

const stores: SegmentMessageStore[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of stores.splice(0)) await store.close();
});

class RecordingLog implements StoreLog {
  readonly warnings: string[] = [];
  warn(_obj: object, msg?: string): void {
    this.warnings.push(msg ?? '');
  }
  info(): void {}
  error(_obj: object, msg?: string): void {
    this.warnings.push(msg ?? '');
  }
}

/** A store holding `count` persistent messages of about 1 KiB in one durable queue, all released from memory. */
async function releasedMessages(dir: string, count: number, options: { segmentSize?: number } = {}): Promise<{ store: SegmentMessageStore; messages: Message[]; log: RecordingLog }> {
  const log = new RecordingLog();
  const { store } = await SegmentMessageStore.open(dir, { ...options, log });
  stores.push(store);
  const q = new Queues().declare('q');
  const messages: Message[] = [];
  for (let id = 1; id <= count; id++) {
    const message = persistent(id, body(id).padEnd(1000, 'y'));
    store.add(message, [q]);
    message.evictable = true;
    messages.push(message);
  }
  await store.synced();
  expect(messages.some((m) => m.inMemory)).toBe(false);
  return { store, messages, log };
}

/** Counts reads through any FileHandle (the store reads contents only through its segments' handles). */
async function spyOnFileReads(): Promise<ReturnType<typeof vi.spyOn>> {
  const probe = await open(new URL(import.meta.url).pathname, 'r');
  const prototype = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => unknown };
  await probe.close();
  return vi.spyOn(prototype, 'read');
}

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes).replace(/y+$/, '');

describe('SegmentMessageStore.load', () => {
  it('reads a batch of records lying next to each other with one read, without blocking', async () => {
    const { store, messages } = await releasedMessages(tempDir(), 100);
    const reads = await spyOnFileReads();
    const contents = await store.load(messages);
    expect(contents.map((c) => text(c?.body))).toEqual(messages.map((m) => body(m.id)));
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('reads records spread over several segments, in the order asked for', async () => {
    const { store, messages } = await releasedMessages(tempDir(), 60, { segmentSize: 8192 });
    const picked = [messages[40], messages[3], messages[59], messages[4], messages[20]] as Message[];
    const contents = await store.load(picked);
    expect(contents.map((c) => text(c?.body))).toEqual(picked.map((m) => body(m.id)));
  });

  it('gives undefined, with a warning, for a damaged record, and still reads the others', async () => {
    const dir = tempDir();
    const { store, messages, log } = await releasedMessages(dir, 3);
    const segmentDir = join(dir, 'messages');
    const [file] = readdirSync(segmentDir).sort();
    const path = join(segmentDir, file as string);
    const bytes = await readFile(path);
    // Somewhere in the second record's body.
    const at = bytes.indexOf(Buffer.from(body(2)));
    bytes.writeUInt8(bytes.readUInt8(at + 3) ^ 1, at + 3);
    await writeFile(path, bytes);
    const contents = await store.load(messages);
    expect(contents.map((c) => (c ? text(c.body) : undefined))).toEqual([body(1), undefined, body(3)]);
    expect(log.warnings).toEqual([expect.stringContaining('cannot read')]);
  });

  it('gives undefined, quietly, once the store is closed', async () => {
    const { store, messages, log } = await releasedMessages(tempDir(), 2);
    await store.close();
    expect(await store.load(messages)).toEqual([undefined, undefined]);
    expect(log.warnings).toEqual([]);
  });
});

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

function spyOnStore(warren: RunningWarren): { load: ReturnType<typeof vi.spyOn> } {
  const store = warren.server.durable.messages;
  return { load: vi.spyOn(store, 'load') };
}

const expected = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => body(from + i));

describe('draining a paged-out backlog', () => {
  it('delivers every message in order, reading contents back in batches and never on the spot', async () => {
    const dir = tempDir();
    const warren = await start(dir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, TOTAL);
    await warren.server.durable.synced();
    const queue = queueOf(warren, 'q');
    expect(queue.messageCount).toBe(TOTAL);
    expect(pagedOut(queue)).toBeGreaterThan(TOTAL - IN_MEMORY_WINDOW - 100);

    const { load } = spyOnStore(warren);
    expect(await drain(conn, 'q', TOTAL)).toEqual(expected(0, TOTAL));
    // Batched: far fewer reads than messages read back.
    expect(load.mock.calls.length).toBeGreaterThan(0);
    expect(load.mock.calls.length).toBeLessThan((TOTAL - IN_MEMORY_WINDOW) / 50);
  });

  it('after a restart, delivers the whole recovered backlog in order without reading on the spot', async () => {
    const dir = tempDir();
    let warren = await start(dir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, TOTAL);
    await stop(warren);

    warren = await start(dir);
    const queue = queueOf(warren, 'q');
    expect(pagedOut(queue)).toBe(TOTAL);
    const { load } = spyOnStore(warren);
    conn = await warren.connect();
    expect(await drain(conn, 'q', TOTAL)).toEqual(expected(0, TOTAL));
    expect(load).toHaveBeenCalled();
    expect(queue.messageCount).toBe(0);
  });

  it('basic.get over the WebSocket waits for the read instead of reading on the spot, replies in order', async () => {
    const dir = tempDir();
    let warren = await start(dir);
    let conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, 300);
    await stop(warren);

    warren = await start(dir);
    const queue = queueOf(warren, 'q');
    expect(pagedOut(queue)).toBe(300);
    const { load } = spyOnStore(warren);
    conn = await warren.connect();
    // Pipelined gets and a publish between them: the replies keep request order.
    const gets = Array.from({ length: 10 }, () => conn.get({ queue: 'q', noAck: true }));
    const published = conn.publish({ routingKey: 'q', body: 'late', properties: { persistent: true } });
    const more = Array.from({ length: 5 }, () => conn.get({ queue: 'q', noAck: true }));
    const texts = (await Promise.all([...gets, ...more])).map((m) => m?.text());
    expect(texts).toEqual(expected(0, 15));
    expect(await published).toEqual({ routed: true });
    expect(load).toHaveBeenCalled();
  });

  it('REST peek and get read paged-out contents back asynchronously', async () => {
    const dir = tempDir();
    let warren = await start(dir);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: 'q', durable: true });
    await fill(conn, 'q', 0, 20);
    await stop(warren);

    warren = await start(dir);
    const queue = queueOf(warren, 'q');
    const api = apiClient(warren.server.app);
    const peeked = await api('POST', '/api/queues/%2F/q/peek', { body: { offset: 5, count: 3 } });
    expect((peeked.body as Array<{ payload: string }>).map((m) => m.payload)).toEqual(expected(5, 8));
    // Peeking leaves the messages as they were: paged out.
    expect(pagedOut(queue)).toBe(20);
    const got = await api('POST', '/api/queues/%2F/q/get', { body: { count: 12, ackmode: 'ack_requeue_true', encoding: 'auto' } });
    expect((got.body as Array<{ payload: string }>).map((m) => m.payload)).toEqual(expected(0, 12));
    expect(queue.messageCount).toBe(20);
    // Requeued messages do not keep what was read back for the get.
    expect(queue.peek(0, 12).every((e) => !e.message.inMemory)).toBe(true);
  });
});
