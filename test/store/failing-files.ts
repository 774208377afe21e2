/**
 * For tests of a failed write: real files whose writes or fdatasyncs fail on cue, and a watcher that
 * records what the store tells the broker.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message } from '../../src/broker/message.js';
import type { StoreWatcher } from '../../src/broker/persistence.js';
import type { SegmentStoreOptions } from '../../src/store/message-store.js';

export type Failing = 'nothing' | 'write' | 'datasync';

/** Real files whose writes or fdatasyncs fail with ENOSPC while `control.failing` says so. */
export function failingFiles(control: { failing: Failing }): NonNullable<SegmentStoreOptions['openFile']> {
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

export function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
}

export class RecordingWatcher implements StoreWatcher {
  readonly refusedIds: number[] = [];
  through = 0;
  storedThrough(id: number): void {
    this.through = id;
  }
  refused(messages: ReadonlySet<Message>): void {
    for (const message of messages) this.refusedIds.push(message.id);
  }
}

export async function segmentBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(join(dir, 'messages'))) bytes += (await stat(join(dir, 'messages', name))).size;
  return bytes;
}

/** Whether `promise` has settled by the time the event loop has gone round a few times. */
export async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
