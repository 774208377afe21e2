/**
 * A persistent message's record is encoded when its batch is written, not when it is added: one that
 * every queue has settled by then is never written, one no consumer has goes at the end of the turn,
 * and one that consumers have already waits for the lazy write. Real files; a copy of the data dir
 * taken at a point stands for a crash there.
 */
import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { Message } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { SegmentMessageStore, type SegmentStoreOptions } from '../../src/store/message-store.js';
import { RecordingWatcher, segmentBytes, settledSoon } from './failing-files.js';
import { Queues, persistent, recoveredIn } from './message-store.contract.js';
import { handedOut, useStores } from './store-fixtures.js';

const fixtures = useStores('warren-unwritten-');

interface Opened {
  readonly dir: string;
  readonly store: SegmentMessageStore;
  readonly watcher: RecordingWatcher;
  /** writev calls on the segment files so far. */
  readonly writes: () => number;
}

async function openCounting(options: SegmentStoreOptions = {}): Promise<Opened> {
  const dir = await fixtures.tempDir();
  let writes = 0;
  const openFile: SegmentStoreOptions['openFile'] = async (path, flags) => {
    const handle = await open(path, flags);
    const writev = handle.writev.bind(handle);
    handle.writev = (buffers, position) => {
      writes++;
      return writev(buffers, position);
    };
    return handle;
  };
  const store = fixtures.track((await SegmentMessageStore.open(dir, { openFile, ...options })).store);
  const watcher = new RecordingWatcher();
  store.watch(watcher);
  return { dir, store, watcher, writes: () => writes };
}

/** A second store on a copy of the files as they are now: what a crash at this point would leave. */
async function crashCopy(dir: string): Promise<Awaited<ReturnType<typeof SegmentMessageStore.open>>['recovered']> {
  return (await fixtures.crashCopy(dir)).recovered;
}

/** Opened, with a first message written (so the segment file exists and a write is one writev). */
async function openWritten(options: SegmentStoreOptions = {}): Promise<Opened & { readonly q: Queue; readonly before: number }> {
  const opened = await openCounting(options);
  const q = new Queues().declare('q');
  opened.store.add(persistent(1, 'opens the file'), [q]);
  await opened.store.flush();
  return { ...opened, q, before: opened.writes() };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SegmentMessageStore: records written when their batch goes', () => {
  it('never writes a message every queue settled before its batch was written', async () => {
    const { dir, store, watcher } = await openCounting();
    const q = new Queues().declare('q');
    store.add(persistent(1, 'first'), [q]);
    await store.flush();
    const before = await segmentBytes(dir);

    const m2 = handedOut(2);
    store.add(m2, [q]);
    store.delivered(m2, q);
    store.remove(m2, q);
    await store.flush();
    // Neither its record nor a Delivered or Settle record about it.
    expect(await segmentBytes(dir)).toBe(before);
    // Counted as done: nothing is left to wait for.
    expect(watcher.through).toBe(2);
    expect(store.stats.messagesNeverWritten).toBe(1);
    expect(await recoveredIn(await crashCopy(dir), 'q')).toEqual([{ id: 1, body: 'first', redelivered: false }]);
  });

  it('writes a message no consumer has at the end of the turn it was added in', async () => {
    const { store, writes, q, before } = await openWritten();

    store.add(persistent(2, 'waiting in its queue'), [q]);
    expect(writes()).toBe(before);
    await turn();
    expect(writes()).toBe(before + 1);
  });

  it('lets a message consumers have wait for the lazy write, then writes it with its delivered flag', async () => {
    // A long lazy window, so that the turns below cannot outlast it on a slow machine.
    const { dir, store, writes, watcher, q, before } = await openWritten({ flushIntervalMs: 500 });

    const m2 = handedOut(2, 'with a consumer');
    store.add(m2, [q]);
    store.delivered(m2, q);
    const stored = store.stored();
    await turn();
    await turn();
    expect(writes()).toBe(before);
    expect(await settledSoon(stored)).toBe(false);

    // Its publisher is told once it is on disk (or once its queue settles it, which this one never does).
    await stored;
    expect(writes()).toBe(before + 1);
    expect(watcher.through).toBe(2);
    expect(await recoveredIn(await crashCopy(dir), 'q')).toEqual([
      { id: 1, body: 'opens the file', redelivered: false },
      { id: 2, body: 'with a consumer', redelivered: true },
    ]);
  });

  it('writes a message handed out and then returned at once, with its return count after it', async () => {
    const { dir, store } = await openCounting();
    const q = new Queues().declare('q');
    const m1 = handedOut(1, 'returned');
    store.add(m1, [q]);
    store.delivered(m1, q);
    store.returned(m1, q, 3);
    await store.flush();
    const recovered = await crashCopy(dir);
    expect(await recoveredIn(recovered, 'q')).toEqual([{ id: 1, body: 'returned', redelivered: true }]);
    expect(recovered.queues.get('/')?.get('q')?.[0]?.deliveryCount).toBe(3);
  });

  it('writes a message whose other queue was deleted before its write as settled there', async () => {
    const { dir, store } = await openCounting();
    const queues = new Queues();
    const kept = queues.declare('kept');
    const gone = queues.declare('gone');
    const m1 = handedOut(1, 'two queues');
    store.add(m1, [kept, gone]);
    store.delivered(m1, kept);
    store.delivered(m1, gone);
    store.queueDeleted(gone);
    await store.flush();
    const recovered = await crashCopy(dir);
    expect(await recoveredIn(recovered, 'kept')).toEqual([{ id: 1, body: 'two queues', redelivered: true }]);
    expect(await recoveredIn(recovered, 'gone')).toEqual([]);
  });

  it('does not take a slot freed through a stand-in and reused for the original message', async () => {
    const { dir, store } = await openCounting({ flushIntervalMs: 500 });
    const q = new Queues().declare('q');
    const original = handedOut(1, 'original');
    store.add(original, [q]);
    // As the scheduler settles a fired message: a content-less copy carrying the slot.
    const standIn = new Message(original.id, true, original.size, original.publishedAt, undefined);
    standIn.storeRef = original.storeRef;
    store.remove(standIn, q);
    const next = handedOut(2, 'in the freed slot');
    store.add(next, [q]);
    expect(next.storeRef).toBe(original.storeRef);
    store.delivered(next, q);
    await store.flush();
    expect(await recoveredIn(await crashCopy(dir), 'q')).toEqual([{ id: 2, body: 'in the freed slot', redelivered: true }]);
  });

  it('writes every message at once when told not to defer (a cluster leader)', async () => {
    const { store, writes, q, before } = await openWritten({ deferHandedOut: false });

    const m2 = handedOut(2, 'with a consumer');
    store.add(m2, [q]);
    store.delivered(m2, q);
    store.remove(m2, q);
    await turn();
    // Written even though settled: its record and the Delivered and Settle records went in one write.
    expect(writes()).toBe(before + 1);
  });
});
