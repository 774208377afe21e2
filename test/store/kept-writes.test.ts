/**
 * A failed write of messages some queue already handed out: those are kept, never refused (their
 * publishers would publish them again), and written with the retry — unless every queue settled them
 * first, when nothing about them is written at all. Real files that fail on cue (failing-files.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import { WriteFailure } from '../../src/broker/persistence.js';
import { SegmentMessageStore, type SegmentStoreOptions } from '../../src/store/message-store.js';
import { RecordingWatcher, failingFiles, segmentBytes, settledSoon, type Failing } from './failing-files.js';
import { Queues, persistent, recoveredIn } from './message-store.contract.js';
import { handedOut, useStores } from './store-fixtures.js';

const fixtures = useStores('warren-kept-writes-');

interface Opened {
  readonly dir: string;
  readonly store: SegmentMessageStore;
  readonly control: { failing: Failing };
  readonly watcher: RecordingWatcher;
}

async function openFailing(options: SegmentStoreOptions = {}): Promise<Opened> {
  const dir = await fixtures.tempDir();
  const control: { failing: Failing } = { failing: 'nothing' };
  const store = fixtures.track((await SegmentMessageStore.open(dir, { openFile: failingFiles(control), retryMs: 60_000, ...options })).store);
  const watcher = new RecordingWatcher();
  store.watch(watcher);
  return { dir, store, control, watcher };
}

async function reopen(opened: Opened): Promise<Awaited<ReturnType<typeof SegmentMessageStore.open>>['recovered']> {
  await opened.store.close();
  const { store, recovered } = await SegmentMessageStore.open(opened.dir);
  fixtures.track(store);
  return recovered;
}

async function failureOf(promise: Promise<unknown>): Promise<WriteFailure> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejected: unknown) => rejected,
  );
  if (!(error instanceof WriteFailure)) throw new Error(`expected a WriteFailure, got ${String(error)}`);
  return error;
}

const ids = (messages: Iterable<Message>): number[] => [...messages].map((m) => m.id);

describe('SegmentMessageStore: a failed write of messages already handed out', () => {
  for (const failing of ['write', 'datasync'] as const) {
    it(`keeps them when the ${failing} fails, refuses the others, and writes the kept ones with the retry`, async () => {
      const opened = await openFailing();
      const { store, control, watcher } = opened;
      const queues = new Queues();
      const q = queues.declare('q');
      const other = queues.declare('other');
      store.add(persistent(1, 'm1'), [q]);
      await store.stored();

      control.failing = failing;
      const m2 = handedOut(2);
      const m3 = persistent(3, 'm3');
      store.add(m2, [q, other]);
      store.add(m3, [q]);
      store.delivered(m2, q);
      const stored = store.stored();
      const synced = store.synced();
      const failure = await failureOf(stored);
      expect(failure.cause).toMatchObject({ code: 'ENOSPC' });
      expect(ids(failure.refused)).toEqual([3]);
      expect(watcher.refusedIds).toEqual([3]);
      expect(await settledSoon(synced)).toBe(false);

      control.failing = 'nothing';
      store.retryNow();
      await synced;
      const recovered = await reopen(opened);
      expect(await recoveredIn(recovered, 'q')).toEqual([
        { id: 1, body: 'm1', redelivered: false },
        { id: 2, body: 'm2', redelivered: true },
      ]);
      expect(await recoveredIn(recovered, 'other')).toEqual([{ id: 2, body: 'm2', redelivered: false }]);
    });
  }

  it('does not give a kept message back to a queue deleted while the retry waits, nor to its namesake', async () => {
    const opened = await openFailing();
    const { store, control } = opened;
    const queues = new Queues();
    const q = queues.declare('q');
    const doomed = queues.declare('doomed');
    control.failing = 'write';
    store.add(handedOut(1), [q, doomed]);
    await failureOf(store.stored());

    store.queueDeleted(doomed);
    const again = queues.redeclare('doomed');
    store.add(persistent(2, 'm2'), [again]);
    control.failing = 'nothing';
    store.retryNow();
    await store.stored();
    const recovered = await reopen(opened);
    expect(await recoveredIn(recovered, 'q')).toEqual([{ id: 1, body: 'm1', redelivered: false }]);
    expect(await recoveredIn(recovered, 'doomed')).toEqual([{ id: 2, body: 'm2', redelivered: false }]);
  });

  it('writes nothing about one settled everywhere before the write failed, and does not refuse it', async () => {
    const opened = await openFailing();
    const { dir, store, control, watcher } = opened;
    const q = new Queues().declare('q');
    store.add(persistent(1, 'm1'), [q]);
    await store.stored();
    const good = await segmentBytes(dir);

    control.failing = 'datasync';
    const m2 = handedOut(2);
    store.add(m2, [q]);
    store.delivered(m2, q);
    const stored = store.stored();
    // Its record is encoded when the write starts (at the end of this turn, since synced() is waited
    // for); it is settled while that write is under way.
    void store.synced().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    store.remove(m2, q);
    const failure = await failureOf(stored);
    expect(failure.refused.size).toBe(0);
    expect(watcher.refusedIds).toEqual([]);
    expect(watcher.through).toBe(2);

    control.failing = 'nothing';
    store.retryNow();
    await store.flush();
    // Neither its record nor its Delivered and Settle records were written again.
    expect(await segmentBytes(dir)).toBe(good);
    const recovered = await reopen(opened);
    expect(await recoveredIn(recovered, 'q')).toEqual([{ id: 1, body: 'm1', redelivered: false }]);
  });

  it('keeps a kept message through a second failure of its retry', async () => {
    const opened = await openFailing();
    const { store, control, watcher } = opened;
    const q = new Queues().declare('q');
    control.failing = 'write';
    const m1 = handedOut(1);
    store.add(m1, [q]);
    await failureOf(store.stored());

    const m2 = persistent(2, 'm2');
    store.add(m2, [q]);
    const secondTry = store.stored();
    const synced = store.synced();
    store.retryNow();
    const second = await failureOf(secondTry);
    expect(ids(second.refused)).toEqual([2]);
    expect(watcher.refusedIds).toEqual([2]);
    expect(watcher.through).toBe(0);

    control.failing = 'nothing';
    store.retryNow();
    await synced;
    expect(watcher.through).toBe(2);
    const recovered = await reopen(opened);
    expect(await recoveredIn(recovered, 'q')).toEqual([{ id: 1, body: 'm1', redelivered: false }]);
  });

  it('tells storedThrough no further than below a kept message until its retry is on disk', async () => {
    const { store, control, watcher } = await openFailing();
    const q = new Queues().declare('q');
    store.add(persistent(1, 'm1'), [q]);
    await store.stored();
    expect(watcher.through).toBe(1);

    control.failing = 'datasync';
    store.add(persistent(2, 'm2'), [q]);
    store.add(handedOut(3), [q]);
    store.add(persistent(4, 'm4'), [q]);
    await failureOf(store.stored());
    expect(watcher.refusedIds).toEqual([2, 4]);
    expect(watcher.through).toBe(2);

    // Added while the retry waits: behind the kept one, in the same retry.
    store.add(persistent(5, 'm5'), [q]);
    expect(await settledSoon(store.synced())).toBe(false);
    expect(watcher.through).toBe(2);

    control.failing = 'nothing';
    store.retryNow();
    await store.stored();
    expect(watcher.through).toBe(5);
  });

  it('keeps the content of a kept message in memory until its retry is on disk, then reads it from where it went', async () => {
    const opened = await openFailing();
    const { store, control } = opened;
    const q = new Queues().declare('q');
    control.failing = 'datasync';
    const m1 = handedOut(1, 'kept body');
    m1.evictable = true;
    store.add(m1, [q]);
    await failureOf(store.stored());
    // The write reached the file before the fsync failed, and was cut off again: only memory has it.
    expect(m1.inMemory).toBe(true);

    control.failing = 'nothing';
    store.retryNow();
    await store.synced();
    expect(m1.inMemory).toBe(false);
    const [content] = await store.load([m1]);
    expect(new TextDecoder().decode(content?.body)).toBe('kept body');
  });

  it('counts a kept message where its record went: the segments it left are deleted once it is settled', async () => {
    // Records of about 1.5 KB in 4 KB segments: the failed batch spans several segments.
    const opened = await openFailing({ segmentSize: 4096 });
    const { store, control, watcher } = opened;
    const q = new Queues().declare('q');
    control.failing = 'write';
    const messages = [1, 2, 3, 4, 5, 6].map((id) => handedOut(id, `m${id}:`.padEnd(1500, 'x')));
    for (const message of messages) store.add(message, [q]);
    await failureOf(store.stored());
    expect(watcher.refusedIds).toEqual([]);

    control.failing = 'nothing';
    store.retryNow();
    await store.synced();
    expect(watcher.through).toBe(6);
    const recovered = await reopenKeeping(opened);
    expect((await recoveredIn(recovered.recovered, 'q')).map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6]);

    for (const message of messages) store.remove(message, q);
    await store.flush();
    // Only the active segment is left, if it was ever written.
    expect(store.segmentCount).toBeLessThanOrEqual(1);
  });
});

/** Recovers a copy of the store's files while the store goes on: what a crash now would leave. */
function reopenKeeping(opened: Opened): ReturnType<typeof fixtures.crashCopy> {
  return fixtures.crashCopy(opened.dir);
}
