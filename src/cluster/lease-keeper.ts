import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';
import { LeaseSlot, LeaseStateCode, SHARED_BYTES, monotonicNow, parseWorkerMessage, type LeaseWorkerData, type MainToWorker } from './lease-protocol.js';

export interface LeaseKeeperOptions {
  readonly endpoints: readonly string[];
  readonly ttlSeconds: number;
  /** The compiled worker script; by default `lease-worker.js` beside this module (tests name dist's). */
  readonly workerUrl?: URL;
  /** The worker gives the lease up when this thread's event loop has not run for this long (default 3 × TTL; 0: never). */
  readonly maxMainStallMs?: number;
  /** The worker gives the lease up when a disk write reported busy is older than this (default 10 s; 0: never). */
  readonly diskStallMs?: number;
}

const HEARTBEAT_MS = 250;
const DEFAULT_DISK_STALL_MS = 10_000;

interface LeaseKeeperEvents {
  /** The lease is gone (expired, revoked by someone else, unconfirmable, or the worker died). Told once. */
  lost: [reason: string];
}

/**
 * The node's etcd lease, kept alive by a worker thread (see lease-worker.ts for why). Everything the node
 * holds in etcd — its membership key, the leader key — is attached to this one lease, so when it goes they
 * all go together, and `lost` tells the main thread as soon as the worker knows.
 */
export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  private readonly slots: BigInt64Array;
  private lostReason: string | undefined;
  private stopping: Promise<void> | undefined;
  private exited = false;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    readonly leaseId: string,
    readonly ttlSeconds: number,
    private readonly worker: Worker,
    shared: SharedArrayBuffer,
  ) {
    super();
    this.slots = new BigInt64Array(shared);
    // Only a timer on this thread's event loop proves the loop runs; unref'd, it keeps no process alive.
    this.heartbeat = setInterval(() => beat(this.slots), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Starts the worker and waits for etcd to grant the lease. */
  static async grant(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 2) {
      throw new RangeError(`lease TTL must be an integer of at least 2 seconds (etcd's minimum), got ${options.ttlSeconds}`);
    }
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    const data: LeaseWorkerData = {
      endpoints: [...options.endpoints],
      ttlSeconds: options.ttlSeconds,
      shared,
      maxMainStallMs: options.maxMainStallMs ?? options.ttlSeconds * 3000,
      diskStallMs: options.diskStallMs ?? DEFAULT_DISK_STALL_MS,
    };
    beat(new BigInt64Array(shared));
    const worker = new Worker(options.workerUrl ?? new URL('./lease-worker.js', import.meta.url), { workerData: data });
    const leaseId = await new Promise<string>((resolve, reject) => {
      const fail = (error: ClusterError): void => {
        worker.removeAllListeners();
        void worker.terminate();
        reject(error);
      };
      worker.on('error', (error) => fail(new ClusterError(ClusterErrorCodes.LEASE_WORKER_FAILED, `lease worker failed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => fail(new ClusterError(ClusterErrorCodes.LEASE_WORKER_FAILED, `lease worker exited (code ${code}) before the lease was granted`)));
      worker.on('message', (raw: unknown) => {
        const message = parseWorkerMessage(raw);
        if (message?.type === 'granted') {
          worker.removeAllListeners();
          resolve(message.leaseId);
        } else if (message?.type === 'grant-failed') {
          fail(new ClusterError(ClusterErrorCodes.ETCD_UNAVAILABLE, `etcd did not grant a lease: ${message.message}`));
        }
      });
    });
    const keeper = new LeaseKeeper(leaseId, options.ttlSeconds, worker, shared);
    keeper.listen();
    return keeper;
  }

  /**
   * Whether the lease is surely alive in etcd at this instant. Synchronous and current even when this
   * thread's event loop was stalled: it reads what the worker published, not a message queued for later.
   * Anything only the lease's holder may do (confirm as leader) checks this first.
   */
  isValid(): boolean {
    if (this.lostReason !== undefined) return false;
    if (Atomics.load(this.slots, LeaseSlot.STATE) !== LeaseStateCode.ALIVE) return false;
    return monotonicNow() < Number(Atomics.load(this.slots, LeaseSlot.VALID_UNTIL));
  }

  /** Why the lease was lost, once it was. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  /** Throws `LEASE_LOST` unless `isValid()`. */
  assertValid(): void {
    if (!this.isValid()) throw new ClusterError(ClusterErrorCodes.LEASE_LOST, `lease ${this.leaseId} is lost: ${this.lostReason ?? 'its deadline has passed'}`);
  }

  /**
   * Tells the worker since when the oldest disk write this node waits for has been in flight (a
   * `monotonicNow()` time), or `undefined` when none is. A write older than `diskStallMs` makes the worker
   * give the lease up: a leader whose disk stopped answering hands over rather than hold every publisher.
   */
  diskBusySince(since: number | undefined): void {
    Atomics.store(this.slots, LeaseSlot.IO_PENDING_SINCE, since === undefined ? 0n : BigInt(Math.max(1, Math.floor(since))));
  }

  /** A clean leave: the lease is revoked, so every key on it goes at once rather than after the TTL. */
  revoke(): Promise<void> {
    return this.stop({ type: 'revoke' }, 'revoked by this node');
  }

  /** Stops keeping the lease alive without revoking it: it expires after its TTL, as a crashed node's would. */
  abandon(): Promise<void> {
    return this.stop({ type: 'abandon' }, 'abandoned by this node');
  }

  private stop(message: MainToWorker, reason: string): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.markLost(reason);
      // A worker that found the lease lost has already finished.
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage(message);
      // A worker that does not finish on its own (etcd unreachable while revoking) is ended.
      const timer = setTimeout(() => void this.worker.terminate(), 5000);
      timer.unref();
    });
    return this.stopping;
  }

  private listen(): void {
    this.worker.on('message', (raw: unknown) => {
      const message = parseWorkerMessage(raw);
      if (message?.type === 'lost') this.markLost(message.reason);
    });
    this.worker.on('error', (error) => this.markLost(`lease worker failed: ${error.message}`));
    this.worker.on('exit', () => {
      this.exited = true;
      this.markLost('lease worker exited');
    });
  }

  private markLost(reason: string): void {
    if (this.lostReason !== undefined) return;
    clearInterval(this.heartbeat);
    this.lostReason = reason;
    this.emit('lost', reason);
  }
}

function beat(slots: BigInt64Array): void {
  Atomics.store(slots, LeaseSlot.MAIN_BEAT, BigInt(Math.floor(monotonicNow())));
}
