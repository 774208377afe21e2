/**
 * Random operations against a simple model of what must survive: with tiny segments, so rollover,
 * segment deletion and copy-forward all happen, checked after clean restarts and after "crashes"
 * (a copy of the files taken once writes are synced, opened by a second instance).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Message } from '../../src/broker/message.js';
import type { Queue } from '../../src/broker/queue.js';
import { SegmentMessageStore, type RecoveredQueues } from '../../src/store/message-store.js';
import { Queues, persistent, recoveredIn } from './message-store.contract.js';

const NAMES = ['a', 'b', 'c', 'd'];

interface Held {
  readonly message: Message;
  delivered: boolean;
}

/** Deterministic, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dirs: string[] = [];
const stores: SegmentMessageStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function open(dir: string): Promise<{ store: SegmentMessageStore; recovered: RecoveredQueues }> {
  // Segments come and go out of order here: none of them may ever be reported lost.
  const log = { warn: () => undefined, info: () => undefined, error: (_: object, msg?: string) => expect.fail(msg) };
  const opened = await SegmentMessageStore.open(dir, { segmentSize: 4096, log });
  stores.push(opened.store);
  return opened;
}

describe('SegmentMessageStore against a model', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}`, async () => {
      const rand = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
      const dir = await mkdtemp(join(tmpdir(), 'warren-model-'));
      dirs.push(dir);
      const bodies = new Map<number, string>();
      let { store } = await open(dir);
      let queues = new Queues();
      let current = new Map(NAMES.map((name) => [name, queues.declare(name)]));
      let model = new Map(NAMES.map((name) => [name, new Map<number, Held>()]));
      // Unacked messages of deleted queue instances: their late settlements must change nothing.
      let orphans: Array<{ message: Message; queue: Queue }> = [];
      let nextId = 1;

      const check = async (recovered: RecoveredQueues): Promise<void> => {
        for (const name of NAMES) {
          const expected = [...(model.get(name) as Map<number, Held>).entries()]
            .sort(([x], [y]) => x - y)
            .map(([id, held]) => ({ id, body: bodies.get(id), redelivered: held.delivered }));
          expect(await recoveredIn(recovered, name), `queue ${name}`).toEqual(expected);
        }
      };
      const adopt = (recovered: RecoveredQueues): void => {
        queues = new Queues();
        current = new Map(NAMES.map((name) => [name, queues.declare(name)]));
        model = new Map(NAMES.map((name) => [name, new Map<number, Held>()]));
        for (const [name, entries] of recovered.queues.get('/') ?? []) {
          for (const { message, redelivered } of entries) model.get(name)?.set(message.id, { message, delivered: redelivered });
        }
        orphans = [];
      };

      for (let step = 0; step < 1500; step++) {
        const op = rand();
        const name = pick(NAMES);
        const held = model.get(name) as Map<number, Held>;
        const queue = current.get(name) as Queue;
        if (op < 0.4) {
          const targets = NAMES.filter((n) => n === name || rand() < 0.25);
          const id = nextId++;
          const body = `${id}:`.padEnd(Math.floor(rand() * 1500) + 3, 'x');
          bodies.set(id, body);
          const message = persistent(id, body);
          store.add(
            message,
            targets.map((n) => current.get(n) as Queue),
          );
          message.evictable = rand() < 0.5;
          for (const n of targets) model.get(n)?.set(id, { message, delivered: false });
        } else if (op < 0.55 && held.size > 0) {
          const entry = pick([...held.values()].filter((h) => !h.delivered));
          if (entry) {
            store.delivered(entry.message, queue);
            entry.delivered = true;
          }
        } else if (op < 0.85 && held.size > 0) {
          const [id, entry] = pick([...held.entries()]);
          store.remove(entry.message, queue);
          held.delete(id);
        } else if (op < 0.87) {
          store.queueDeleted(queue);
          for (const entry of held.values()) if (entry.delivered) orphans.push({ message: entry.message, queue });
          held.clear();
          current.set(name, queues.redeclare(name));
        } else if (op < 0.9 && orphans.length > 0) {
          const orphan = orphans.splice(Math.floor(rand() * orphans.length), 1)[0];
          if (orphan) store.remove(orphan.message, orphan.queue);
        } else if (op < 0.96) {
          await store.synced();
        } else if (op < 0.98) {
          await store.flush();
          const copy = await mkdtemp(join(tmpdir(), 'warren-model-crash-'));
          dirs.push(copy);
          await cp(dir, copy, { recursive: true });
          const crashed = await open(copy);
          await check(crashed.recovered);
          await crashed.store.close();
        } else {
          await store.close();
          const reopened = await open(dir);
          await check(reopened.recovered);
          store = reopened.store;
          adopt(reopened.recovered);
        }
        // Content read back from disk (released or recovered) must be what was published.
        if (step % 100 === 0) {
          for (const entries of model.values()) {
            const held = [...entries];
            const contents = await Message.contentsOf(held.map(([, { message }]) => message));
            held.forEach(([id], i) => expect(new TextDecoder().decode(contents[i]?.body)).toBe(bodies.get(id)));
          }
        }
      }
      await store.close();
      await check((await open(dir)).recovered);
    });
  }
});
