// Shared by the replication tests: a leader data dir whose writes are told to the replicator the way the
// store tells them, plain loopback sockets in place of the cluster port's handshake, a recording ISR.
import { constants } from 'node:fs';
import { mkdtemp, mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { StoreChange, StoreChangeObserver } from '../../src/store/store-changes.js';
import { syncDirectory, writeFully } from '../../src/store/segment.js';
import type { ConnectReplica, ReplicaConnection } from '../../src/cluster/follower.js';
import type { Replicator } from '../../src/cluster/replicator.js';
import type { ClusterLog } from '../../src/cluster/cluster-log.js';

export interface LogLine {
  readonly level: string;
  readonly obj: object;
  readonly msg: string | undefined;
}

export function recordingLog(): ClusterLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export async function tempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `warren-${name}-`));
}

export function segment(number: number): string {
  return `messages/${String(number).padStart(16, '0')}.seg`;
}

export function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A leader's data dir changed the way the store changes it: each change is told first, then made, and
 * `synced()` resolves when every change made so far is on disk.
 */
export class LeaderDisk {
  observer: StoreChangeObserver | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(readonly dir: string) {}

  /** When false, changes are made without being told (a test tells them itself, earlier). */
  telling = true;

  private run(change: StoreChange, act: () => Promise<void>): Promise<void> {
    if (this.telling) this.observer?.change(change);
    const done = act().finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return done;
  }

  write(file: string, position: number, data: Buffer): Promise<void> {
    return this.run({ kind: 'write', file, position, data: [data] }, async () => {
      const path = join(this.dir, file);
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(path, constants.O_RDWR | constants.O_CREAT);
      try {
        await writeFully(handle, [data], position);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    });
  }

  append(file: string, data: Buffer): Promise<void> {
    return this.sizeOf(file).then((size) => this.write(file, size, data));
  }

  replace(file: string, data: Buffer): Promise<void> {
    return this.run({ kind: 'replace', file, data: [data] }, async () => {
      const path = join(this.dir, file);
      const handle = await open(`${path}.tmp`, 'w');
      try {
        await writeFully(handle, [data], 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(`${path}.tmp`, path);
      await syncDirectory(dirname(path));
    });
  }

  truncate(file: string, size: number): Promise<void> {
    return this.run({ kind: 'truncate', file, size }, async () => {
      const handle = await open(join(this.dir, file), 'r+');
      try {
        await handle.truncate(size);
      } finally {
        await handle.close();
      }
    });
  }

  unlink(file: string): Promise<void> {
    return this.run({ kind: 'unlink', file }, () => unlink(join(this.dir, file)));
  }

  async synced(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async sizeOf(file: string): Promise<number> {
    try {
      return (await readFile(join(this.dir, file))).length;
    } catch {
      return 0;
    }
  }
}

/** Writes a data dir's store files directly (no changes told): the state before replication starts. */
export async function writeFiles(dir: string, files: Record<string, Buffer>): Promise<void> {
  for (const [file, data] of Object.entries(files)) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFileBytes(path, data);
  }
}

async function writeFileBytes(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await writeFully(handle, [data], 0);
  } finally {
    await handle.close();
  }
}

/** Every file under `dir` (relative paths) with its contents. */
export async function snapshotDir(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else out.set(rel, await readFile(join(dir, rel)));
    }
  };
  await walk('');
  return out;
}

export async function expectSameFiles(leader: string, follower: string): Promise<void> {
  const a = await snapshotDir(leader);
  const b = await snapshotDir(follower);
  const names = (m: Map<string, Buffer>) => [...m.keys()].sort();
  if (JSON.stringify(names(a)) !== JSON.stringify(names(b))) throw new Error(`files differ: leader ${names(a).join(',')} / follower ${names(b).join(',')}`);
  for (const [file, data] of a) {
    const other = b.get(file);
    if (!other || !other.equals(data)) throw new Error(`${file} differs (leader ${data.length} bytes, follower ${other?.length ?? 0})`);
  }
}

/** The leader's ISR writes, recorded; `failing` makes them reject as an unreachable etcd would. */
export class FakeIsr {
  readonly calls: string[][] = [];
  readonly events: string[] = [];
  failing = false;
  attempts = 0;

  readonly changeIsr = async (members: readonly string[]): Promise<unknown> => {
    this.attempts += 1;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new Error('etcd unreachable (fake)');
    this.calls.push([...members]);
    this.events.push(`isr:${members.join(',')}`);
    return undefined;
  };
}

/** A loopback listener handing each connection to the replicator as `nodeId`'s. */
export async function listenFor(replicator: Replicator, nodeId: string): Promise<{ port: number; server: Server }> {
  // Paused, as the cluster port hands sockets over after its handshake.
  const server = createServer({ pauseOnConnect: true }, (socket) => replicator.acceptReplica(socket, nodeId, Buffer.alloc(0)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

/** In place of the cluster port's handshake: a plain socket, the server claiming `epoch`. */
export function plainConnect(epoch: bigint | string, sockets: Socket[] = []): ConnectReplica {
  return ({ host, port }) =>
    new Promise<ReplicaConnection>((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.off('error', reject);
        socket.pause(); // as connectClusterPort hands it over
        sockets.push(socket);
        resolve({ socket, leftover: Buffer.alloc(0), server: { nodeId: 'leader', epoch: epoch.toString() } });
      });
      socket.once('error', reject);
    });
}

export async function until(what: string, condition: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function removeDirs(dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Tracks a promise's outcome without awaiting it. */
export function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown; promise: Promise<T> } {
  const state: { settled: boolean; value?: T; error?: unknown; promise: Promise<T> } = { settled: false, promise };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}
