import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StoreChange } from '../store/store-changes.js';
import { syncDirectory, writeFully } from '../store/segment.js';

export interface ReplicaWriterOptions {
  readonly dataDir: string;
  /** The highest sequence number whose bytes (and everything before them) are on disk. */
  onDurable(seq: number): void;
  /** A write, fsync or rename failed: nothing more is applied or reported durable. */
  onError(error: Error): void;
  /** How a file is made durable; a test slows it down. Default: `handle.datasync()`. */
  readonly sync?: (file: string, handle: FileHandle) => Promise<void>;
  /** How files are opened; default `fs.promises.open`. */
  readonly openFile?: (path: string, flags: string) => Promise<FileHandle>;
}

interface Queued {
  readonly change: StoreChange | undefined;
  readonly seq: number | undefined;
  readonly bytes: number;
}

interface Run {
  readonly position: number;
  end: number;
  readonly slices: Buffer[];
}

function asBuffers(data: readonly Uint8Array[]): Buffer[] {
  return data.map((slice) => (Buffer.isBuffer(slice) ? slice : Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength)));
}

function bytesOf(change: StoreChange | undefined): number {
  if (!change || (change.kind !== 'write' && change.kind !== 'replace')) return 0;
  let total = 0;
  for (const slice of change.data) total += slice.byteLength;
  return total;
}

/**
 * Applies the leader's changes to a follower's data dir with the leader's group commit: whatever queued
 * while a batch was on its way to the disk is the next batch, written with one writev per touched file
 * (contiguous writes merged), then one fdatasync per touched file and one fsync per directory whose
 * entries changed (a file created, renamed or unlinked). Only then is the batch's highest sequence
 * number reported durable: a follower acks what it fsynced, never what it merely received.
 */
export class ReplicaWriter {
  private queue: Queued[] = [];
  private running: Promise<void> | undefined;
  private readonly handles = new Map<string, FileHandle>();
  private failure: Error | undefined;
  private closed = false;
  /** Bytes received and not yet written: the follower stops reading its socket above a limit. */
  queuedBytes = 0;

  constructor(private readonly options: ReplicaWriterOptions) {}

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Queues a change; `seq`, when given, is reported durable once it and everything before it are fsynced. */
  apply(change: StoreChange | undefined, seq?: number): void {
    if (this.failure || this.closed) return;
    const bytes = bytesOf(change);
    this.queue.push({ change, seq, bytes });
    this.queuedBytes += bytes;
    this.running ??= this.drain();
  }

  /** Resolves when everything queued so far is on disk (or the writer failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Waits for what is queued, then closes every file (each batch was fsynced already). */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((handle) => handle.close().catch(() => undefined)));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.applyBatch(batch);
        } catch (error) {
          this.failure = error instanceof Error ? error : new Error(String(error));
          this.queue = [];
          this.queuedBytes = 0;
          this.options.onError(this.failure);
          return;
        }
        let highest: number | undefined;
        for (const item of batch) {
          this.queuedBytes -= item.bytes;
          if (item.seq !== undefined) highest = item.seq;
        }
        if (highest !== undefined) this.options.onDurable(highest);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async applyBatch(batch: readonly Queued[]): Promise<void> {
    const runs = new Map<string, Run[]>();
    const touched = new Set<string>();
    const dirs = new Set<string>();
    for (const { change } of batch) {
      if (!change) continue;
      const { file } = change;
      switch (change.kind) {
        case 'write': {
          const list = runs.get(file) ?? [];
          runs.set(file, list);
          const slices = asBuffers(change.data);
          let length = 0;
          for (const slice of slices) length += slice.length;
          const last = list.at(-1);
          if (last && last.end === change.position) {
            last.slices.push(...slices);
            last.end += length;
          } else {
            list.push({ position: change.position, end: change.position + length, slices });
          }
          touched.add(file);
          break;
        }
        case 'truncate': {
          await this.writeRuns(file, runs, dirs);
          const handle = await this.handle(file, dirs);
          await handle.truncate(change.size);
          touched.add(file);
          break;
        }
        case 'unlink':
          // Bytes written to a file that is then deleted need not reach the disk.
          runs.delete(file);
          touched.delete(file);
          await this.closeHandle(file);
          await rm(this.path(file), { force: true });
          dirs.add(dirname(this.path(file)));
          break;
        case 'replace':
          runs.delete(file);
          touched.delete(file);
          await this.closeHandle(file);
          await this.replace(file, asBuffers(change.data));
          break;
      }
    }
    for (const file of [...runs.keys()]) await this.writeRuns(file, runs, dirs);
    const sync = this.options.sync ?? ((_file: string, handle: FileHandle) => handle.datasync());
    for (const file of touched) {
      const handle = this.handles.get(file);
      if (handle) await sync(file, handle);
    }
    for (const dir of dirs) await syncDirectory(dir);
  }

  private async writeRuns(file: string, runs: Map<string, Run[]>, dirs: Set<string>): Promise<void> {
    const list = runs.get(file);
    if (!list) return;
    runs.delete(file);
    const handle = await this.handle(file, dirs);
    for (const run of list) await writeFully(handle, run.slices, run.position);
  }

  /** As the leader does: temp file, fsync, rename, fsync of the directory. */
  private async replace(file: string, data: Buffer[]): Promise<void> {
    const path = this.path(file);
    const temp = `${path}.tmp`;
    await mkdir(dirname(path), { recursive: true });
    const handle = await this.openFile(temp, 'w');
    try {
      await writeFully(handle, data, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(dirname(path));
  }

  private async handle(file: string, dirs: Set<string>): Promise<FileHandle> {
    const open = this.handles.get(file);
    if (open) return open;
    const path = this.path(file);
    let handle: FileHandle;
    try {
      handle = await this.openFile(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      handle = await this.openFile(path, 'w+');
      dirs.add(dirname(path));
    }
    this.handles.set(file, handle);
    return handle;
  }

  private async closeHandle(file: string): Promise<void> {
    const handle = this.handles.get(file);
    if (!handle) return;
    this.handles.delete(file);
    await handle.close();
  }

  private openFile(path: string, flags: string): Promise<FileHandle> {
    return (this.options.openFile ?? open)(path, flags);
  }

  private path(file: string): string {
    return join(this.options.dataDir, file);
  }
}
