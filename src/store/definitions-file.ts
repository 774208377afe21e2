import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DurabilityBarrier } from '../broker/persistence.js';

/**
 * The durable definitions (vhosts, users, permissions, durable exchanges, queues and bindings) as one
 * JSON document, rewritten atomically — temp file, fsync, rename, fsync of the directory — whenever
 * something durable changes. Changes close together share one write, and `synced()` tells a reply when
 * the write covering its change is on disk.
 */
export class DefinitionsFile implements DurabilityBarrier {
  writes = 0;
  private writtenUpTo = 0;
  private flushing: Promise<void> | undefined;
  private scheduled: NodeJS.Timeout | undefined;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (error: unknown) => void }> = [];
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => unknown,
    private readonly delayMs = 2,
  ) {}

  /** The stored document, or undefined on a first start. */
  static async read(path: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    // A crash can only leave a stray temp file, never a half-written definitions file: rename is atomic.
    await unlink(`${path}.tmp`).catch(() => undefined);
    return JSON.parse(text) as unknown;
  }

  definitionsChanged(): void {
    this.writes++;
    if (this.closed || this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      void this.flush().catch(() => undefined);
    }, this.delayMs);
  }

  synced(): Promise<void> {
    if (this.writtenUpTo >= this.writes) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.writes, resolve, reject }));
  }

  /** Writes now if anything changed since the last write. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.writtenUpTo >= this.writes) return;
    const upTo = this.writes;
    this.flushing = this.write(JSON.stringify(this.snapshot(), null, 2));
    try {
      await this.flushing;
      this.writtenUpTo = upTo;
      this.settleWaiters((w) => w.upTo <= upTo, undefined);
    } catch (error) {
      this.settleWaiters(() => true, error);
      throw error;
    } finally {
      this.flushing = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduled = undefined;
    await this.flush();
    this.closed = true;
  }

  private settleWaiters(which: (w: { upTo: number }) => boolean, error: unknown): void {
    const remaining: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (!which(waiter)) remaining.push(waiter);
      else if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
    this.waiters = remaining;
  }

  private async write(text: string): Promise<void> {
    const temp = `${this.path}.tmp`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.path);
    await syncDirectory(dirname(this.path));
  }
}

/** Makes a rename durable: the directory entry must reach the disk too. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function definitionsPath(dataDir: string): string {
  return join(dataDir, 'definitions.json');
}
