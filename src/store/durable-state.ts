import type { Message } from '../broker/message.js';
import type { UserChange, UserStore } from '../auth/user-store.js';
import type { Broker } from '../broker/broker.js';
import type { DefinitionsObserver, DurabilityBarrier } from '../broker/persistence.js';
import type { Queue } from '../broker/queue.js';
import { access, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkDataDir, openDataDir } from './data-dir.js';
import { recordOfChange, recordOfUserChange } from './definition-record.js';
import { DefinitionsLog, type ErrorLog, type OpenFile } from './definitions-log.js';
import { readDefinitionsLog } from './definitions-log-reader.js';
import { replayDefinitions } from './definitions-replay.js';
import { DiskActivity } from './disk-activity.js';
import { DiskGuard } from './disk-guard.js';
import { readLegacyDefinitions, retireLegacyDefinitions } from './legacy-definitions.js';
import { lostDefinitionsError, surveyStoredMessages } from './lost-definitions.js';
import { SegmentMessageStore, type RecoveredQueues } from './message-store.js';
import { restoreScheduled } from './scheduled-recovery.js';
import type { DiskBusyReporter, StoreChangeObserver } from './store-changes.js';

export const DEFINITIONS_LOG = 'definitions.log';
export const LEGACY_DEFINITIONS = 'definitions.json';
/** Who declared a queue restored for stored messages the definitions had no queue for (RabbitMQ's name for the broker itself). */
export const RESTORED_BY = 'rmq-internal';

export interface DurableStateOptions {
  readonly dataDir: string;
  /** Bytes per message segment file. */
  readonly segmentSize?: number | undefined;
  /** Free bytes below which persistent publishes are refused. */
  readonly diskFreeLimit: number;
  readonly log: ErrorLog;
  /**
   * Told of every change made to the data dir's files, in the order made (store-changes.ts): a cluster
   * leader streams them to its followers. Unset, nothing is built for it.
   */
  readonly changes?: StoreChangeObserver | undefined;
  /** Told when the oldest write or fsync in flight began, and when none is left: the disk-stall watchdog. */
  readonly diskBusy?: DiskBusyReporter | undefined;
  /**
   * Every recovered message comes back flagged redelivered, not only those with a Delivered record: the
   * data dir is a replica taken over after its leader died, and that leader's last deliveries may have
   * left before their Delivered records were written (a cluster failover, docs/cluster.md).
   */
  readonly recoverAsRedelivered?: boolean | undefined;
  /** How the stores open their files; a test passes one whose handles fail on cue. */
  readonly openFile?: OpenFile | undefined;
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
   * while the message store is still exactly as it was. So does a data dir whose message store has
   * records but whose definitions are gone — checked before anything is written, not even the format
   * stamp, so the operator finds the data dir as it was.
   */
  static async open(options: DurableStateOptions): Promise<DurableState> {
    const { dataDir, log } = options;
    await checkDataDir(dataDir);
    const logPath = join(dataDir, DEFINITIONS_LOG);
    const legacyPath = join(dataDir, LEGACY_DEFINITIONS);
    if (!(await exists(logPath)) && !(await exists(legacyPath))) await refuseLostDefinitions(dataDir, logPath, 'missing');
    // One for both stores: the oldest write in flight is the oldest of either's.
    const activity = new DiskActivity(options.changes, options.diskBusy);
    await openDataDir(dataDir, activity);
    const stored = await readDefinitionsLog(logPath, log, activity);
    // A log always holds at least what a first start writes; an empty one lost its contents.
    if (stored?.records === 0) await refuseLostDefinitions(dataDir, logPath, 'empty');
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
    const openFile = options.openFile ?? open;
    // A cluster leader (told of every change) confirms only what its followers have: see deferHandedOut.
    const deferHandedOut = options.changes === undefined;
    const { store, recovered } = await SegmentMessageStore.open(dataDir, { segmentSize: options.segmentSize, log, space: diskGuard, openFile, activity, deferHandedOut });
    const definitionsLog = new DefinitionsLog(logPath, stored, log, { openFile, space: diskGuard, activity });
    return new DurableState(store, recovered, definitionsLog, source, options, diskGuard);
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
    const scheduled = await restoreScheduled(broker, this.recovered.queues, log);
    if (scheduled > 0) log.info({ messages: scheduled, ms: Date.now() - started }, 'recovered scheduled messages');
    let restored = 0;
    const allRedelivered = this.options.recoverAsRedelivered === true;
    for (const [vhostName, queues] of this.recovered.queues) {
      for (const [queueName, messages] of queues) {
        const queue = this.queueForStored(broker, vhostName, queueName, messages.length);
        if (!queue) continue;
        for (const { message, redelivered, deliveryCount, expiration } of messages) queue.restore(message, redelivered || allRedelivered, deliveryCount, expiration);
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
    if (this.source.kind === 'legacy') {
      await hooks.importDocument(this.source.document);
      // RabbitMQ makes no default user when it imports definitions at boot. An import without any user
      // (`{}`, a hand-written file) would leave a broker nobody can log in to: it gets the default user.
      if (users.listUsers().length === 0) {
        log.warn({ file: join(this.options.dataDir, LEGACY_DEFINITIONS) }, 'the imported definitions have no users: creating the default user');
        await hooks.firstStart();
      }
    } else {
      await hooks.firstStart();
    }
    await definitions.create();
    if (this.source.kind === 'legacy') {
      const retired = await retireLegacyDefinitions(join(this.options.dataDir, LEGACY_DEFINITIONS));
      log.info({ file: definitions.path, definitions: definitions.fold.size, retired }, 'definitions migrated to the definitions log');
    }
  }

  /**
   * Where the stored messages of a queue go back. Undefined (logged) if nowhere: they then stay in the
   * message store, not dropped, and a later start that has the queue gets them back.
   */
  private queueForStored(broker: Broker, vhostName: string, queueName: string, messages: number): Queue | undefined {
    try {
      const queue = broker.vhosts.get(vhostName)?.queues.get(queueName) ?? this.restoreUndefinedQueue(broker, vhostName, queueName, messages);
      if (!queue.storesMessages) throw new Error('it does not keep messages on disk');
      return queue;
    } catch (error) {
      this.options.log.error(
        { err: error, vhost: vhostName, queue: queueName, messages },
        `cannot put ${messages} stored messages back into queue '${queueName}' in vhost '${vhostName}': ${(error as Error).message}. ` +
          'They stay in the message store; a start that can restore the queue gets them back',
      );
      return undefined;
    }
  }

  /**
   * Stored messages of a queue the definitions do not have. Deleting a queue writes a QueueDeleted
   * record that keeps its messages from coming back, so these were never deleted: the definitions lost
   * the queue (a log restored from an older backup, an export without it). Rather than delete messages
   * because something else is missing, the queue is declared again — durable, classic, no arguments, no
   * bindings, declared by rmq-internal — so an operator sees them and can drain or delete them. Its
   * vhost too, if that is gone.
   */
  private restoreUndefinedQueue(broker: Broker, vhostName: string, queueName: string, messages: number): Queue {
    const { log } = this.options;
    let vhost = broker.vhosts.get(vhostName);
    if (!vhost) {
      vhost = broker.addVhost(vhostName);
      log.warn({ vhost: vhostName }, `restored vhost '${vhostName}', which the definitions do not have, because stored messages are in it`);
    }
    vhost.declareQueue({ queue: queueName, durable: true, exclusive: false, autoDelete: false, arguments: {}, declaredBy: RESTORED_BY }, null);
    log.warn(
      { vhost: vhostName, queue: queueName, messages },
      `restored queue '${queueName}' in vhost '${vhostName}', which the definitions do not have, to keep its ${messages} stored ` +
        'messages: a durable classic queue with no arguments and no bindings, declared by rmq-internal; drain it or delete it',
    );
    return vhost.useQueue(queueName, null);
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

  /** See DurabilityBarrier.onAllSettled: a message every durable queue settled needs no disk to be confirmed. */
  onAllSettled(message: Message, settled: () => void): void {
    this.messages.onAllSettled(message, settled);
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

/**
 * No definitions, yet the message store is not empty: the definitions were lost, and a first start
 * would bury the messages under an empty broker. An empty log is only refused when messages are still
 * queued (an operator may have deleted everything there was).
 */
async function refuseLostDefinitions(dataDir: string, logPath: string, why: 'missing' | 'empty'): Promise<void> {
  const stored = await surveyStoredMessages(join(dataDir, 'messages'));
  if (why === 'missing' ? stored.segmentFiles > 0 : stored.messages > 0) throw lostDefinitionsError(dataDir, logPath, why, stored);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
