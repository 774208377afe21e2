import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Message } from '../../src/broker/message.js';
import { SegmentMessageStore } from '../../src/store/message-store.js';
import { persistent } from './message-store.contract.js';

/** Temp dirs and open stores of one test file, closed and removed after each test. */
type Opened = Awaited<ReturnType<typeof SegmentMessageStore.open>>;

export interface StoreFixtures {
  tempDir(): Promise<string>;
  track(store: SegmentMessageStore): SegmentMessageStore;
  /** Opens a copy of `dir`'s files as they are now, while its store goes on: what a crash now would leave. */
  crashCopy(dir: string): Promise<Opened>;
}

export function useStores(prefix: string): StoreFixtures {
  const dirs: string[] = [];
  const stores: SegmentMessageStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return {
    async tempDir() {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    track(store) {
      stores.push(store);
      return store;
    },
    async crashCopy(dir) {
      const copy = await mkdtemp(join(tmpdir(), `${prefix}copy-`));
      dirs.push(copy);
      await cp(dir, copy, { recursive: true });
      const opened = await SegmentMessageStore.open(copy);
      stores.push(opened.store);
      return opened;
    },
  };
}

/** A persistent message some queue has already given to a consumer. */
export function handedOut(id: number, body = `m${id}`): Message {
  const message = persistent(id, body);
  message.markHandedOut();
  return message;
}
