import type { UserChange, UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DefinitionsObserver, DurabilityBarrier } from '../broker/persistence.js';
import { access, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openDataDir } from './data-dir.js';
import { recordOfChange, recordOfUserChange } from './definition-record.js';
import { DefinitionsLog, type ErrorLog } from './definitions-log.js';
import { readDefinitionsLog } from './definitions-log-reader.js';
import { replayDefinitions } from './definitions-replay.js';
import { DiskGuard } from './disk-guard.js';
import { readLegacyDefinitions, retireLegacyDefinitions } from './legacy-definitions.js';
import { SegmentMessageStore, type RecoveredQueues } from './message-store.js';

export const DEFINITIONS_LOG = 'definitions.log';
export const LEGACY_DEFINITIONS = 'definitions.json';

export interface DurableStateOptions {
  readonly dataDir: string;
  /** Bytes per message segment file. */
  readonly segmentSize?: number | undefined;
  /** Free bytes below which persistent publishes are refused. */
  readonly diskFreeLimit: number;
  readonly log: ErrorLog;
}

export interface RestoreHooks {
  /** Called on a first start (no definitions yet); what it creates is recorded. */
  firstStart(): Promise<void>;
  /** Applies a definitions document found in the data dir (RabbitMQ's format) through the one mutation path. */
  importDocument(document: unknown): Promise<void>;
}

/** Where the definitions come from at this start. */
type DefinitionsSource = { readonly kind: 'log' } | { readonly kind: 'legacy'; readonly document: unknown } | { readonly kind: 'none' };

const nothing = (): void => undefined;

/**
 * Everything Warren keeps on disk. `open` reads it; the broker is then built on its stores
 * (`messages`, `definitions`), and `restore` replays the durable definitions through the same vhost and
 * user methods the wire and the REST API use, then refills the queues from the message store.
 */
export class DurableState implements DurabilityBarrier {
  private unsubscribe: () => void = () => undefined;

  private constructor(
    readonly messages: SegmentMessageStore,
    private readonly recovered: RecoveredQueues,
    private readonly definitionsLog: DefinitionsLog,
    private readonly source: DefinitionsSource,
    private readonly options: DurableStateOptions,
    private readonly diskGuard: DiskGuard,
  ) {}

  /**
   * Reads the definitions before the message store is opened: a damaged definitions log stops the start
   * while the message store is still exactly as it was.
   */
  static async open(options: DurableStateOptions): Promise<DurableState> {
    const { dataDir, log } = options;
    await openDataDir(dataDir);
    const logPath = join(dataDir, DEFINITIONS_LOG);
    const legacyPath = join(dataDir, LEGACY_DEFINITIONS);
    const stored = await readDefinitionsLog(logPath, log);
    let source: DefinitionsSource = { kind: 'log' };
    if (!stored) {
      const legacy = await readLegacyDefinitions(legacyPath);
      source = legacy ? { kind: 'legacy', document: legacy.document } : { kind: 'none' };
    } else if (await exists(legacyPath)) {
      // Left by a crash between writing the migrated log and renaming the document, or put there by hand.
      log.warn({ file: legacyPath }, `${legacyPath} is ignored: ${logPath} exists and holds the definitions`);
    }
    // Both stores tell it every byte they buffer, so the alarm is raised before a write can fail.
    const diskGuard = new DiskGuard({ dir: dataDir, freeLimit: options.diskFreeLimit });
    const { store, recovered } = await SegmentMessageStore.open(dataDir, { segmentSize: options.segmentSize, log, space: diskGuard });
    return new DurableState(store, recovered, new DefinitionsLog(logPath, stored, log, open, diskGuard), source, options, diskGuard);
  }

  /** What the broker tells of durable definition changes. */
  readonly definitions: DefinitionsObserver = {
    definitionChanged: (change) => {
      if (this.definitionsLog.accepting) this.definitionsLog.record(recordOfChange(change));
    },
  };

  async restore(broker: Broker, users: UserStore, hooks: RestoreHooks): Promise<void> {
    const { dataDir, log } = this.options;
    await this.restoreDefinitions(broker, users, hooks);

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

    await this.diskGuard.start((alarm, freeBytes, writeFailed) => {
      broker.diskAlarm = alarm;
      if (alarm) {
        const why = writeFailed ? 'a write failed for lack of disk space' : 'disk free space below limit';
        log.error({ freeBytes, limit: this.options.diskFreeLimit, dir: dataDir }, `${why}: refusing persistent messages and new durable definitions`);
        return;
      }
      log.info({ freeBytes }, 'disk free space back above limit');
      this.messages.retryNow();
      this.definitionsLog.retryNow();
    });
  }

  private async restoreDefinitions(broker: Broker, users: UserStore, hooks: RestoreHooks): Promise<void> {
    const definitions = this.definitionsLog;
    const { log } = this.options;
    const record = (change: UserChange): void => definitions.record(recordOfUserChange(change));
    if (this.source.kind === 'log') {
      replayDefinitions(definitions.fold, broker, users, definitions.path);
      await definitions.goLive();
      this.unsubscribe = users.subscribe(record);
      // Not needed to start: on a full disk it fails (logged by the log) and a later flush compacts.
      if (definitions.compactionDue) await definitions.compact().catch(() => undefined);
      log.info({ file: definitions.path, definitions: definitions.fold.size }, 'definitions restored');
      return;
    }
    definitions.collect();
    this.unsubscribe = users.subscribe(record);
    // The broker made these before there was a log to tell.
    for (const vhost of broker.vhosts.values()) this.definitions.definitionChanged({ kind: 'vhost', vhost, deleted: false });
    if (this.source.kind === 'legacy') await hooks.importDocument(this.source.document);
    else await hooks.firstStart();
    await definitions.create();
    if (this.source.kind === 'legacy') {
      const retired = await retireLegacyDefinitions(join(this.options.dataDir, LEGACY_DEFINITIONS));
      log.info({ file: definitions.path, definitions: definitions.fold.size, retired }, 'definitions migrated to the definitions log');
    }
  }

  get writes(): number {
    return this.definitionsLog.writes + this.messages.writes;
  }

  /**
   * Everything told so far is on disk. A failed write does not reject it: both stores keep what they
   * were told and write it once they can, so a reply that waits for this never says "failed" about a
   * change that is still made. With no definitions in flight it is just the message store's promise.
   */
  synced(): Promise<void> {
    const messages = this.messages.synced();
    if (this.definitionsLog.settled) return messages;
    return Promise.all([this.definitionsLog.written(), messages]).then(nothing);
  }

  /** On the publisher-confirm path: rejects when the messages' write failed, and they were refused. */
  stored(): Promise<void> {
    const messages = this.messages.stored();
    if (this.definitionsLog.settled) return messages;
    return Promise.all([this.definitionsLog.written(), messages]).then(nothing);
  }

  /** Bytes the message store holds, free bytes on the data dir's file system, and the refusal limit. */
  diskUsage(): { path: string; used: number; free: number; freeLimit: number } {
    return {
      path: resolve(this.options.dataDir),
      used: this.messages.diskBytes,
      free: this.diskGuard.freeBytes,
      freeLimit: this.options.diskFreeLimit,
    };
  }

  /** Flushes and fsyncs everything, so the next start needs no repair. */
  async close(): Promise<void> {
    this.diskGuard.stop();
    this.unsubscribe();
    try {
      await this.definitionsLog.close();
    } finally {
      await this.messages.close();
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
