import type { Socket } from 'node:net';
import type { StoreChange, StoreChangeObserver } from '../store/store-changes.js';
import type { SnapshotPoint } from './catch-up-sender.js';
import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';
import { ReplicaLink, type LinkOwner } from './replica-link.js';
import type { ClusterLog } from './cluster-log.js';
import { encodeEntry, ReplicationFrameTypes } from './replication-frames.js';

export interface ReplicatorOptions {
  readonly selfId: string;
  readonly epoch: bigint;
  readonly dataDir: string;
  /** ISR members, the leader included, a confirm needs. */
  readonly minInsync: number;
  /** A follower with entries outstanding and no ack for this long leaves the ISR. */
  readonly ackTimeoutMs: number;
  /** Per follower: bytes waiting to be sent before it is dropped (default 64 MiB). */
  readonly maxBufferBytes?: number;
  isLeader(): boolean;
  /** The coordinator's leader-guarded ISR write; rejects when etcd refuses or cannot be reached. */
  changeIsr(members: readonly string[]): Promise<unknown>;
  readonly initialIsr: readonly string[];
  /** Resolves once every write the store has told so far is in its files (DurableState.synced). */
  localSynced(): Promise<void>;
  readonly log: ClusterLog;
}

export type FollowerState = 'catching-up' | 'in-sync' | 'out-of-sync';

export interface FollowerStatus {
  readonly nodeId: string;
  readonly state: FollowerState;
  readonly connected: boolean;
  readonly inIsr: boolean;
  readonly sentSeq: number;
  readonly ackedSeq: number;
  readonly bufferedBytes: number;
}

export interface ReplicationStatus {
  readonly epoch: string;
  readonly seq: number;
  readonly isr: readonly string[];
  readonly followers: readonly FollowerStatus[];
}

interface Waiter {
  readonly target: number;
  resolve(): void;
  reject(error: Error): void;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/**
 * The leader's side of replication. The store tells it every change to its files; it frames each once
 * (epoch, sequence) and hands the same buffer to every follower's link. It tracks what each ISR member
 * has fsynced, and it alone changes the ISR: a follower that falls behind is removed in etcd before any
 * confirm that waited for it is released, and one that caught up is added in etcd before it counts.
 */
export class Replicator implements StoreChangeObserver {
  private seqNow = 0;
  private readonly links = new Map<string, ReplicaLink>();
  private readonly isr: Set<string>;
  /** Caught-up followers whose addition to the ISR is being written: already waited for, not yet counted. */
  private readonly joining = new Set<string>();
  private readonly removing = new Set<string>();
  /** When each ISR member began to owe an ack without giving one. */
  private readonly waitingSince = new Map<string, number>();
  private waiters: Waiter[] = [];
  /** The highest sequence a released confirm covered: a follower joins only holding at least that. */
  private releasedThrough = 0;
  private isrWrites: Promise<unknown> = Promise.resolve();
  private readonly replaced = new Map<string, Buffer>();
  private readonly unlinked = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly owner: LinkOwner;
  onInSyncChange?: (count: number) => void;

  constructor(private readonly o: ReplicatorOptions) {
    this.owner = {
      epoch: o.epoch,
      dataDir: o.dataDir,
      maxBufferBytes: o.maxBufferBytes ?? DEFAULT_MAX_BUFFER,
      log: o.log,
      currentSeq: () => this.seqNow,
      beforeCatchUp: async (link) => {
        // Catch-up rewrites the follower's files: while it does, they are not a copy anyone may lead from.
        if (this.isr.has(link.nodeId)) await this.removeFromIsr(link.nodeId, 'it reconnected and catches up again');
        if (this.isr.has(link.nodeId)) throw new Error('could not take it out of the ISR before catch-up');
      },
      snapshotPoint: () => this.snapshotPoint(),
      localSynced: () => o.localSynced(),
      acked: (link) => this.acked(link),
      snapshotSent: (link) => this.acked(link),
      closed: (link, reason) => {
        if (this.links.get(link.nodeId) !== link) return;
        this.links.delete(link.nodeId);
        this.joining.delete(link.nodeId);
        if (this.closed) return;
        o.log.info({ follower: link.nodeId, reason }, 'replication: follower disconnected');
        // An ISR member that owes acks on a link that is gone will never give them: out at once, not after the timeout.
        if (this.isr.has(link.nodeId) && link.ackedSeq < this.seqNow) void this.removeFromIsr(link.nodeId, reason);
        this.settleAll();
      },
    };
    this.isr = new Set([...o.initialIsr, o.selfId]);
    const now = Date.now();
    for (const member of this.isr) if (member !== o.selfId) this.waitingSince.set(member, now);
    this.timer = setInterval(() => this.checkAcks(), Math.max(10, Math.min(1000, Math.floor(o.ackTimeoutMs / 4))));
    this.timer.unref();
  }

  get inSyncCount(): number {
    return this.isr.size;
  }

  get seq(): number {
    return this.seqNow;
  }

  change(change: StoreChange): void {
    if (this.closed) return;
    this.seqNow += 1;
    const seq = this.seqNow;
    const frame = encodeEntry(this.o.epoch, seq, change);
    this.track(change, frame);
    for (const link of this.links.values()) link.send(seq, frame);
    const now = Date.now();
    for (const member of this.isr) if (member !== this.o.selfId && !this.waitingSince.has(member)) this.waitingSince.set(member, now);
    for (const member of this.joining) if (!this.waitingSince.has(member)) this.waitingSince.set(member, now);
  }

  acceptReplica(socket: Socket, nodeId: string, leftover: Buffer): void {
    if (this.closed || nodeId === this.o.selfId) {
      socket.destroy();
      return;
    }
    this.links.get(nodeId)?.close('replaced by a new connection from the same node');
    const link = new ReplicaLink(nodeId, socket, leftover, this.owner);
    this.links.set(nodeId, link);
    this.o.log.info({ follower: nodeId }, 'replication: follower connected');
  }

  /**
   * Resolves when every ISR member but this node has fsynced every entry told so far. Rejects with
   * NOT_IN_SYNC when the ISR has fewer than min-insync members, NOT_LEADER when this node is not leader
   * at the instant it would resolve. Call it after the local write is on disk (the store tells a change
   * when its write starts), as ClusterBarrier does.
   */
  replicated(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { target: this.seqNow, resolve, reject };
      if (!this.settle(waiter)) this.waiters.push(waiter);
    });
  }

  status(): ReplicationStatus {
    const followers: FollowerStatus[] = [];
    const nodes = new Set([...this.isr, ...this.links.keys()]);
    nodes.delete(this.o.selfId);
    for (const nodeId of [...nodes].sort()) {
      const link = this.links.get(nodeId);
      const inIsr = this.isr.has(nodeId);
      const state: FollowerState = link && link.phase !== 'streaming' ? 'catching-up' : inIsr ? 'in-sync' : link ? 'catching-up' : 'out-of-sync';
      followers.push({ nodeId, state, connected: link !== undefined, inIsr, sentSeq: link?.sentSeq ?? 0, ackedSeq: link?.ackedSeq ?? 0, bufferedBytes: link?.bufferedBytes ?? 0 });
    }
    return { epoch: this.o.epoch.toString(), seq: this.seqNow, isr: [...this.isr].sort(), followers };
  }

  /** Closes every link; confirms still waiting are rejected (NOT_LEADER: this node stops leading). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const link of [...this.links.values()]) link.close('the leader is closing');
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new ClusterError(ClusterErrorCodes.NOT_LEADER, 'replication closed: this node no longer leads'));
    await this.isrWrites.catch(() => undefined);
  }

  private snapshotPoint(): SnapshotPoint {
    return { seq: this.seqNow, replaced: new Map(this.replaced), unlinked: new Set(this.unlinked) };
  }

  /** What catch-up must know about changes whose effect may not be in the directory yet. */
  private track(change: StoreChange, frame: Buffer): void {
    const { file } = change;
    if (change.kind === 'replace') {
      const nameLength = frame.readUInt16BE(5 + 17);
      this.replaced.set(file, frame.subarray(5 + 19 + nameLength));
      this.unlinked.delete(file);
    } else if (change.kind === 'unlink') {
      this.replaced.delete(file);
      this.unlinked.add(file);
    } else {
      this.replaced.delete(file);
      this.unlinked.delete(file);
    }
  }

  private acked(link: ReplicaLink): void {
    const nodeId = link.nodeId;
    if (this.links.get(nodeId) !== link) return;
    if (this.isr.has(nodeId) || this.joining.has(nodeId)) {
      if (link.ackedSeq >= this.seqNow) this.waitingSince.delete(nodeId);
      else this.waitingSince.set(nodeId, Date.now());
    }
    if (link.snapshotApplied && !this.isr.has(nodeId) && !this.joining.has(nodeId) && !this.removing.has(nodeId)) {
      if (link.ackedSeq >= link.joinTarget && link.ackedSeq >= this.releasedThrough) this.join(link);
    }
    this.settleAll();
  }

  private join(link: ReplicaLink): void {
    const nodeId = link.nodeId;
    this.joining.add(nodeId);
    if (link.ackedSeq < this.seqNow) this.waitingSince.set(nodeId, Date.now());
    this.enqueueIsrWrite(async () => {
      if (!this.joining.has(nodeId) || this.links.get(nodeId) !== link) return;
      try {
        await this.o.changeIsr([...this.isr, nodeId].sort());
      } catch (error) {
        this.joining.delete(nodeId);
        this.waitingSince.delete(nodeId);
        this.o.log.warn({ follower: nodeId, err: error }, 'replication: could not add a caught-up follower to the ISR; it will be tried again on its next ack');
        this.settleAll();
        return;
      }
      this.joining.delete(nodeId);
      this.isr.add(nodeId);
      this.o.log.info({ follower: nodeId, isr: [...this.isr].sort() }, 'replication: follower in sync, added to the ISR');
      link.sendControl(ReplicationFrameTypes.IN_SYNC, { epoch: this.o.epoch.toString() });
      this.onInSyncChange?.(this.isr.size);
      this.settleAll();
    });
  }

  /** Resolves once the member is out of the ISR in etcd, or the write failed (then it is still in). */
  private removeFromIsr(nodeId: string, reason: string): Promise<void> {
    if (!this.isr.has(nodeId) || this.removing.has(nodeId)) return this.isrWrites.then(() => undefined, () => undefined);
    this.removing.add(nodeId);
    return this.enqueueIsrWrite(async () => {
      try {
        await this.o.changeIsr([...this.isr].filter((member) => member !== nodeId).sort());
      } catch (error) {
        this.o.log.warn({ follower: nodeId, reason, err: error }, 'replication: could not remove a follower from the ISR; confirms waiting for it stay waiting');
        return;
      } finally {
        this.removing.delete(nodeId);
      }
      this.isr.delete(nodeId);
      this.waitingSince.delete(nodeId);
      this.o.log.warn({ follower: nodeId, reason, isr: [...this.isr].sort() }, 'replication: follower removed from the ISR');
      this.onInSyncChange?.(this.isr.size);
      this.settleAll();
    });
  }

  private enqueueIsrWrite(write: () => Promise<void>): Promise<void> {
    const next = this.isrWrites.then(write, write);
    this.isrWrites = next;
    return next;
  }

  private checkAcks(): void {
    const now = Date.now();
    for (const [nodeId, since] of this.waitingSince) {
      if (now - since < this.o.ackTimeoutMs) continue;
      const link = this.links.get(nodeId);
      const reason = `no ack within ${this.o.ackTimeoutMs} ms`;
      if (this.joining.has(nodeId)) {
        this.joining.delete(nodeId);
        this.waitingSince.delete(nodeId);
        link?.close(reason);
        this.settleAll();
      } else if (this.isr.has(nodeId)) {
        link?.close(reason);
        void this.removeFromIsr(nodeId, reason);
      } else {
        this.waitingSince.delete(nodeId);
      }
    }
  }

  private settleAll(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => !this.settle(waiter));
  }

  /** Resolves or rejects the waiter if its outcome is known now; true if it did. */
  private settle(waiter: Waiter): boolean {
    if (this.closed) {
      waiter.reject(new ClusterError(ClusterErrorCodes.NOT_LEADER, 'replication closed: this node no longer leads'));
      return true;
    }
    if (this.isr.size < this.o.minInsync) {
      waiter.reject(new ClusterError(ClusterErrorCodes.NOT_IN_SYNC, `only ${this.isr.size} in-sync replicas, min-insync is ${this.o.minInsync}`));
      return true;
    }
    for (const member of [...this.isr, ...this.joining]) {
      if (member === this.o.selfId) continue;
      const acked = this.links.get(member)?.ackedSeq ?? 0;
      if (acked < waiter.target) return false;
    }
    if (!this.o.isLeader()) {
      waiter.reject(new ClusterError(ClusterErrorCodes.NOT_LEADER, `${this.o.selfId} is not the leader`));
      return true;
    }
    if (waiter.target > this.releasedThrough) this.releasedThrough = waiter.target;
    waiter.resolve();
    return true;
  }
}
