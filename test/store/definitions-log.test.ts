import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { recordKey, type DefinitionRecord } from '../../src/store/definition-record.js';
import { DefinitionsLogError, encodeDefinitionRecord } from '../../src/store/definitions-codec.js';
import { DefinitionsFold } from '../../src/store/definitions-fold.js';
import { DefinitionsLog, type ErrorLog, type OpenFile } from '../../src/store/definitions-log.js';
import { readDefinitionsLog } from '../../src/store/definitions-log-reader.js';

const dirs: string[] = [];
const logs: DefinitionsLog[] = [];

afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-defs-'));
  dirs.push(dir);
  return dir;
}

class RecordingLog implements ErrorLog {
  readonly lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', obj: { ...obj }, msg: msg ?? '' });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', obj: { ...obj }, msg: msg ?? '' });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', obj: { ...obj }, msg: msg ?? '' });
  }
}

const vhost = (n: string): DefinitionRecord => ({ k: 'vhost', n, d: { description: `${n} vhost`, tags: ['a'], defaultQueueType: 'classic', tracing: false } });
const exchange = (n: string, v = '/'): DefinitionRecord => ({
  k: 'exchange',
  v,
  n,
  d: { type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {}, declaredBy: 'guest' },
});
const queue = (n: string, v = '/'): DefinitionRecord => ({ k: 'queue', v, n, d: { durable: true, autoDelete: false, arguments: {}, declaredBy: 'guest' } });
const user = (n: string): DefinitionRecord => ({ k: 'user', n, d: { passwordHash: 'aGFzaA==', hashingAlgorithm: 'rabbit_password_hashing_sha256', tags: [] } });
const permission = (u: string, v = '/'): DefinitionRecord => ({ k: 'permission', v, u, d: { configure: '.*', write: '.*', read: '.*' } });
const binding = (s: string, t: 'queue' | 'exchange', n: string, a: Record<string, unknown> = {}, v = '/'): DefinitionRecord => ({
  k: 'binding',
  v,
  s,
  t,
  n,
  r: 'key.#',
  a,
});
function deleted(record: DefinitionRecord): DefinitionRecord {
  const key: Record<string, unknown> = { ...record };
  delete key['d'];
  return { ...key, del: true } as unknown as DefinitionRecord;
}

function keys(fold: DefinitionsFold): string[] {
  return [...fold.records()].map(recordKey).sort();
}

function foldOf(records: DefinitionRecord[]): DefinitionsFold {
  const fold = new DefinitionsFold();
  for (const record of records) fold.apply(record);
  return fold;
}

/** A live log on a new file, as a first start leaves it. */
async function createLog(dir: string, log: ErrorLog = new RecordingLog(), openFile?: OpenFile): Promise<DefinitionsLog> {
  const definitions = new DefinitionsLog(join(dir, 'definitions.log'), undefined, log, { openFile });
  logs.push(definitions);
  definitions.collect();
  await definitions.create();
  return definitions;
}

async function reread(dir: string, log = new RecordingLog()): Promise<DefinitionsFold> {
  const stored = await readDefinitionsLog(join(dir, 'definitions.log'), log);
  if (!stored) throw new Error('no definitions log');
  return stored.fold;
}

describe('the fold', () => {
  it('drops everything in a vhost with it, and nothing in other vhosts', () => {
    const inShop = [vhost('shop'), permission('alice', 'shop'), exchange('x', 'shop'), queue('q', 'shop'), binding('x', 'queue', 'q', {}, 'shop')];
    const elsewhere = [vhost('other'), permission('alice', 'other'), exchange('x', 'other'), queue('q', 'other'), binding('x', 'queue', 'q', {}, 'other')];
    const fold = foldOf([...inShop, ...elsewhere, user('alice')]);
    expect(fold.apply(deleted(vhost('shop')))).toBe(true);
    expect(keys(fold)).toEqual(keys(foldOf([...elsewhere, user('alice')])));
  });

  it('drops the bindings from and to a deleted exchange, and to a deleted queue', () => {
    const fold = foldOf([
      exchange('a'),
      exchange('b'),
      exchange('c'),
      queue('q'),
      binding('a', 'exchange', 'b'),
      binding('b', 'exchange', 'c'),
      binding('c', 'queue', 'q'),
      binding('a', 'queue', 'q'),
    ]);
    fold.apply(deleted(exchange('b')));
    expect(keys(fold)).toEqual(keys(foldOf([exchange('a'), exchange('c'), queue('q'), binding('c', 'queue', 'q'), binding('a', 'queue', 'q')])));
    fold.apply(deleted(queue('q')));
    expect(keys(fold)).toEqual(keys(foldOf([exchange('a'), exchange('c')])));
  });

  it('drops the permissions of a deleted user', () => {
    const fold = foldOf([vhost('shop'), user('alice'), user('bob'), permission('alice'), permission('alice', 'shop'), permission('bob')]);
    fold.apply(deleted(user('alice')));
    expect(keys(fold)).toEqual(keys(foldOf([vhost('shop'), user('bob'), permission('bob')])));
  });

  it('keys a binding by its arguments whatever their key order', () => {
    const fold = foldOf([binding('x', 'queue', 'q', { a: 1, b: { c: 2, d: 3 } }), binding('x', 'queue', 'q', { b: { d: 3, c: 2 }, a: 1 })]);
    expect(fold.size).toBe(1);
    fold.apply(binding('x', 'queue', 'q', { a: 2 }));
    expect(fold.size).toBe(2);
  });

  it('gives the same state when records are applied twice, and a deletion of something absent changes nothing', () => {
    const records = [vhost('v'), exchange('x', 'v'), queue('q', 'v'), binding('x', 'queue', 'q', {}, 'v'), deleted(queue('q', 'v')), queue('q', 'v'), user('u')];
    const once = foldOf(records);
    const twice = foldOf([...records, ...records]);
    expect(keys(twice)).toEqual(keys(once));
    expect(once.apply(deleted(queue('never')))).toBe(false);
    expect(once.apply(deleted(binding('x', 'queue', 'q', {}, 'v')))).toBe(false);
  });
});

describe('the definitions log file', () => {
  it('writes one turn’s records with one write and one fsync; synced() resolves once they are on disk', async () => {
    const dir = await tempDir();
    const definitions = await createLog(dir);
    const before = definitions.writes;
    for (let i = 0; i < 50; i++) definitions.record(queue(`q${i}`));
    expect(definitions.writes - before).toBe(50);
    expect(definitions.settled).toBe(false);
    await definitions.synced();
    expect(definitions.settled).toBe(true);
    expect(definitions.flushes).toBe(1);
    expect((await reread(dir)).size).toBe(50);
  });

  it('writes nothing while collecting; create() writes the collected state as a whole new log', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const definitions = new DefinitionsLog(path, undefined, new RecordingLog());
    logs.push(definitions);
    definitions.collect();
    definitions.record(vhost('/'));
    definitions.record(user('guest'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(existsSync(path)).toBe(false);
    expect(definitions.writes).toBe(0);
    await definitions.create();
    expect(keys(await reread(dir))).toEqual(keys(foldOf([vhost('/'), user('guest')])));
  });

  it('records nothing while the broker is rebuilt from it (recovering)', async () => {
    const dir = await tempDir();
    const first = await createLog(dir);
    first.record(queue('q'));
    await first.close();
    const stored = await readDefinitionsLog(join(dir, 'definitions.log'), new RecordingLog());
    const size = statSync(join(dir, 'definitions.log')).size;
    const again = new DefinitionsLog(join(dir, 'definitions.log'), stored, new RecordingLog());
    logs.push(again);
    again.record(queue('replayed'));
    expect(again.writes).toBe(0);
    await again.goLive();
    again.record(queue('new'));
    await again.synced();
    expect(statSync(join(dir, 'definitions.log')).size).toBeGreaterThan(size);
    expect(keys(await reread(dir))).toEqual(keys(foldOf([queue('q'), queue('new')])));
  });

  it('cuts off a torn last record, with a warning naming the file and the offset', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const definitions = await createLog(dir);
    definitions.record(queue('a'));
    definitions.record(queue('b'));
    await definitions.close();
    const good = statSync(path).size;
    // The first 20 bytes of a whole record: what a crash mid-write leaves.
    appendFileSync(path, encodeDefinitionRecord(queue('c')).subarray(0, 20));
    const log = new RecordingLog();
    const stored = await readDefinitionsLog(path, log);
    expect(stored?.size).toBe(good);
    expect(keys(stored?.fold ?? new DefinitionsFold())).toEqual(keys(foldOf([queue('a'), queue('b')])));
    expect(statSync(path).size).toBe(good);
    const warning = log.lines.find((line) => line.level === 'warn');
    expect(warning?.msg).toContain(path);
    expect(warning?.msg).toContain(`offset ${good}`);
  });

  it('cuts off a last record with a bad checksum', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const first = encodeDefinitionRecord(queue('a'));
    const last = encodeDefinitionRecord(queue('b'));
    flipBits(last, last.length - 1);
    writeFileSync(path, Buffer.concat([first, last]));
    expect((await readDefinitionsLog(path, new RecordingLog()))?.size).toBe(first.length);
    expect(statSync(path).size).toBe(first.length);
  });

  it('refuses a damaged record followed by valid ones: DefinitionsLogError naming the file and the offset', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const records = [queue('a'), queue('b'), queue('c')].map(encodeDefinitionRecord);
    const file = Buffer.concat(records);
    const damagedAt = (records[0] as Buffer).length;
    flipBits(file, damagedAt + 12); // inside the second record's payload
    writeFileSync(path, file);
    const error = await readDefinitionsLog(path, new RecordingLog()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DefinitionsLogError);
    expect((error as DefinitionsLogError).offset).toBe(damagedAt);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain(`byte offset ${damagedAt}`);
    expect((error as Error).message).toContain('GET /api/definitions');
    // Nothing was cut off: the operator decides.
    expect(readFileSync(path)).toEqual(file);
  });

  it('refuses a record whose checksum holds but whose payload is not a record, without a bare SyntaxError', async () => {
    const dir = await tempDir();
    for (const payload of ['{"k":"queue","v":"/"', '{"k":"gizmo","n":"x"}', '{"k":"queue","v":"/","n":"q","d":{"durable":"yes"}}']) {
      const path = join(dir, 'definitions.log');
      writeFileSync(path, Buffer.concat([encodeDefinitionRecord(queue('a')), frame(payload)]));
      const error = await readDefinitionsLog(path, new RecordingLog()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DefinitionsLogError);
      expect((error as Error).message).toContain(`byte offset ${encodeDefinitionRecord(queue('a')).length}`);
    }
  });

  it('on a failed fsync: logs an error naming the file, rejects the waiters, leaves the file as it was, retries next time', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const control = { fail: false };
    const log = new RecordingLog();
    const definitions = await createLog(dir, log, failingOpen(control));
    definitions.record(queue('kept'));
    await definitions.synced();
    const good = statSync(path).size;

    control.fail = true;
    definitions.record(queue('retried'));
    await expect(definitions.synced()).rejects.toThrow('simulated');
    const error = log.lines.find((line) => line.level === 'error');
    expect(error?.msg).toContain(path);
    expect(error?.obj['file']).toBe(path);
    expect(statSync(path).size).toBe(good);

    control.fail = false;
    definitions.record(queue('later'));
    await definitions.synced();
    expect(keys(await reread(dir))).toEqual(keys(foldOf([queue('kept'), queue('retried'), queue('later')])));
  });

  it('written() waits through a failed write instead of failing, and resolves once a retry puts the records on disk', async () => {
    const dir = await tempDir();
    const control = { fail: false };
    const definitions = new DefinitionsLog(join(dir, 'definitions.log'), undefined, new RecordingLog(), { openFile: failingOpen(control), retryMs: 60_000 });
    logs.push(definitions);
    definitions.collect();
    await definitions.create();

    control.fail = true;
    definitions.record(queue('waits'));
    let done = false;
    const written = definitions.written().then(() => (done = true));
    await expect(definitions.synced()).rejects.toThrow('simulated');
    // Backing off: a new change does not hammer the failing disk, and nobody was told "failed".
    definitions.record(queue('meanwhile'));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);

    control.fail = false;
    definitions.retryNow();
    await written;
    await definitions.written();
    expect(keys(await reread(dir))).toEqual(keys(foldOf([queue('waits'), queue('meanwhile')])));
  });

  it('writes the records that arrived during a failed flush, and the failed ones with them, without another change', async () => {
    const dir = await tempDir();
    let failHeldSync: ((error: Error) => void) | undefined;
    let syncCalled: () => void = () => undefined;
    const called = new Promise<void>((resolve) => (syncCalled = resolve));
    // The first fdatasync after create() is held until the test fails it.
    const openFile: OpenFile = async (path, flags) => {
      const handle = await open(path, flags);
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'datasync' && failHeldSync === undefined) {
            return () =>
              new Promise<void>((_, reject) => {
                failHeldSync = reject;
                syncCalled();
              });
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const definitions = await createLog(dir, new RecordingLog(), openFile);
    definitions.record(queue('failed-first'));
    const first = definitions.synced();
    await called;
    definitions.record(queue('meanwhile'));
    const second = definitions.synced();
    failHeldSync?.(new Error('EIO: simulated'));
    await expect(first).rejects.toThrow('simulated');
    await second;
    expect(keys(await reread(dir))).toEqual(keys(foldOf([queue('failed-first'), queue('meanwhile')])));
  });

  it('compacts: 5,000 declare/delete cycles leave a small file that holds the live state', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const definitions = await createLog(dir);
    const live = [vhost('shop'), exchange('x', 'shop'), queue('kept', 'shop'), binding('x', 'queue', 'kept', { region: 'eu' }, 'shop')];
    for (const record of live) definitions.record(record);
    for (let i = 0; i < 5000; i++) {
      definitions.record(queue(`tmp-${i % 7}`, 'shop'));
      definitions.record(binding('x', 'queue', `tmp-${i % 7}`, {}, 'shop'));
      definitions.record(deleted(queue(`tmp-${i % 7}`, 'shop')));
      if (i % 100 === 0) await definitions.synced();
    }
    await definitions.synced();
    expect(definitions.compactions).toBeGreaterThan(0);
    const oneRecord = encodeDefinitionRecord(binding('x', 'queue', 'tmp-0', {}, 'shop')).length;
    // At most the compaction threshold's worth of records, against 15,000 appended.
    expect(statSync(path).size).toBeLessThan(1001 * oneRecord);
    expect(keys(await reread(dir))).toEqual(keys(foldOf(live)));
  });

  it('keeps the changes made while a compaction is being encoded', async () => {
    const dir = await tempDir();
    const definitions = await createLog(dir);
    // Several chunks' worth, so the encoding gives the event loop turns in between.
    for (let i = 0; i < 20_000; i++) definitions.record(queue(`q${i}`));
    await definitions.synced();
    const compacted = definitions.compact();
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      definitions.record(deleted(queue(`q${turn * 1000}`)));
      definitions.record(queue(`late${turn}`));
      definitions.record(deleted(queue(`q${19_999 - turn}`)));
      definitions.record(queue(`q${19_999 - turn}`));
    }
    await compacted;
    await definitions.synced();
    expect(definitions.compactions).toBe(2);
    expect(keys(await reread(dir))).toEqual(keys(definitions.fold));
    expect(definitions.fold.size).toBe(20_000);
  });

  it('a failed compaction leaves the log as it was, and the next flush retries it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'definitions.log');
    const log = new RecordingLog();
    const definitions = await createLog(dir, log);
    definitions.record(queue('a'));
    await definitions.synced();
    const before = readFileSync(path);
    // A directory where the compaction's temp file goes: opening it fails.
    mkdirSync(`${path}.tmp`);
    definitions.record(queue('b'));
    await expect(definitions.compact()).rejects.toThrow();
    expect(log.lines.some((line) => line.level === 'error' && line.msg.includes(path))).toBe(true);
    expect(readFileSync(path)).toEqual(before);
    rmSync(`${path}.tmp`, { recursive: true });
    await definitions.synced();
    expect(keys(await reread(dir))).toEqual(keys(foldOf([queue('a'), queue('b')])));
  });
});

function flipBits(buf: Buffer, at: number): void {
  buf.writeUInt8(buf.readUInt8(at) ^ 0x20, at);
}

/** A record frame around any payload, checksummed as the log's own are. */
function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const out = Buffer.alloc(12 + body.length);
  out[0] = 0xa7;
  out[1] = 0x44;
  out.writeUInt32LE(body.length, 4);
  body.copy(out, 8);
  out.writeUInt32LE(crc32(out.subarray(0, 8 + body.length)), 8 + body.length);
  return out;
}

/** Opens real files whose fdatasync fails while `control.fail` is set, after the data was written. */
function failingOpen(control: { fail: boolean }): OpenFile {
  return async (path, flags) => {
    const handle = await open(path, flags);
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'datasync' && control.fail) return () => Promise.reject(new Error('EIO: simulated fsync failure'));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}
