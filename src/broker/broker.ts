import { notFound } from './errors.js';
import { MessageStats } from './message-stats.js';
import type { DefinitionsObserver, MessageStore } from './persistence.js';
import type { Queue, QueueEntry, QueueObserver } from './queue.js';
import { VHost } from './vhost.js';

export interface BrokerOptions {
  /** Largest message body accepted, in bytes (default 16 MiB). */
  readonly maxBodySize?: number;
}

export const DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

/**
 * The whole broker state: its vhosts. Owns what is broker-wide: message ids, limits, and the hand-off
 * of persistent messages and durable definitions to the stores (attached after construction, so
 * recovery can replay definitions through the same vhost methods before anything is written).
 */
export class Broker implements QueueObserver {
  readonly vhosts = new Map<string, VHost>();
  readonly maxBodySize: number;
  /** Broker-wide counters; they outlive the queues, exchanges and connections that feed them. */
  readonly stats = new MessageStats();
  messageStore: MessageStore | undefined;
  definitionsObserver: DefinitionsObserver | undefined;
  /** Set while free disk space is below its limit: persistent publishes are refused. */
  diskAlarm = false;
  /** Set while memory is above its high watermark: publishing connections are not read. */
  memoryAlarm = false;
  private lastMessageId = 0;

  constructor(options: BrokerOptions = {}) {
    this.maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
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

  definitionsChanged(): void {
    this.definitionsObserver?.definitionsChanged();
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
    const vhost = new VHost(name, this);
    this.vhosts.set(name, vhost);
    this.definitionsChanged();
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
    this.definitionsChanged();
  }
}
