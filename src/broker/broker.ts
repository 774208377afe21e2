import { notFound, preconditionFailed } from './errors.js';
import { nameProblem } from './names.js';
import { MessageStats } from './message-stats.js';
import type { DefinitionChange, DefinitionsObserver, MessageStore } from './persistence.js';
import type { Queue, QueueEntry, QueueObserver } from './queue.js';
import { VHost } from './vhost.js';

export interface BrokerOptions {
  /** Largest message body accepted, in bytes (default 16 MiB). */
  readonly maxBodySize?: number;
  /** Where persistent messages in durable queues go; none keeps everything in memory. */
  readonly messageStore?: MessageStore | undefined;
  /** Told of every durable definition change (the definitions log). */
  readonly definitions?: DefinitionsObserver | undefined;
}

export const DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

/**
 * The whole broker state: its vhosts. Owns what is broker-wide: message ids, limits, the cluster name,
 * and the hand-off of persistent messages and durable definitions to the stores it was built with.
 */
export class Broker implements QueueObserver {
  readonly vhosts = new Map<string, VHost>();
  readonly maxBodySize: number;
  /** Broker-wide counters; they outlive the queues, exchanges and connections that feed them. */
  readonly stats = new MessageStats();
  readonly messageStore: MessageStore | undefined;
  /** Set while free disk space is below its limit: persistent publishes are refused. */
  diskAlarm = false;
  /** Set while memory is above its high watermark: publishing connections are not read. */
  memoryAlarm = false;
  private readonly definitions: DefinitionsObserver | undefined;
  private lastMessageId = 0;
  private currentClusterName: string | undefined;

  constructor(options: BrokerOptions = {}) {
    this.maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    this.messageStore = options.messageStore;
    this.definitions = options.definitions;
    this.addVhost('/');
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
    this.currentClusterName = name;
    this.definitionChanged({ kind: 'cluster-name', name });
  }

  settled(queue: Queue, entry: QueueEntry): void {
    if (this.messageStore && queue.storesMessages && entry.message.persistent) this.messageStore.remove(entry.message, queue);
  }

  delivered(queue: Queue, entry: QueueEntry): void {
    if (this.messageStore && queue.storesMessages && entry.message.persistent) this.messageStore.delivered(entry.message, queue);
  }

  addVhost(name: string): VHost {
    const existing = this.vhosts.get(name);
    if (existing) return existing;
    const problem = nameProblem('vhost', name);
    if (problem) throw preconditionFailed(problem);
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
    this.vhosts.delete(name);
    this.definitionChanged({ kind: 'vhost', vhost, deleted: true });
  }
}
