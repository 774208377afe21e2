/**
 * The message store after a failed write, with file handles that fail on cue: the messages of the
 * unwritten batches that no consumer has are refused and never reach the disk, the segment is cut back,
 * settlements are written on the next try, and the store goes on writing once the disk works again.
 * Messages already handed out are kept: kept-writes.test.ts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import { WriteFailure } from '../../src/broker/persistence.js';
import { SegmentMessageStore } from '../../src/store/message-store.js';
import { RecordingWatcher, failingFiles, segmentBytes, settledSoon, type Failing } from './failing-files.js';
import { Queues, persistent, recoveredIn } from './message-store.contract.js';

const dirs: string[] = [];
const stores: SegmentMessageStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function openStore(dir: string, control: { failing: Failing }): Promise<SegmentMessageStore> {
  const { store } = await SegmentMessageStore.open(dir, { openFile: failingFiles(control), retryMs: 60_000 });
  stores.push(store);
  return store;
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
      const failure: unknown = await stored.catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WriteFailure);
      expect((failure as WriteFailure).cause).toMatchObject({ code: 'ENOSPC' });
      expect([...(failure as WriteFailure).refused].map((m) => m.id)).toEqual([3, 4]);
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
