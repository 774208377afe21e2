import { EventEmitter } from 'node:events';
import type { Etcd3, Watcher } from 'etcd3';
import { ClusterError, etcdFailure } from './cluster-errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { decodeLeader, type LeaderRecord } from './leader-record.js';

interface LeaderWatchEvents {
  /** The leader key changed: a new leader, or none (the key was deleted or its lease expired). */
  change: [leader: LeaderRecord | undefined];
  error: [error: ClusterError];
}

/**
 * Follows the leader key. It starts from a read and watches from the revision after it, so no change
 * between the two is missed; the etcd client resumes the watch from its last revision after a reconnect.
 */
export class LeaderWatch extends EventEmitter<LeaderWatchEvents> {
  private current: LeaderRecord | undefined;

  private constructor(private readonly watcher: Watcher, initial: LeaderRecord | undefined) {
    super();
    this.current = initial;
    watcher.on('put', (kv) => {
      try {
        this.set(decodeLeader(kv));
      } catch (error) {
        this.emit('error', etcdFailure('reading the leader key', error));
      }
    });
    watcher.on('delete', () => this.set(undefined));
    watcher.on('error', (error) => this.emit('error', etcdFailure('watching the leader key', error)));
  }

  static async start(client: Etcd3, keys: ClusterKeys): Promise<LeaderWatch> {
    try {
      const response = await client.get(keys.leader).exec();
      const kv = response.kvs[0];
      const initial = kv ? decodeLeader(kv) : undefined;
      const next = (BigInt(response.header.revision) + 1n).toString();
      const watcher = await client.watch().key(keys.leader).startRevision(next).create();
      return new LeaderWatch(watcher, initial);
    } catch (error) {
      throw etcdFailure('watching the leader key', error);
    }
  }

  get leader(): LeaderRecord | undefined {
    return this.current;
  }

  close(): Promise<void> {
    return this.watcher.cancel();
  }

  private set(leader: LeaderRecord | undefined): void {
    const before = this.current;
    if (before?.epoch === leader?.epoch && before?.nodeId === leader?.nodeId) return;
    this.current = leader;
    this.emit('change', leader);
  }
}
