import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Message } from '../../src/broker/message.js';
import { DataDirError, openDataDir } from '../../src/store/data-dir.js';
import { SegmentMessageStore, type SegmentStoreOptions, type StoreLog } from '../../src/store/message-store.js';
import { Queues, describeMessageStoreContract, persistent, recoveredIn } from './message-store.contract.js';

describeMessageStoreContract('SegmentMessageStore', (dir) => SegmentMessageStore.open(dir));
describeMessageStoreContract('SegmentMessageStore with 4 KiB segments', (dir) => SegmentMessageStore.open(dir, { segmentSize: 4096 }));

const dirs: string[] = [];
const stores: SegmentMessageStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-segments-'));
  dirs.push(dir);
  return dir;
}

class RecordingLog implements StoreLog {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];
  warn(_obj: object, msg?: string): void {
    this.warnings.push(msg ?? '');
  }
  info(): void {}
  error(_obj: object, msg?: string): void {
    this.errors.push(msg ?? '');
  }
}

async function openStore(dir: string, options: SegmentStoreOptions = {}): Promise<Awaited<ReturnType<typeof SegmentMessageStore.open>>> {
  const opened = await SegmentMessageStore.open(dir, options);
  stores.push(opened.store);
  return opened;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'messages'))).filter((name) => name.endsWith('.seg')).sort().map((name) => join(dir, 'messages', name));
}

/** Start offsets of the records in a segment file, read from their length fields. */
function recordOffsets(file: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < file.length; at += 12 + file.readUInt32LE(at + 4)) offsets.push(at);
  return offsets;
}

const kib = (seed: number): string => `${seed}:`.padEnd(1024, String.fromCharCode(97 + (seed % 26)));

describe('SegmentMessageStore recovery from damaged files', () => {
  it('cuts off a torn tail and serves every complete record', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const q = new Queues().declare('q');
    for (let id = 1; id <= 20; id++) store.add(persistent(id, `m${id}`), [q]);
    await store.close();
    const [last] = (await segmentFiles(dir)).slice(-1);
    if (!last) throw new Error('no segment written');
    const intact = await readFile(last);
    // A crash mid-write: the first part of a record, then whatever the disk held there.
    await appendFile(last, Buffer.concat([intact.subarray(0, 40), randomBytes(777)]));

    const log = new RecordingLog();
    const { store: reopened, recovered } = await openStore(dir, { log });
    expect((await recoveredIn(recovered, 'q')).map((m) => m.body)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    expect((await stat(last)).size).toBe(intact.length);
    expect(log.warnings.some((w) => w.includes('torn tail'))).toBe(true);

    // Closed cleanly, the next open has nothing to repair.
    await reopened.close();
    const clean = new RecordingLog();
    await openStore(dir, { log: clean });
    expect(clean.warnings).toEqual([]);
  });

  it('skips a corrupt record in the middle and recovers the others', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const q = new Queues().declare('q');
    for (let id = 1; id <= 10; id++) store.add(persistent(id, `body-${id}-${kib(id)}`), [q]);
    await store.close();
    const [file] = await segmentFiles(dir);
    if (!file) throw new Error('no segment written');
    const bytes = await readFile(file);
    const at = bytes.indexOf('body-5-');
    bytes[at + 3] = (bytes[at + 3] as number) ^ 0xff;
    bytes[at + 9] = (bytes[at + 9] as number) ^ 0x01;
    await writeFile(file, bytes);

    const log = new RecordingLog();
    const { recovered } = await openStore(dir, { log });
    expect((await recoveredIn(recovered, 'q')).map((m) => m.id)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(log.warnings.some((w) => w.includes('corrupt'))).toBe(true);
    expect((await stat(file)).size).toBe(bytes.length);
  });

  it('resyncs after a record whose length field is corrupt', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const q = new Queues().declare('q');
    for (let id = 1; id <= 10; id++) store.add(persistent(id, kib(id)), [q]);
    await store.close();
    const [file] = await segmentFiles(dir);
    if (!file) throw new Error('no segment written');
    const bytes = await readFile(file);
    const third = recordOffsets(bytes)[2] as number;
    bytes.writeUInt32LE(7, third + 4);
    await writeFile(file, bytes);

    const { recovered } = await openStore(dir, { log: new RecordingLog() });
    expect((await recoveredIn(recovered, 'q')).map((m) => m.id)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('SegmentMessageStore disk use', () => {
  it('deletes settled segments under steady publish and ack', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir, { segmentSize: 64 * 1024 });
    const q = new Queues().declare('q');
    let most = 0;
    // Settled only once written: a message settled before its write is never written at all.
    let written: Message[] = [];
    for (let id = 1; id <= 3000; id++) {
      const message = persistent(id, kib(id));
      store.add(message, [q]);
      store.delivered(message, q);
      written.push(message);
      if (id % 100 === 0) {
        await store.synced();
        for (const settled of written) store.remove(settled, q);
        written = [];
        // The settlements on disk too, and the clean-up they allow done.
        await store.flush();
        most = Math.max(most, (await segmentFiles(dir)).length);
      }
    }
    await store.close();
    expect(store.stats.segmentsDeleted).toBeGreaterThan(40);
    expect(most).toBeLessThanOrEqual(5);
    expect((await segmentFiles(dir)).length).toBeLessThanOrEqual(2);
  });

  it('copies a few unacked messages forward so they do not pin old segments', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir, { segmentSize: 64 * 1024 });
    const queues = new Queues();
    const q = queues.declare('q');
    const stuck = queues.declare('stuck');
    const stuckIds = [1, 900, 1800];
    let most = 0;
    let written: Message[] = [];
    for (let id = 1; id <= 3000; id++) {
      const message = persistent(id, kib(id));
      if (stuckIds.includes(id)) {
        store.add(message, [stuck]);
        store.delivered(message, stuck);
        continue;
      }
      store.add(message, [q]);
      written.push(message);
      if (id % 100 === 0) {
        await store.synced();
        for (const settled of written) store.remove(settled, q);
        written = [];
        // The settlements on disk too, and the clean-up they allow done.
        await store.flush();
        most = Math.max(most, (await segmentFiles(dir)).length);
      }
    }
    expect(store.stats.messagesCopied).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(8);
    await store.close();

    const { recovered } = await openStore(dir);
    expect(await recoveredIn(recovered, 'stuck')).toEqual(stuckIds.map((id) => ({ id, body: kib(id), redelivered: true })));
    expect(await recoveredIn(recovered, 'q')).toEqual([]);
  });
});

describe('SegmentMessageStore writes', () => {
  it('shares one fsync among many appends (group commit)', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const q = new Queues().declare('q');
    const before = store.stats.fsyncs;
    for (let id = 1; id <= 1000; id++) store.add(persistent(id, `m${id}`), [q]);
    await store.synced();
    expect(store.stats.fsyncs - before).toBeGreaterThan(0);
    expect(store.stats.fsyncs - before).toBeLessThan(10);

    const waits: Array<Promise<void>> = [];
    for (let id = 1001; id <= 2000; id++) {
      store.add(persistent(id, `m${id}`), [q]);
      waits.push(store.synced());
    }
    await Promise.all(waits);
    expect(store.stats.fsyncs - before).toBeLessThan(20);
  });

  it('releases evictable contents once written and reads them back, even right after the last settlement', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const q = new Queues().declare('q');
    const messages: Message[] = [];
    for (let id = 1; id <= 50; id++) {
      const message = persistent(id, kib(id), { headers: { id } });
      store.add(message, [q]);
      // As a long queue does, after the store got the message.
      message.evictable = id > 10;
      messages.push(message);
    }
    await store.synced();
    expect(messages.filter((m) => m.inMemory).map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const contents = await Message.contentsOf(messages);
    for (const [i, message] of messages.entries()) {
      expect(new TextDecoder().decode(contents[i]?.body)).toBe(kib(message.id));
      expect(contents[i]?.properties.headers).toEqual({ id: message.id });
    }
    // The read of a content may start after the message's last settlement freed its slot.
    const last = messages[49] as Message;
    store.remove(last, q);
    const [lastContent] = await store.load([last]);
    expect(new TextDecoder().decode(lastContent?.body)).toBe(kib(50));
  });

  it('writes a message routed to several queues as one record', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const queues = new Queues();
    store.add(persistent(1, kib(1)), [queues.declare('a'), queues.declare('b'), queues.declare('c')]);
    await store.close();
    const [file] = await segmentFiles(dir);
    if (!file) throw new Error('no segment written');
    const bytes = await readFile(file);
    expect(recordOffsets(bytes).map((at) => bytes[at + 1])).toEqual([1]);
    expect(bytes.length).toBeLessThan(1024 + 100);
  });

  it('keeps per-queue state for a message routed to more than 16 queues', async () => {
    const dir = await tempDir();
    const { store } = await openStore(dir);
    const queues = new Queues();
    const all = Array.from({ length: 20 }, (_, i) => queues.declare(`q${i}`));
    const message = persistent(1, 'wide');
    store.add(message, all);
    all.forEach((queue, i) => {
      if (i % 2 === 0) store.remove(message, queue);
    });
    store.delivered(message, all[17] as (typeof all)[number]);
    await store.close();
    const { recovered } = await openStore(dir);
    for (let i = 0; i < 20; i++) {
      expect(await recoveredIn(recovered, `q${i}`)).toEqual(i % 2 === 0 ? [] : [{ id: 1, body: 'wide', redelivered: i === 17 }]);
    }
  });
});

describe('data dir format', () => {
  it('stamps a new data dir and accepts it again without rewriting', async () => {
    const dir = join(await tempDir(), 'nested', 'data');
    await openDataDir(dir);
    const path = join(dir, 'format.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ format: 1, createdBy: 'warren' });
    const { mtimeMs } = await stat(path);
    await openDataDir(dir);
    expect((await stat(path)).mtimeMs).toBe(mtimeMs);
  });

  it('refuses a newer format and leaves the file alone', async () => {
    const dir = await tempDir();
    const path = join(dir, 'format.json');
    const text = '{"format":99,"createdBy":"warren"}';
    await writeFile(path, text);
    const { mtimeMs } = await stat(path);
    await expect(openDataDir(dir)).rejects.toThrow(DataDirError);
    await expect(openDataDir(dir)).rejects.toThrow(/format 99.*newer/);
    await expect(SegmentMessageStore.open(dir)).rejects.toThrow(DataDirError);
    expect(await readFile(path, 'utf8')).toBe(text);
    expect((await stat(path)).mtimeMs).toBe(mtimeMs);
    expect(await readdir(dir)).toEqual(['format.json']);
  });

  it('refuses an unknown format', async () => {
    const dir = await tempDir();
    const path = join(dir, 'format.json');
    for (const text of ['not json', '{"format":"1"}', '[]', '{"format":0}']) {
      await writeFile(path, text);
      await expect(openDataDir(dir)).rejects.toThrow(DataDirError);
      expect(await readFile(path, 'utf8')).toBe(text);
    }
  });
});
