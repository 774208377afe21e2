import { systemClock, type Clock } from './clock.js';
import { DEFAULT_CONSUMER_TIMEOUT_MS } from './consumer-timeout.js';
import { BrokerError, diskAlarmRefusal, notFound, preconditionFailed, replicationAlarmRefusal } from './errors.js';
import { nameProblem } from './names.js';
import { ChannelTally } from './channel-tally.js';
import { MessageStats } from './message-stats.js';
import { QueueChurn } from './queue-churn.js';
import type { Message } from './message.js';
import type { DefinitionChange, DefinitionsObserver, MessageStore, StoreWatcher } from './persistence.js';
import type { Queue, QueueEntry, QueueObserver } from './queue.js';
import { VHost } from './vhost.js';

export interface BrokerOptions {
  /** Largest message body accepted, in bytes (default 16 MiB). */
  readonly maxBodySize?: number;
  /** Where persistent messages in durable queues go; none keeps everything in memory. */
  readonly messageStore?: MessageStore | undefined;
  /** Told of every durable definition change (the definitions log). */
  readonly definitions?: DefinitionsObserver | undefined;
  /** Time for the lifecycle rules (expiry, timeouts); the system clock unless a test brings its own. */
  readonly clock?: Clock | undefined;
  /** Milliseconds an unacked delivery may wait before its consumer is cancelled (default 30 minutes); 0 = no limit. */
  readonly consumerTimeout?: number | undefined;
}

export const DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

/**
 * The whole broker state: its vhosts. Owns what is broker-wide: message ids, limits, the cluster name,
 * and the hand-off of persistent messages and durable definitions to the stores it was built with.
 */
export class Broker implements QueueObserver, StoreWatcher {
  readonly vhosts = new Map<string, VHost>();
  readonly maxBodySize: number;
  /** Broker-wide counters; they outlive the queues, exchanges and connections that feed them. */
  readonly stats = new MessageStats();
  /** Client channels by protocol; like `stats`, monotonic as channels come and go. */
  readonly channelTally = new ChannelTally();
  readonly queueChurn = new QueueChurn();
  readonly messageStore: MessageStore | undefined;
  readonly clock: Clock;
  /** See BrokerOptions.consumerTimeout; a queue's or a consume's `x-consumer-timeout` overrides it. */
  readonly consumerTimeout: number;
  /** See QueueObserver.durableThrough; the message store moves it. */
  durableThrough = 0;
  /** Set while memory is above its high watermark: publishing connections are not read. */
  memoryAlarm = false;
  private readonly definitions: DefinitionsObserver | undefined;
  private lastMessageId = 0;
  private currentClusterName: string | undefined;
  /** Queues whose head waits for its record to be on disk. */
  private alarm = false;
  private replicationShortfall: string | undefined;

  constructor(options: BrokerOptions = {}) {
    this.maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    this.messageStore = options.messageStore;
    this.clock = options.clock ?? systemClock;
    this.consumerTimeout = options.consumerTimeout ?? DEFAULT_CONSUMER_TIMEOUT_MS;
    this.definitions = options.definitions;
    this.addVhost('/');
    this.messageStore?.watch(this);
  }

  get queueObserver(): QueueObserver {
    return this;
  }

  nextMessageId(): number {
    return ++this.lastMessageId;
  }

  /** After recovery: new ids continue above every recovered one. */
  advanceMessageIds(past: number): void {
    if (past > this.lastMessageId) this.lastMessageId = past;
  }

  definitionChanged(change: DefinitionChange): void {
    this.definitions?.definitionChanged(change);
  }

  /** The name set by an operator; undefined until one is (the management API then shows the node name). */
  get clusterName(): string | undefined {
    return this.currentClusterName;
  }

  setClusterName(name: string): void {
    if (this.currentClusterName === name) return;
    if (this.writeAlarm) throw this.writeRefusal('cluster name changes');
    this.currentClusterName = name;
    this.definitionChanged({ kind: 'cluster-name', name });
  }

  /** Told when the disk alarm is raised or cleared (the server holds AMQP publishers, as RabbitMQ). */
  onDiskAlarm: ((on: boolean) => void) | undefined;

  /** Set while free disk space is below its limit: persistent publishes and new durable definitions are refused. */
  get diskAlarm(): boolean {
    return this.alarm;
  }

  set diskAlarm(on: boolean) {
    const before = this.writeAlarm;
    const changed = this.alarm !== on;
    this.alarm = on;
    if (changed) this.onDiskAlarm?.(on);
    if (before && !this.writeAlarm) this.writesBack();
  }

  /** Told when the replication alarm is raised or cleared (the server holds publishers, as for the disk alarm). */
  onReplicationAlarm: ((reason: string | undefined) => void) | undefined;

  /**
   * Set on a cluster leader while fewer replicas than `min-insync` are in sync (the reason, e.g. "only 1
   * in-sync replica, min-insync is 2"): refused like the disk alarm, before anything is written, so no
   * publisher is handed a confirm the cluster cannot give.
   */
  get replicationAlarm(): string | undefined {
    return this.replicationShortfall;
  }

  set replicationAlarm(reason: string | undefined) {
    const before = this.writeAlarm;
    const changed = this.replicationShortfall !== reason;
    this.replicationShortfall = reason;
    if (changed) this.onReplicationAlarm?.(reason);
    if (before && !this.writeAlarm) this.writesBack();
  }

  /** Persistent messages and durable definitions are refused: the disk alarm or the replication alarm holds. */
  get writeAlarm(): boolean {
    return this.alarm || this.replicationShortfall !== undefined;
  }

  writeRefusal(what: string): BrokerError {
    return this.alarm ? diskAlarmRefusal(what) : replicationAlarmRefusal(what, this.replicationShortfall ?? 'the replication alarm holds');
  }

  /** Dead letters whose copies had to wait for an alarm go now (see DeadLetterer). */
  private writesBack(): void {
    for (const vhost of this.vhosts.values()) vhost.deadLetterer.diskSpaceBack();
  }

  storedThrough(id: number): void {
    this.durableThrough = id;
    // Sources of dead letters are settled only once their copies are on disk.
    for (const vhost of this.vhosts.values()) vhost.deadLetterer.copiesStored(id);
    for (const vhost of this.vhosts.values()) vhost.delayed.copiesStored(id);
  }

  /** Rare (a failed write), so every queue is asked: each looks only at its newest messages. */
  refused(messages: ReadonlySet<Message>): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const message of messages) if (message.id < oldest) oldest = message.id;
    for (const vhost of this.vhosts.values()) for (const queue of vhost.queues.values()) queue.withdraw(messages, oldest);
    // A refused dead-letter copy left its targets above; its source, not settled yet, dies again.
    for (const vhost of this.vhosts.values()) vhost.deadLetterer.copiesRefused(messages);
    // A refused scheduled message is never routed; a refused routed copy is scheduled again.
    for (const vhost of this.vhosts.values()) vhost.delayed.copiesRefused(messages);
  }

  settled(queue: Queue, entry: QueueEntry): void {
    if (this.messageStore && queue.storesMessages && entry.message.persistent) this.messageStore.remove(entry.message, queue);
  }

  delivered(queue: Queue, entry: QueueEntry): void {
    if (this.messageStore && queue.storesMessages && entry.message.persistent) this.messageStore.delivered(entry.message, queue);
  }

  returned(queue: Queue, entry: QueueEntry): void {
    if (this.messageStore && queue.storesMessages && entry.message.persistent) {
      this.messageStore.returned(entry.message, queue, entry.deliveryCount);
    }
  }

  addVhost(name: string): VHost {
    const existing = this.vhosts.get(name);
    if (existing) return existing;
    const problem = nameProblem('vhost', name);
    if (problem) throw preconditionFailed(problem);
    if (this.writeAlarm) throw this.writeRefusal('new vhosts');
    const vhost = new VHost(name, this);
    this.vhosts.set(name, vhost);
    this.definitionChanged({ kind: 'vhost', vhost, deleted: false });
    return vhost;
  }

  vhost(name: string): VHost {
    const vhost = this.vhosts.get(name);
    if (!vhost) throw notFound(`no vhost '${name}'`);
    return vhost;
  }

  deleteVhost(name: string): void {
    const vhost = this.vhost(name);
    for (const queue of [...vhost.queues.keys()]) vhost.deleteQueue(queue);
    for (const exchange of vhost.exchanges.values()) exchange.scheduled?.drop();
    this.vhosts.delete(name);
    vhost.tracer.close('vhost deleted');
    this.definitionChanged({ kind: 'vhost', vhost, deleted: true });
  }
}
