/**
 * The behaviour every MessageStore must have, whatever its format: run it from a store's own test file
 * with `describeMessageStoreContract(name, factory)`. Real files in a temp dir; each test reopens the
 * store as the broker would after a restart or a crash.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { Message, type MessageContent, type MessageProperties } from '../../src/broker/message.js';
import type { DurabilityBarrier, MessageStore } from '../../src/broker/persistence.js';
import type { Queue } from '../../src/broker/queue.js';
import type { RecoveredQueues } from '../../src/store/message-store.js';

export interface ContractStore extends MessageStore, DurabilityBarrier {
  close(): Promise<void>;
}

export type StoreFactory = (dir: string) => Promise<{ store: ContractStore; recovered: RecoveredQueues }>;

const decoder = new TextDecoder();

export function persistent(id: number, body: string | Uint8Array, properties: MessageProperties = {}): Message {
  return Message.create(id, {
    exchange: '',
    routingKey: 'q',
    properties: { deliveryMode: 2, ...properties },
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
  });
}

/** Real broker queues, so the store sees the same objects (vhost, name, durable) as in production. */
export class Queues {
  readonly broker = new Broker();

  declare(name: string, vhostName = '/'): Queue {
    if (!this.broker.vhosts.has(vhostName)) this.broker.addVhost(vhostName);
    const vhost = this.broker.vhost(vhostName);
    vhost.declareQueue({ queue: name, durable: true }, null);
    const queue = vhost.queues.get(name);
    if (!queue) throw new Error(`queue ${name} was not declared`);
    return queue;
  }

  /** Deletes and declares again: a new instance under the same name. */
  redeclare(name: string, vhostName = '/'): Queue {
    this.broker.vhost(vhostName).deleteQueue(name);
    return this.declare(name, vhostName);
  }
}

/** Recovered messages are content-less stubs: their contents are read back here, as a queue's read-ahead would. */
export async function recoveredIn(
  recovered: RecoveredQueues,
  queue: string,
  vhost = '/',
): Promise<Array<{ id: number; body: string; redelivered: boolean }>> {
  const entries = recovered.queues.get(vhost)?.get(queue) ?? [];
  const contents = await Message.contentsOf(entries.map(({ message }) => message));
  return entries.map(({ message, redelivered }, i) => ({ id: message.id, body: decoder.decode(contents[i]?.body), redelivered }));
}

export function describeMessageStoreContract(name: string, open: StoreFactory): void {
  describe(`${name}: MessageStore contract`, () => {
    const dirs: string[] = [];
    const stores: ContractStore[] = [];

    const tempDir = async (): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), 'warren-store-'));
      dirs.push(dir);
      return dir;
    };
    const openStore: StoreFactory = async (dir) => {
      const opened = await open(dir);
      stores.push(opened.store);
      return opened;
    };
    const reopen = async (dir: string, store: ContractStore): Promise<RecoveredQueues> => (await restart(dir, store)).recovered;
    const restart: (dir: string, store: ContractStore) => ReturnType<StoreFactory> = async (dir, store) => {
      await store.close();
      return openStore(dir);
    };

    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('starts empty, and recovers added messages in order after close and reopen', async () => {
      const dir = await tempDir();
      const { store, recovered: first } = await openStore(dir);
      expect(first.queues.size).toBe(0);
      const queues = new Queues();
      const q = queues.declare('q');
      for (let id = 1; id <= 5; id++) store.add(persistent(id, `m${id}`), [q]);
      const recovered = await reopen(dir, store);
      expect(await recoveredIn(recovered, 'q')).toEqual([1, 2, 3, 4, 5].map((id) => ({ id, body: `m${id}`, redelivered: false })));
      expect(recovered.maxMessageId).toBe(5);
    });

    it('does not bring back removed messages', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const q = new Queues().declare('q');
      const messages = [1, 2, 3, 4].map((id) => persistent(id, `m${id}`));
      for (const message of messages) store.add(message, [q]);
      await store.synced();
      store.remove(messages[1] as Message, q);
      store.remove(messages[3] as Message, q);
      const recovered = await reopen(dir, store);
      expect((await recoveredIn(recovered, 'q')).map((m) => m.id)).toEqual([1, 3]);
    });

    it('brings back a delivered but unsettled message flagged redelivered', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const q = new Queues().declare('q');
      const [a, b] = [persistent(1, 'a'), persistent(2, 'b')];
      store.add(a, [q]);
      store.add(b, [q]);
      store.delivered(a, q);
      const recovered = await reopen(dir, store);
      expect(await recoveredIn(recovered, 'q')).toEqual([
        { id: 1, body: 'a', redelivered: true },
        { id: 2, body: 'b', redelivered: false },
      ]);
    });

    it('writes a message routed to several queues once and settles it per queue', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const queues = new Queues();
      const [a, b, c] = [queues.declare('a'), queues.declare('b'), queues.declare('c', 'other')];
      const message = persistent(1, 'fan');
      store.add(message, [a, b, c]);
      store.delivered(message, b);
      store.remove(message, a);
      const restarted = await restart(dir, store);
      const recovered = restarted.recovered;
      expect(await recoveredIn(recovered, 'a')).toEqual([]);
      expect(await recoveredIn(recovered, 'b')).toEqual([{ id: 1, body: 'fan', redelivered: true }]);
      expect(await recoveredIn(recovered, 'c', 'other')).toEqual([{ id: 1, body: 'fan', redelivered: false }]);
      // One record, one message: every queue gets the same object back.
      expect(recovered.queues.get('/')?.get('b')?.[0]?.message).toBe(recovered.queues.get('other')?.get('c')?.[0]?.message);

      // After a restart the store knows queues by name: the broker's new Queue objects settle the rest.
      const later = new Queues();
      for (const [vhost, name] of [['/', 'b'], ['other', 'c']] as const) {
        const entry = recovered.queues.get(vhost)?.get(name)?.[0];
        if (!entry) throw new Error(`nothing recovered for ${name}`);
        restarted.store.remove(entry.message, later.declare(name, vhost));
      }
      const empty = await reopen(dir, restarted.store);
      expect(empty.queues.size).toBe(0);
    });

    it('forgets a deleted queue, but keeps the messages of a new queue with the same name', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const queues = new Queues();
      const old = queues.declare('q');
      const unacked = persistent(1, 'old-unacked');
      store.add(unacked, [old]);
      store.add(persistent(2, 'old-ready'), [old]);
      store.delivered(unacked, old);
      store.queueDeleted(old);
      const fresh = queues.redeclare('q');
      const kept = persistent(3, 'new');
      store.add(kept, [fresh]);
      store.add(persistent(4, 'new-2'), [fresh]);
      // The old instance's unacked message is settled late: it must not touch the new queue's messages.
      store.remove(unacked, old);
      const recovered = await reopen(dir, store);
      expect(await recoveredIn(recovered, 'q')).toEqual([
        { id: 3, body: 'new', redelivered: false },
        { id: 4, body: 'new-2', redelivered: false },
      ]);
    });

    it('has a message on disk once synced() resolves, without close', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const q = new Queues().declare('q');
      store.add(persistent(7, 'durable'), [q]);
      const before = store.writes;
      expect(before).toBeGreaterThan(0);
      await store.synced();
      // As after a crash: a second instance on a copy of the files as they are now.
      const copy = await tempDir();
      await cp(dir, copy, { recursive: true });
      const { recovered } = await openStore(copy);
      expect(await recoveredIn(recovered, 'q')).toEqual([{ id: 7, body: 'durable', redelivered: false }]);
      expect(store.writes).toBe(before);
    });

    it('loads a released message back with identical content, before and after a restart', async () => {
      const dir = await tempDir();
      const { store } = await openStore(dir);
      const q = new Queues().declare('q');
      const body = new Uint8Array(300);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 256;
      const content: MessageContent = {
        exchange: 'amq.topic',
        routingKey: 'a.b.ü',
        properties: {
          contentType: 'application/octet-stream',
          contentEncoding: 'gzip',
          headers: { s: 'x', n: -1.5, t: true, z: null, list: [1, 'two', [3]], nested: { deep: { k: 'v' } }, ünï: 'cödé' },
          deliveryMode: 2,
          priority: 7,
          correlationId: 'corr',
          replyTo: 'reply',
          expiration: '60000',
          messageId: 'mid',
          timestamp: 1_700_000_000,
          type: 'kind',
          userId: 'guest',
          appId: 'app',
        },
        body,
      };
      const message = Message.create(11, content, 1_700_000_000_123);
      store.add(message, [q]);
      await store.synced();
      message.release(store);
      expect(message.inMemory).toBe(false);
      const [loaded] = await store.load([message]);
      expect(loaded).toEqual(content);
      expect(loaded?.body).toBeInstanceOf(Uint8Array);

      const recovered = await reopen(dir, store);
      const stub = recovered.queues.get('/')?.get('q')?.[0]?.message;
      expect(stub?.id).toBe(11);
      expect(stub?.size).toBe(300);
      expect(stub?.publishedAt).toBe(1_700_000_000_123);
      expect(stub?.persistent).toBe(true);
      expect(stub?.inMemory).toBe(false);
      expect(await Message.contentsOf(stub ? [stub] : [])).toEqual([content]);
    });
  });
}
