import type { UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DurabilityBarrier } from '../broker/persistence.js';
import { resolve } from 'node:path';
import { openDataDir } from './data-dir.js';
import { DefinitionsFile, definitionsPath } from './definitions-file.js';
import { DiskGuard } from './disk-guard.js';
import { SegmentMessageStore, type RecoveredQueues, type StoreLog } from './message-store.js';

export interface DurableStateOptions {
  readonly dataDir: string;
  /** Bytes per message segment file. */
  readonly segmentSize?: number | undefined;
  /** Free bytes below which persistent publishes are refused. */
  readonly diskFreeLimit: number;
  readonly log: StoreLog & { error(obj: object, msg?: string): void };
}

export interface RestoreHooks {
  /** Called on a first start (no definitions yet), before anything is written. */
  firstStart(): Promise<void>;
  /** Applies a definitions document found in the data dir (RabbitMQ's format) through the one mutation path. */
  importDocument(document: unknown): Promise<void>;
  /** The document to write out (interim: the whole snapshot). */
  snapshot(): unknown;
}

/**
 * Everything Warren keeps on disk. `open` reads it; the broker is then built on its stores
 * (`messages`, `definitions`), and `restore` replays the durable definitions through the same vhost and
 * user methods the wire and the REST API use, then refills the queues from the message store.
 */
export class DurableState implements DurabilityBarrier {
  private diskGuard: DiskGuard | undefined;
  private unsubscribe: () => void = () => undefined;
  private definitionsFile: DefinitionsFile | undefined;

  private constructor(
    readonly messages: SegmentMessageStore,
    private readonly recovered: RecoveredQueues,
    private readonly stored: unknown,
    private readonly options: DurableStateOptions,
  ) {}

  static async open(options: DurableStateOptions): Promise<DurableState> {
    await openDataDir(options.dataDir);
    const stored = await DefinitionsFile.read(definitionsPath(options.dataDir));
    const { store, recovered } = await SegmentMessageStore.open(options.dataDir, { segmentSize: options.segmentSize, log: options.log });
    return new DurableState(store, recovered, stored, options);
  }

  /** What the broker tells of durable definition changes. */
  readonly definitions = {
    definitionChanged: (): void => this.definitionsFile?.definitionsChanged(),
  };

  async restore(broker: Broker, users: UserStore, hooks: RestoreHooks): Promise<void> {
    const { dataDir, log } = this.options;
    if (this.stored === undefined) await hooks.firstStart();
    else await hooks.importDocument(this.stored);

    const started = Date.now();
    let restored = 0;
    for (const [vhostName, queues] of this.recovered.queues) {
      for (const [queueName, messages] of queues) {
        const queue = broker.vhosts.get(vhostName)?.queues.get(queueName);
        if (!queue?.storesMessages) {
          log.warn({ vhost: vhostName, queue: queueName, messages: messages.length }, 'dropping stored messages of a queue that no longer exists');
          this.messages.dropRecoveredQueue(vhostName, queueName, messages);
          continue;
        }
        for (const { message, redelivered } of messages) queue.restore(message, redelivered);
        restored += messages.length;
      }
    }
    broker.advanceMessageIds(this.recovered.maxMessageId);
    log.info({ messages: restored, ms: Date.now() - started }, 'recovered stored messages');

    const file = new DefinitionsFile(definitionsPath(dataDir), hooks.snapshot);
    this.definitionsFile = file;
    this.unsubscribe = users.subscribe(() => file.definitionsChanged());
    file.definitionsChanged();
    await file.flush();

    const diskGuard = new DiskGuard({
      dir: dataDir,
      freeLimit: this.options.diskFreeLimit,
      onChange: (alarm, freeBytes) => {
        broker.diskAlarm = alarm;
        if (alarm) log.error({ freeBytes, limit: this.options.diskFreeLimit }, 'disk free space below limit: refusing persistent messages');
        else log.info({ freeBytes }, 'disk free space back above limit');
      },
    });
    await diskGuard.start();
    this.diskGuard = diskGuard;
  }

  get writes(): number {
    return (this.definitionsFile?.writes ?? 0) + this.messages.writes;
  }

  async synced(): Promise<void> {
    await Promise.all([this.definitionsFile?.synced(), this.messages.synced()]);
  }

  /** Bytes the message store holds, free bytes on the data dir's file system, and the refusal limit. */
  diskUsage(): { path: string; used: number; free: number; freeLimit: number } {
    return {
      path: resolve(this.options.dataDir),
      used: this.messages.diskBytes,
      free: this.diskGuard?.freeBytes ?? Number.POSITIVE_INFINITY,
      freeLimit: this.options.diskFreeLimit,
    };
  }

  /** Flushes and fsyncs everything, so the next start needs no repair. */
  async close(): Promise<void> {
    this.diskGuard?.stop();
    this.unsubscribe();
    await this.definitionsFile?.close();
    await this.messages.close();
  }
}
