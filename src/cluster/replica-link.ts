import type { Socket } from 'node:net';
import { sendCatchUp, type FrameSink, type SnapshotPoint } from './catch-up-sender.js';
import { FrameReader } from './cluster-frames.js';
import type { ClusterLog } from './cluster-log.js';
import { decodeAck, decodeInventory, jsonFrame, MAX_FRAME, parseJson, ReplicationFrameTypes, type Inventory } from './replication-frames.js';

export type LinkPhase = 'awaiting-inventory' | 'catching-up' | 'streaming' | 'closed';

/** What a link needs from the replicator that owns it. */
export interface LinkOwner {
  readonly epoch: bigint;
  readonly dataDir: string;
  readonly maxBufferBytes: number;
  /** Called when the follower's inventory arrives: resolves when catch-up may start (the follower is out of the ISR). */
  beforeCatchUp(link: ReplicaLink): Promise<void>;
  snapshotPoint(): SnapshotPoint;
  localSynced(): Promise<void>;
  /** The highest sequence told so far. */
  currentSeq(): number;
  acked(link: ReplicaLink): void;
  snapshotSent(link: ReplicaLink): void;
  closed(link: ReplicaLink, reason: string): void;
  readonly log: ClusterLog;
}

/** Catch-up waits for the socket to drain below this before reading the next chunk. */
const CATCH_UP_HIGH_WATER = 8 * 1024 * 1024;
/** Catch-up gives up on a follower whose socket has not drained for this long. */
const CATCH_UP_STALL_MS = 30_000;

/**
 * The leader's end of one follower's replicate connection. Writes never wait: frames go to the socket's
 * own buffer (or, during catch-up, to this link's list of entries after P), and when what is waiting
 * passes `maxBufferBytes` the link is closed — a slow follower is dropped, it never slows the leader.
 */
export class ReplicaLink {
  phase: LinkPhase = 'awaiting-inventory';
  /** The highest sequence the follower says it has fsynced (with everything before it). */
  ackedSeq = 0;
  sentSeq = 0;
  /** Once streaming: the follower is caught up when it has acked this. */
  joinTarget = 0;
  /** The follower acked the snapshot: its files hold the leader's at the snapshot point, fsynced. */
  snapshotApplied = false;
  private readonly reader = new FrameReader(MAX_FRAME);
  private held: Buffer[] = [];
  private heldBytes = 0;
  private snapshotSeq = 0;
  /** Entries after the snapshot point are held from the moment it is taken until the snapshot is sent. */
  private snapshotTaken = false;
  private closeReason: string | undefined;

  constructor(
    readonly nodeId: string,
    private readonly socket: Socket,
    leftover: Buffer,
    private readonly owner: LinkOwner,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.received(data));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close('the connection closed'));
    if (leftover.length > 0) queueMicrotask(() => this.received(leftover));
    // The cluster port hands sockets over paused (leftover first); a 'data' listener alone does not resume them.
    queueMicrotask(() => socket.resume());
  }

  get bufferedBytes(): number {
    return this.heldBytes + this.socket.writableLength;
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** One entry, already framed; the same buffer goes to every follower. */
  send(seq: number, frame: Buffer): void {
    if (this.phase === 'streaming') {
      this.socket.write(frame);
      this.sentSeq = seq;
    } else if (this.phase === 'catching-up' && this.snapshotTaken && seq > this.snapshotSeq) {
      this.held.push(frame);
      this.heldBytes += frame.length;
    } else {
      return;
    }
    if (this.bufferedBytes > this.owner.maxBufferBytes) this.close(`send buffer over ${this.owner.maxBufferBytes} bytes`);
  }

  sendControl(type: number, value: unknown): void {
    if (!this.closed) this.socket.write(jsonFrame(type as (typeof ReplicationFrameTypes)[keyof typeof ReplicationFrameTypes], value));
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeReason = reason;
    this.held = [];
    this.heldBytes = 0;
    if (!this.socket.destroyed) {
      this.socket.end(jsonFrame(ReplicationFrameTypes.ABORT, { reason }));
      this.socket.destroySoon();
      // A follower that stopped reading never lets `end` finish: do not keep its socket around for it.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.owner.closed(this, reason);
  }

  get reason(): string | undefined {
    return this.closeReason;
  }

  private received(data: Buffer): void {
    if (this.closed) return;
    try {
      for (const frame of this.reader.read(data)) {
        switch (frame.type) {
          case ReplicationFrameTypes.INVENTORY:
            if (this.phase !== 'awaiting-inventory') throw new Error('a second inventory');
            this.catchUp(decodeInventory(frame.payload));
            break;
          case ReplicationFrameTypes.ACK: {
            const ack = decodeAck(frame.payload);
            if (ack.epoch !== this.owner.epoch) throw new Error(`ack for epoch ${ack.epoch}, this leader's is ${this.owner.epoch}`);
            if (this.phase !== 'streaming') throw new Error('an ack before the snapshot was sent');
            // The first ack (of the snapshot point) says the whole snapshot is on the follower's disk.
            this.snapshotApplied = true;
            if (ack.seq > this.ackedSeq) this.ackedSeq = ack.seq;
            this.owner.acked(this);
            break;
          }
          case ReplicationFrameTypes.ABORT: {
            const reason = parseJson(frame.payload, 'abort').reason;
            this.close(`the follower gave up: ${typeof reason === 'string' ? reason : 'no reason'}`);
            return;
          }
          default:
            throw new Error(`unexpected frame type ${frame.type}`);
        }
      }
    } catch (error) {
      this.close(`protocol error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private catchUp(inventory: Inventory): void {
    this.phase = 'catching-up';
    void this.runCatchUp(inventory).catch((error: unknown) => this.close(`catch-up failed: ${error instanceof Error ? error.message : String(error)}`));
  }

  private async runCatchUp(inventory: Inventory): Promise<void> {
    await this.owner.beforeCatchUp(this);
    if (this.closed) return;
    const point = this.owner.snapshotPoint();
    this.snapshotSeq = point.seq;
    this.snapshotTaken = true;
    const started = Date.now();
    const result = await sendCatchUp({ dataDir: this.owner.dataDir, epoch: this.owner.epoch, point, inventory, sink: this.sink(), localSynced: () => this.owner.localSynced() });
    if (this.closed) return;
    for (const frame of this.held) this.socket.write(frame);
    this.held = [];
    this.heldBytes = 0;
    this.phase = 'streaming';
    this.sentSeq = this.owner.currentSeq();
    this.joinTarget = this.owner.currentSeq();
    this.owner.log.info({ follower: this.nodeId, snapshotSeq: point.seq, chunks: result.chunks, bytes: result.bytes, ms: Date.now() - started }, 'replication: catch-up sent');
    this.owner.snapshotSent(this);
  }

  private sink(): FrameSink {
    const socket = this.socket;
    const link = this;
    return {
      write: (frame) => {
        if (Array.isArray(frame)) for (const part of frame) socket.write(part);
        else socket.write(frame);
      },
      drained: () =>
        new Promise<void>((resolve) => {
          if (socket.writableLength < CATCH_UP_HIGH_WATER || this.closed) {
            resolve();
            return;
          }
          const done = (): void => {
            clearTimeout(timer);
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          // A follower that stops reading during catch-up would otherwise hold its file handles for ever.
          const timer = setTimeout(() => {
            this.close(`catch-up stalled: the follower read nothing for ${CATCH_UP_STALL_MS} ms`);
            done();
          }, CATCH_UP_STALL_MS);
          socket.on('drain', done);
          socket.on('close', done);
        }),
      get closed() {
        return link.closed || socket.destroyed;
      },
    };
  }
}
