/**
 * The change stream (store-changes.ts): everything the durable state does to its data dir's files is
 * told, in order, so that a second, empty dir that applies only what was told ends byte-identical to
 * the first and recovers to the same broker. Real files in temp dirs; a tiny applier written here plays
 * the follower. And the disk-busy reporter: defined while a write is in flight, undefined once none is.
 */
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HashingAlgorithms } from '../../src/auth/password-hash.js';
import { UserStore } from '../../src/auth/user-store.js';
import { Broker } from '../../src/broker/broker.js';
import type { Queue } from '../../src/broker/queue.js';
import type { OpenFile } from '../../src/store/definitions-log.js';
import { DurableState, type DurableStateOptions } from '../../src/store/durable-state.js';
import type { StoreChange, StoreChangeObserver } from '../../src/store/store-changes.js';

const dirs: string[] = [];
const opened: DurableState[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-changes-'));
  dirs.push(dir);
  return dir;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Keeps a copy of every change told: the store may reuse the buffers once the call returns. */
class Recorder implements StoreChangeObserver {
  readonly changes: StoreChange[] = [];
  change(change: StoreChange): void {
    if (change.kind === 'write' || change.kind === 'replace') {
      this.changes.push({ ...change, data: [Buffer.concat(change.data.map((slice) => Buffer.from(slice)))] });
    } else this.changes.push(change);
  }

  lastFor(file: string): StoreChange | undefined {
    for (let i = this.changes.length - 1; i >= 0; i--) if (this.changes[i]?.file === file) return this.changes[i];
    return undefined;
  }
}

/** The follower's side, as small as it gets: each change applied to `dir`, in order. */
async function apply(dir: string, changes: readonly StoreChange[]): Promise<void> {
  for (const change of changes) {
    const path = join(dir, ...change.file.split('/'));
    await mkdir(dirname(path), { recursive: true });
    switch (change.kind) {
      case 'write': {
        // A file's first write creates it.
        const handle = await open(path, constants.O_RDWR | constants.O_CREAT);
        try {
          let at = change.position;
          for (const slice of change.data) {
            await handle.write(slice, 0, slice.length, at);
            at += slice.length;
          }
        } finally {
          await handle.close();
        }
        break;
      }
      case 'replace':
        await writeFile(path, Buffer.concat(change.data));
        break;
      case 'truncate':
        await truncate(path, change.size);
        break;
      case 'unlink':
        await rm(path, { force: true });
        break;
    }
  }
}

/** Every file under `dir`, by its '/'-separated relative name, with its bytes. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  return files;
}

async function expectSameFiles(leader: string, mirror: string): Promise<void> {
  const [a, b] = [await filesOf(leader), await filesOf(mirror)];
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, bytes] of a) expect({ name, same: bytes.equals(b.get(name) ?? Buffer.alloc(0)) }).toEqual({ name, same: true });
}

type Failing = 'nothing' | 'datasync';

/**
 * Real files whose fsyncs fail with ENOSPC while `control.failing` says so (after the bytes were
 * written: the truncation that undoes them must be told). Each writev checks that the change stream was
 * told of exactly that write just before it. A handle opened on a `.tmp` file writes the temp file (never
 * told) until the rename, then the real file: its writes are counted when told, and let through if not.
 */
function watchedFiles(dataDir: string, recorder: Recorder, control: { failing: Failing; told: Map<string, number> }): OpenFile {
  return async (path, flags) => {
    const handle = await open(path, flags);
    const opened = relative(dataDir, path).split(sep).join('/');
    const temp = opened.endsWith('.tmp');
    const file = temp ? opened.slice(0, -'.tmp'.length) : opened;
    return new Proxy(handle, {
      get(target, property) {
        if ((property === 'datasync' || property === 'sync') && control.failing === 'datasync') return () => Promise.reject(enospc());
        if (property === 'writev') {
          return (buffers: Buffer[], position: number) => {
            const told = recorder.lastFor(file);
            const bytes = Buffer.concat(buffers);
            if (told?.kind === 'write' && told.position === position && Buffer.concat(told.data).equals(bytes)) {
              const kind = file.endsWith('.seg') ? 'segments' : file;
              control.told.set(kind, (control.told.get(kind) ?? 0) + 1);
            } else if (!temp) throw new Error(`writev of ${file} at ${position} was not told just before`);
            return target.writev(buffers, position);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

/** Lets the event loop run until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device (simulated)'), { code: 'ENOSPC' });
}

interface Running {
  readonly durable: DurableState;
  readonly broker: Broker;
  readonly users: UserStore;
}

async function start(dataDir: string, extra: Partial<DurableStateOptions> = {}): Promise<Running> {
  const durable = await DurableState.open({ dataDir, segmentSize: 4096, diskFreeLimit: 1, log: quiet, ...extra });
  opened.push(durable);
  const users = new UserStore();
  const broker = new Broker({ messageStore: durable.messages, definitions: durable.definitions });
  await durable.restore(broker, users, {
    firstStart: async () => {
      users.restoreUser({ name: 'guest', passwordHash: 'c2FsdHloYXNo', hashingAlgorithm: HashingAlgorithms.sha256, tags: ['administrator'] });
      users.setPermission({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    },
    importDocument: async () => undefined,
  });
  return { durable, broker, users };
}

function publish(broker: Broker, routingKey: string, body: string, exchange = ''): void {
  broker.vhost('/').publish({ exchange, routingKey, properties: { deliveryMode: 2 }, body: Buffer.from(body) });
}

function queue(broker: Broker, name: string): Queue {
  return broker.vhost('/').useQueue(name, null);
}

/** Takes and acks every message of the queue (they are on disk and in memory: the test keeps queues short). */
function ackAll(broker: Broker, name: string): number {
  const q = queue(broker, name);
  let acked = 0;
  for (let entry = q.take(false); entry; entry = q.take(false)) {
    q.settle(entry, 'ack');
    acked++;
  }
  return acked;
}

/** What a restart recovers: durable queues with their messages, users and permissions. */
async function recoveredState(dataDir: string): Promise<unknown> {
  const { durable, broker, users } = await start(dataDir);
  const queues: Record<string, string[]> = {};
  for (const q of broker.vhost('/').queues.values()) {
    if (!q.durable) continue;
    queues[q.name] = (await q.peekLoaded(0, 10_000)).map((entry) => `${entry.message.id}:${Buffer.from(entry.message.content.body).toString()}:${entry.redelivered}`);
  }
  const exchanges = [...broker.vhost('/').exchanges.values()].filter((x) => x.durable && !x.name.startsWith('amq.') && x.name !== '').map((x) => x.name);
  const state = { queues, exchanges, bindings: broker.vhost('/').bindings().length, users: users.listUsers(), permissions: users.listPermissions() };
  await durable.close();
  return state;
}

/** `[[from, to], …]` of a told segments.json. */
function listedSegments(change: StoreChange): Set<number> {
  const listed = new Set<number>();
  if (change.kind !== 'replace') return listed;
  const { segments } = JSON.parse(Buffer.concat(change.data).toString()) as { segments: Array<[number, number]> };
  for (const [from, to] of segments) for (let n = from; n <= to; n++) listed.add(n);
  return listed;
}

describe('the change stream', () => {
  it('rebuilds a byte-identical data dir, that recovers the same broker, from nothing but the told changes', async () => {
    const leader = await tempDir();
    const mirror = await tempDir();
    const recorder = new Recorder();
    const control = { failing: 'nothing' as Failing, told: new Map<string, number>() };
    const { durable, broker, users } = await start(leader, { changes: recorder, openFile: watchedFiles(leader, recorder, control) });
    const vhost = broker.vhost('/');
    vhost.declareExchange({ exchange: 'x', type: 'direct', durable: true });
    for (const name of ['keep', 'churn', 'doomed']) vhost.declareQueue({ queue: name, durable: true }, null);
    vhost.bind({ source: 'x', destination: 'churn', destinationKind: 'queue', routingKey: 'c' });
    // One message nobody acks pins the first segment: copy-forward moves it on.
    publish(broker, 'keep', 'kept');
    for (let i = 0; i < 20; i++) publish(broker, 'doomed', `doomed ${i}`);
    await durable.synced();

    // Publish and ack through many small segments: they roll over, are deleted, segments.json is rewritten.
    const filler = 'f'.repeat(200);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 8; i++) publish(broker, 'c', `${round}.${i} ${filler}`, 'x');
      await durable.stored();
      expect(ackAll(broker, 'churn')).toBe(8);
      if (round === 10) vhost.deleteQueue('doomed');
      await durable.messages.flush();
    }
    expect(durable.messages.stats.segmentsDeleted).toBeGreaterThan(5);
    expect(durable.messages.stats.messagesCopied).toBeGreaterThan(0);

    // A failed write in both stores: their bytes reach the files, then are cut back (and told so).
    publish(broker, 'keep', 'kept 2');
    await durable.stored();
    control.failing = 'datasync';
    publish(broker, 'keep', 'refused');
    vhost.declareQueue({ queue: 'after-failure', durable: true }, null);
    const refused = durable.stored();
    const synced = durable.synced();
    await expect(refused).rejects.toMatchObject({ name: 'WriteFailure', cause: { code: 'ENOSPC' } });
    const truncated = (file: string): boolean => recorder.changes.some((c) => c.kind === 'truncate' && c.file === file);
    await until(() => truncated('definitions.log'));
    control.failing = 'nothing';
    // The disk guard finds space again and both stores retry.
    await synced;
    expect(recorder.changes.filter((c) => c.kind === 'truncate').map((c) => c.file)).toEqual(
      expect.arrayContaining(['definitions.log', expect.stringMatching(/^messages\/\d{16}\.seg$/)]),
    );
    // Enough definition changes that a flush compacts the log.
    for (let i = 0; i < 600; i++) {
      vhost.declareQueue({ queue: 'tmp', durable: true }, null);
      vhost.deleteQueue('tmp');
      if (i % 50 === 0) await durable.synced();
    }
    users.restoreUser({ name: 'alice', passwordHash: 'c2FsdHloYXNo', hashingAlgorithm: HashingAlgorithms.sha256, tags: [] });
    await durable.synced();
    const logReplaces = recorder.changes.filter((c) => c.kind === 'replace' && c.file === 'definitions.log');
    // The first start's create, then at least one compaction.
    expect(logReplaces.length).toBeGreaterThanOrEqual(2);

    publish(broker, 'keep', 'kept 3');
    await durable.close();

    // Every segment unlink comes after a segments.json that no longer lists it.
    let listed = new Set<number>();
    for (const change of recorder.changes) {
      if (change.file === 'messages/segments.json') listed = listedSegments(change);
      if (change.kind === 'unlink' && change.file.endsWith('.seg')) expect(listed.has(Number(change.file.slice(9, 25)))).toBe(false);
    }
    expect(recorder.changes.some((c) => c.kind === 'unlink')).toBe(true);
    expect(recorder.changes.some((c) => c.file.endsWith('.tmp'))).toBe(false);
    // Every writev of either store was told just before it started.
    expect(control.told.get('segments')).toBeGreaterThan(40);
    expect(control.told.get('definitions.log')).toBeGreaterThan(10);

    await apply(mirror, recorder.changes);
    await expectSameFiles(leader, mirror);

    const recovered = await recoveredState(mirror);
    expect(recovered).toMatchObject({
      queues: { keep: [expect.stringMatching(/:kept:false$/), expect.stringMatching(/:kept 2:false$/), expect.stringMatching(/:kept 3:false$/)], churn: [] },
      exchanges: ['x'],
    });
    expect(Object.keys((recovered as { queues: object }).queues).sort()).toEqual(['after-failure', 'churn', 'keep']);
    expect(await recoveredState(leader)).toEqual(recovered);
  });

  it('tells the torn tails cut off at start, so a follower that had the whole write ends the same', async () => {
    const leader = await tempDir();
    const mirror = await tempDir();
    const first = new Recorder();
    const { durable, broker } = await start(leader, { changes: first });
    broker.vhost('/').declareQueue({ queue: 'q', durable: true }, null);
    publish(broker, 'q', 'one');
    await durable.close();
    await apply(mirror, first.changes);

    // A crash in the middle of a write: the follower got it all, the leader's files end in a torn record.
    const segment = [...(await filesOf(leader)).keys()].find((name) => name.endsWith('.seg')) ?? '';
    const torn = Buffer.from([0xa7, 0x44, 0, 0, 0xff, 0xff, 0xff, 0x00, 1, 2, 3]);
    for (const dir of [leader, mirror]) {
      await appendFile(join(dir, 'definitions.log'), torn);
      await appendFile(join(dir, segment), Buffer.alloc(100));
    }

    const second = new Recorder();
    const again = await start(leader, { changes: second });
    expect(second.changes.filter((c) => c.kind === 'truncate').map((c) => c.file).sort()).toEqual(['definitions.log', segment]);
    await again.durable.close();
    await apply(mirror, second.changes);
    await expectSameFiles(leader, mirror);
    expect(await recoveredState(mirror)).toEqual(await recoveredState(leader));
  });
});

describe('the disk-busy reporter', () => {
  /** Real files whose fdatasyncs wait, while `held` is set, until the test lets them go. */
  function heldSyncs(held: { on: boolean }, waiting: Map<string, () => Promise<void>>): OpenFile {
    return async (path, flags) => {
      const handle = await open(path, flags);
      const kind = path.endsWith('.seg') ? 'segment' : 'definitions';
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'datasync' && held.on) {
            // The test's release resolves once the real fdatasync is done, and so before the store goes on.
            return () => new Promise<void>((resolve) => waiting.set(kind, () => target.datasync().then(resolve)));
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
  }

  it('is told when the oldest write in flight began, in either store, and undefined once none is: only on transitions', async () => {
    const dataDir = await tempDir();
    const reports: Array<number | undefined> = [];
    const held = { on: false };
    const waiting = new Map<string, () => Promise<void>>();
    const { durable, broker } = await start(dataDir, { diskBusy: (since) => reports.push(since), openFile: heldSyncs(held, waiting) });
    const vhost = broker.vhost('/');
    vhost.declareQueue({ queue: 'q', durable: true }, null);
    await durable.synced();
    // Opening wrote the format stamp, the list of segments and the definitions log, each in flight once.
    expect(reports.length).toBeGreaterThan(0);
    expect(reports[reports.length - 1]).toBeUndefined();

    reports.length = 0;
    held.on = true;
    const before = performance.timeOrigin + performance.now();
    publish(broker, 'q', 'one');
    const stored = durable.stored();
    await until(() => waiting.has('segment'));
    // The message store's fsync hangs: its write is in flight since it began.
    expect(reports).toHaveLength(1);
    const first = reports[0] as number;
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(performance.timeOrigin + performance.now());

    // A definitions write starting meanwhile is not the oldest: nothing new is told.
    vhost.declareQueue({ queue: 'q2', durable: true }, null);
    const synced = durable.synced();
    await until(() => waiting.has('definitions'));
    expect(reports).toEqual([first]);

    // The oldest one ends: the definitions write is now the oldest in flight.
    held.on = false;
    await waiting.get('segment')?.();
    await stored;
    await until(() => reports.length === 2);
    const second = reports[1] as number;
    expect(second).toBeGreaterThan(first);

    await waiting.get('definitions')?.();
    await synced;
    await durable.messages.flush();
    expect(reports).toEqual([first, second, undefined]);

    // The other way round: the newer write ends first, which changes nothing told.
    reports.length = 0;
    waiting.clear();
    held.on = true;
    publish(broker, 'q', 'two');
    const storedAgain = durable.stored();
    await until(() => waiting.has('segment'));
    vhost.declareQueue({ queue: 'q3', durable: true }, null);
    const syncedAgain = durable.synced();
    await until(() => waiting.has('definitions'));
    held.on = false;
    await waiting.get('definitions')?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toHaveLength(1);
    await waiting.get('segment')?.();
    await Promise.all([storedAgain, syncedAgain]);
    await durable.messages.flush();
    expect(reports).toEqual([reports[0], undefined]);
  });
});
