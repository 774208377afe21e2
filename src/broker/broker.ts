import { notFound } from './errors.js';
import type { QueueObserver } from './queue.js';
import { VHost } from './vhost.js';

export interface BrokerOptions {
  /** Largest message body accepted, in bytes (default 16 MiB). */
  readonly maxBodySize?: number;
  readonly queueObserver?: QueueObserver;
}

export const DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024;

const noObserver: QueueObserver = { settled: () => undefined };

/** The whole broker state: its vhosts. Owns what is broker-wide, such as message ids and limits. */
export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly maxBodySize: number;
  readonly queueObserver: QueueObserver;
  private lastMessageId = 0;

  constructor(options: BrokerOptions = {}) {
    this.maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    this.queueObserver = options.queueObserver ?? noObserver;
    this.addVhost('/');
  }

  nextMessageId(): number {
    return ++this.lastMessageId;
  }

  addVhost(name: string): VHost {
    const existing = this.vhosts.get(name);
    if (existing) return existing;
    const vhost = new VHost(name, this);
    this.vhosts.set(name, vhost);
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
  }
}
