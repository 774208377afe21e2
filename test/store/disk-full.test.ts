/**
 * A full disk, on a real 8 MiB tmpfs: persistent publishes are refused before a write can fail; a
 * publish answered with an error is never delivered nor recovered; the broker recovers by itself once
 * space is freed; and it starts on a full disk, so its queues can be drained. Mounting needs root: where
 * it fails the tests are skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ReceivedMessage, WarrenConnection, WarrenError } from '../../src/client/index.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

const TMPFS_BYTES = 8 * 1024 * 1024;
const LIMIT = 1024 * 1024;
/** Bigger than a page, so every message needs fresh blocks: none fits in the slack of a file's last page. */
const PADDING = 'x'.repeat(8 * 1024);
const QUEUE = 'full.q';
const TAKEN = 'taken.q';

const mounts: string[] = [];
const running: RunningWarren[] = [];

function mountTmpfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  mounts.push(dir);
  return dir;
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // Still busy (a test failed with a file open): detach it now, the kernel frees it when unused.
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Why no tmpfs can be mounted here (not root, no `mount`), or undefined when one can. */
function mountProblem(): string | undefined {
  try {
    unmount(mountTmpfs());
    mounts.pop();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

/** Writes zeros to `path` until `bytes` are written or the file system is full, down to the last byte. */
function fill(path: string, bytes = Number.POSITIVE_INFINITY): void {
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    let size = 64 * 1024;
    while (written < bytes && size >= 1) {
      try {
        written += writeSync(fd, Buffer.alloc(Math.min(size, bytes - written)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        size >>= 1;
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

async function start(dataDir: string, diskFreeLimit: number): Promise<RunningWarren> {
  const warren = await startWarren({ dataDir, diskFreeLimit, segmentSize: 1024 * 1024 });
  running.push(warren);
  return warren;
}

async function stop(warren: RunningWarren): Promise<void> {
  running.splice(running.indexOf(warren), 1);
  await warren.stop();
}

const keyOf = (message: ReceivedMessage): string => message.text().slice(0, message.text().indexOf(':'));

/** What the publishers were told, message by message (a key names a message; bodies are padded). */
class Outcomes {
  readonly confirmed: string[] = [];
  readonly refused = new Map<string, number>();

  /** Publishes rounds of 16 persistent messages until a whole round is refused. */
  async publishUntilRefused(conn: WarrenConnection, prefix: string): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      const keys = Array.from({ length: 16 }, (_, i) => `${prefix}-${round}-${i}`);
      const results = await Promise.allSettled(keys.map((key) => this.publishOne(conn, key)));
      if (results.every((result) => result.status === 'rejected')) return;
    }
    throw new Error('the disk never filled');
  }

  async publishOne(conn: WarrenConnection, key: string, queue = QUEUE): Promise<void> {
    try {
      await conn.publish({ routingKey: queue, body: `${key}:${PADDING}`, properties: { persistent: true } });
      this.confirmed.push(key);
    } catch (error) {
      this.refused.set(key, (error as WarrenError).code);
      throw error;
    }
  }

  get refusedCodes(): Set<number> {
    return new Set(this.refused.values());
  }
}

/** Retries `attempt` until it succeeds: for what the broker does once it notices freed space. */
async function eventually<T>(attempt: (tries: number) => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(tries);
    } catch (error) {
      if (tries >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function until(condition: () => boolean, what: () => string): Promise<void> {
  for (let tries = 0; !condition(); tries++) {
    if (tries >= 400) throw new Error(`never happened: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A consumer that never acks: every message stays stored, and every delivery is remembered. With a
 * `prefetch`, what comes after its window waits in the queue, handed to nobody.
 */
async function watchDeliveries(warren: RunningWarren, queue = QUEUE, prefetch?: number): Promise<{ conn: WarrenConnection; delivered: Set<string> }> {
  const conn = await warren.connect();
  const delivered = new Set<string>();
  await conn.consume({ queue, prefetch }, (message) => delivered.add(keyOf(message)));
  return { conn, delivered };
}

/** Consumes with acks until `count` messages came; acks free segments, so this works on a full disk. */
async function drain(warren: RunningWarren, count: number, queue = QUEUE): Promise<string[]> {
  const conn = await warren.connect();
  const keys: string[] = [];
  await conn.consume({ queue, prefetch: 50 }, (message) => {
    keys.push(keyOf(message));
    message.ack();
  });
  await until(() => keys.length >= count, () => `${count} messages drained (got ${keys.length})`);
  // Anything beyond the expected count would arrive before this reply.
  await conn.queueDeclare({ queue, passive: true });
  return keys;
}

const problem = mountProblem();

afterEach(async () => {
  for (const warren of running.splice(0)) await warren.stop().catch(() => undefined);
});

afterAll(() => {
  for (const dir of mounts.splice(0)) unmount(dir);
});

describe('a full disk', () => {
  if (problem !== undefined) {
    it.skip(`needs a small tmpfs (mount -t tmpfs, as root): ${problem}`, () => undefined);
    return;
  }

  it('refuses before a write fails, delivers exactly the confirmed, recovers when space is freed, and restarts on a full disk', async () => {
    const dir = mountTmpfs();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const filler = join(dir, 'filler');
    fill(filler, 2 * 1024 * 1024);
    let warren = await start(dataDir, LIMIT);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: QUEUE, durable: true });
    const watcher = await watchDeliveries(warren);
    const outcomes = new Outcomes();

    await outcomes.publishUntilRefused(conn, 'first');
    // Refused up front (506), never by a write that failed half-way (541).
    expect(outcomes.refusedCodes).toEqual(new Set([506]));
    await until(() => outcomes.confirmed.every((key) => watcher.delivered.has(key)), () => 'every confirmed message delivered');
    await watcher.conn.queueDeclare({ queue: QUEUE, passive: true });
    expect([...outcomes.refused.keys()].filter((key) => watcher.delivered.has(key))).toEqual([]);
    // A declare that must be written is refused the same way; one that needs no disk is not.
    await expect(conn.queueDeclare({ queue: 'durable.later', durable: true })).rejects.toMatchObject({ code: 506 });
    await expect(conn.queueDeclare({ queue: 'transient.now', durable: false })).resolves.toMatchObject({ queue: 'transient.now' });

    unlinkSync(filler);
    await eventually((n) => outcomes.publishOne(conn, `after-free-${n}`));
    await expect(conn.queueDeclare({ queue: 'durable.later', durable: true })).resolves.toMatchObject({ queue: 'durable.later' });

    await outcomes.publishUntilRefused(conn, 'second');
    expect(outcomes.refusedCodes).toEqual(new Set([506]));
    await stop(warren);
    fill(join(dir, 'filler-2'));
    expect(freeBytes(dir)).toBe(0);

    warren = await start(dataDir, LIMIT);
    expect(warren.server.broker.diskAlarm).toBe(true);
    const drained = await drain(warren, outcomes.confirmed.length);
    expect(drained).toEqual(outcomes.confirmed);
    expect(watcher.delivered.size).toBeGreaterThan(0);
    const again = await warren.connect();
    await expect(again.queueDeclare({ queue: 'durable.later', passive: true })).resolves.toMatchObject({ queue: 'durable.later' });
    // Draining freed the segments: the broker takes persistent messages again by itself.
    await eventually((n) => outcomes.publishOne(again, `after-drain-${n}`));
  }, 60_000);

  it('a write that fails (another process filled the disk) refuses the publishes nobody received: never delivered, never recovered; what a consumer had is kept, confirmed once space is back, and recovered', async () => {
    const dir = mountTmpfs();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    // No limit: only a failed write can stop the publishes.
    let warren = await start(dataDir, 0);
    const conn = await warren.connect();
    await conn.queueDeclare({ queue: QUEUE, durable: true });
    await conn.queueDeclare({ queue: TAKEN, durable: true });
    // Its window fills with the first messages: the rest wait in the queue, handed to nobody.
    const holder = await watchDeliveries(warren, QUEUE, 8);
    // Takes every message at once, so each one it gets is out before its write is done.
    const taker = await watchDeliveries(warren, TAKEN);
    const outcomes = new Outcomes();
    for (let i = 0; i < 20; i++) await outcomes.publishOne(conn, `before-${i}`);

    const filler = join(dir, 'filler');
    fill(filler);
    // Rounds to both queues until one to the waiting queue is refused; those to the taker's stay pending.
    const taken: Array<{ key: string; outcome: Promise<'confirmed' | 'refused'> }> = [];
    for (let round = 0; !outcomes.refusedCodes.has(541); round++) {
      if (round >= 1000) throw new Error('the disk never filled');
      const waiting = Array.from({ length: 8 }, (_, i) => outcomes.publishOne(conn, `full-${round}-${i}`));
      for (let i = 0; i < 2; i++) {
        const key = `taken-${round}-${i}`;
        const outcome = outcomes.publishOne(conn, key, TAKEN).then(
          () => 'confirmed' as const,
          () => 'refused' as const,
        );
        taken.push({ key, outcome });
      }
      await Promise.allSettled(waiting);
    }
    // The consumer with room takes what is left in the waiting queue: none of it is what was refused.
    const rest = await watchDeliveries(warren);
    const delivered = (key: string): boolean => holder.delivered.has(key) || rest.delivered.has(key) || taker.delivered.has(key);
    await until(() => outcomes.confirmed.every(delivered), () => 'every confirmed message delivered');
    await rest.conn.queueDeclare({ queue: QUEUE, passive: true });
    expect([...outcomes.refused.keys()].filter(delivered)).toEqual([]);

    unlinkSync(filler);
    await eventually((n) => outcomes.publishOne(conn, `after-free-${n}`));
    // What the taker had when the write failed was kept, not refused: confirmed now that space is back.
    const settled = await Promise.all(taken.map(async ({ key, outcome }) => ({ key, outcome: await outcome })));
    const keptKeys = settled.filter(({ key }) => taker.delivered.has(key)).map(({ key }) => key);
    expect(keptKeys.length).toBeGreaterThan(0);
    expect(settled.filter(({ key, outcome }) => outcome === 'refused' && taker.delivered.has(key))).toEqual([]);
    await expect(conn.queueDeclare({ queue: 'durable.after', durable: true })).resolves.toMatchObject({ queue: 'durable.after' });
    for (let i = 0; i < 5; i++) await outcomes.publishOne(conn, `later-${i}`);
    await until(() => outcomes.confirmed.every(delivered), () => 'every confirmed message delivered');
    expect([...outcomes.refused.keys()].filter(delivered)).toEqual([]);

    await stop(warren);
    warren = await start(dataDir, 0);
    const expected = outcomes.confirmed.filter((key) => !key.startsWith('taken-'));
    expect(await drain(warren, expected.length)).toEqual(expected);
    const takenConfirmed = outcomes.confirmed.filter((key) => key.startsWith('taken-'));
    expect(new Set(await drain(warren, takenConfirmed.length, TAKEN))).toEqual(new Set(takenConfirmed));
  }, 60_000);
});
