/**
 * The message store after a failed write, with file handles that fail on cue: the messages of the
 * unwritten batches are refused and never reach the disk, the segment is cut back, settlements are
 * written on the next try, and the store goes on writing once the disk works again.
 */
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import type { StoreWatcher } from '../../src/broker/persistence.js';
import { SegmentMessageStore, type SegmentStoreOptions } from '../../src/store/message-store.js';
import { Queues, persistent, recoveredIn } from './message-store.contract.js';

const dirs: string[] = [];
const stores: SegmentMessageStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

type Failing = 'nothing' | 'write' | 'datasync';

/** Real files whose writes or fdatasyncs fail with ENOSPC while `control.failing` says so. */
function failingFiles(control: { failing: Failing }): NonNullable<SegmentStoreOptions['openFile']> {
  return async (path, flags) => {
    const handle = await open(path, flags);
    return new Proxy(handle, {
      get(target, property) {
        if ((property === 'writev' || property === 'write') && control.failing === 'write') return () => Promise.reject(enospc());
        if (property === 'datasync' && control.failing === 'datasync') return () => Promise.reject(enospc());
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
}

class RecordingWatcher implements StoreWatcher {
  readonly refusedIds: number[] = [];
  through = 0;
  storedThrough(id: number): void {
    this.through = id;
  }
  refused(messages: ReadonlySet<Message>): void {
    for (const message of messages) this.refusedIds.push(message.id);
  }
}

async function openStore(dir: string, control: { failing: Failing }): Promise<SegmentMessageStore> {
  const { store } = await SegmentMessageStore.open(dir, { openFile: failingFiles(control), retryMs: 60_000 });
  stores.push(store);
  return store;
}

async function segmentBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(join(dir, 'messages'))) bytes += (await stat(join(dir, 'messages', name))).size;
  return bytes;
}

/** Whether `promise` has settled by the time the event loop has gone round a few times. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('SegmentMessageStore after a failed write', () => {
  for (const failing of ['write', 'datasync'] as const) {
    it(`refuses the messages when the ${failing} fails, cuts the segment back, retries the settlements, then writes again`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'warren-failed-write-'));
      dirs.push(dir);
      const control: { failing: Failing } = { failing: 'nothing' };
      const store = await openStore(dir, control);
      const watcher = new RecordingWatcher();
      store.watch(watcher);
      const q = new Queues().declare('q');
      const [m1, m2, m3, m4, m5] = [1, 2, 3, 4, 5].map((id) => persistent(id, `m${id}`)) as [Message, Message, Message, Message, Message];
      store.add(m1, [q]);
      store.add(m2, [q]);
      await store.stored();
      expect(watcher.through).toBe(2);
      const good = await segmentBytes(dir);

      control.failing = failing;
      store.remove(m1, q);
      store.add(m3, [q]);
      store.add(m4, [q]);
      const stored = store.stored();
      const synced = store.synced();
      await expect(stored).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(watcher.refusedIds).toEqual([3, 4]);
      // They are accounted for: whatever waits for them may go on.
      expect(watcher.through).toBe(4);
      expect(await segmentBytes(dir)).toBe(good);
      // The settlement of m1 still has to reach the disk: its waiters wait for the next try.
      expect(await settledSoon(synced)).toBe(false);

      control.failing = 'nothing';
      store.retryNow();
      await synced;
      store.add(m5, [q]);
      await store.stored();
      expect(watcher.through).toBe(5);
      await store.close();

      const { store: reopened, recovered } = await SegmentMessageStore.open(dir);
      stores.push(reopened);
      expect((await recoveredIn(recovered, 'q')).map((m) => m.body)).toEqual(['m2', 'm5']);
    });
  }

  it('starts without writing anything: the next segment file is created by the first write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warren-failed-write-'));
    dirs.push(dir);
    const { store } = await SegmentMessageStore.open(dir);
    store.add(persistent(1, 'm1'), [new Queues().declare('q')]);
    await store.close();
    const files = await readdir(join(dir, 'messages'));

    const { store: reopened } = await SegmentMessageStore.open(dir);
    stores.push(reopened);
    await reopened.flush();
    expect(await readdir(join(dir, 'messages'))).toEqual(files);
  });
});
