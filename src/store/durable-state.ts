import type { UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DurabilityBarrier } from '../broker/persistence.js';
import { resolve } from 'node:path';
import { openDataDir } from './data-dir.js';
import { DefinitionsFile, definitionsPath } from './definitions-file.js';
import { exportDefinitions, importDefinitions } from './definitions-format.js';
import { DiskGuard } from './disk-guard.js';
import { SegmentMessageStore, type StoreLog } from './message-store.js';

export interface DurableStateOptions {
  readonly dataDir: string;
  readonly version: string;
  /** Bytes per message segment file. */
  readonly segmentSize?: number | undefined;
  /** Free bytes below which persistent publishes are refused. */
  readonly diskFreeLimit: number;
  readonly log: StoreLog & { error(obj: object, msg?: string): void };
  /** Called on a first start (no definitions yet), before anything is written. */
  firstStart(): Promise<void>;
}

/**
 * Everything Warren keeps on disk, opened and recovered at start: durable definitions replayed through the
 * same vhost and user methods the wire and the REST API use, then the message store's queues refilled.
 * Afterwards every durable change flows to disk through the broker's hooks.
 */
export class DurableState implements DurabilityBarrier {
  private constructor(
    private readonly definitions: DefinitionsFile,
    readonly messages: SegmentMessageStore,
    private readonly diskGuard: DiskGuard,
    private readonly unsubscribe: () => void,
    private readonly diskFreeLimit: number,
    private readonly dataDir: string,
  ) {}

  static async open(broker: Broker, users: UserStore, options: DurableStateOptions): Promise<DurableState> {
    const { dataDir, log } = options;
    await openDataDir(dataDir);
    const path = definitionsPath(dataDir);
    const stored = await DefinitionsFile.read(path);
    if (stored === undefined) await options.firstStart();
    else await importDefinitions(broker, users, stored);

    const started = Date.now();
    const { store, recovered } = await SegmentMessageStore.open(dataDir, { segmentSize: options.segmentSize, log });
    let restored = 0;
    for (const [vhostName, queues] of recovered.queues) {
      for (const [queueName, messages] of queues) {
        const queue = broker.vhosts.get(vhostName)?.queues.get(queueName);
        if (!queue?.storesMessages) {
          log.warn({ vhost: vhostName, queue: queueName, messages: messages.length }, 'dropping stored messages of a queue that no longer exists');
          store.dropRecoveredQueue(vhostName, queueName, messages);
          continue;
        }
        for (const { message, redelivered } of messages) queue.restore(message, redelivered);
        restored += messages.length;
      }
    }
    broker.advanceMessageIds(recovered.maxMessageId);
    log.info({ messages: restored, ms: Date.now() - started }, 'recovered stored messages');

    const definitions = new DefinitionsFile(path, () => exportDefinitions(broker, users, { version: options.version }));
    broker.messageStore = store;
    broker.definitionsObserver = definitions;
    const unsubscribe = users.subscribe(() => definitions.definitionsChanged());
    // A first start (or an older file) is written out now, so the next start replays exactly this state.
    definitions.definitionsChanged();
    await definitions.flush();

    const diskGuard = new DiskGuard({
      dir: dataDir,
      freeLimit: options.diskFreeLimit,
      onChange: (alarm, freeBytes) => {
        broker.diskAlarm = alarm;
        if (alarm) log.error({ freeBytes, limit: options.diskFreeLimit }, 'disk free space below limit: refusing persistent messages');
        else log.info({ freeBytes }, 'disk free space back above limit');
      },
    });
    await diskGuard.start();
    return new DurableState(definitions, store, diskGuard, unsubscribe, options.diskFreeLimit, resolve(dataDir));
  }

  get writes(): number {
    return this.definitions.writes + this.messages.writes;
  }

  async synced(): Promise<void> {
    await Promise.all([this.definitions.synced(), this.messages.synced()]);
  }

  /** Bytes the message store holds, free bytes on the data dir's file system, and the refusal limit. */
  diskUsage(): { path: string; used: number; free: number; freeLimit: number } {
    return { path: this.dataDir, used: this.messages.diskBytes, free: this.diskGuard.freeBytes, freeLimit: this.diskFreeLimit };
  }

  /** Flushes and fsyncs everything, so the next start needs no repair. */
  async close(): Promise<void> {
    this.diskGuard.stop();
    this.unsubscribe();
    await this.definitions.close();
    await this.messages.close();
  }
}
