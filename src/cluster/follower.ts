import { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { takeInventory } from './file-inventory.js';
import { FrameReader } from './cluster-frames.js';
import { ReplicaWriter } from './replica-writer.js';
import type { ClusterLog } from './cluster-log.js';
import {
  decodeChunk,
  decodeEntry,
  decodePlan,
  encodeAck,
  jsonFrame,
  MAX_FRAME,
  parseJson,
  ReplicationFrameTypes,
  ReplicationProtocolError,
  type CatchUpPlan,
} from './replication-frames.js';

/** What `connectClusterPort` (cluster-port.ts) gives: an authenticated replicate connection. */
export interface ReplicaConnection {
  readonly socket: Socket;
  readonly leftover: Buffer;
  readonly server: { readonly nodeId: string; readonly epoch: string };
}

export type ConnectReplica = (o: { host: string; port: number; nodeId: string; secret: Buffer; purpose: 'replicate' }) => Promise<ReplicaConnection>;

export interface FollowerOptions {
  readonly dataDir: string;
  readonly nodeId: string;
  readonly secret: Buffer;
  readonly log: ClusterLog;
  /** How the link is opened; default: the cluster port's handshake. Tests connect plain sockets. */
  readonly connect?: ConnectReplica;
  /** Passed to the replica writer: how a file is made durable (a test slows it). */
  readonly sync?: (file: string, handle: FileHandle) => Promise<void>;
  /** Bytes received and not yet written above which the follower stops reading (default 64 MiB). */
  readonly maxQueuedBytes?: number;
}

interface FollowerEvents {
  'in-sync': [epoch: string];
  disconnected: [reason: string];
}

/** The cluster port is helper P's; loaded lazily so that this file builds and tests without it. */
const defaultConnect: ConnectReplica = async (o) => {
  const modulePath = './cluster-port.js';
  const port = (await import(modulePath)) as { connectClusterPort: ConnectReplica };
  return port.connectClusterPort(o);
};

/**
 * A follower's end of replication: connects to the leader, sends its inventory, applies the catch-up
 * (deletes first, then chunks verified by their CRC-32, then each file cut to the leader's size, all
 * fsynced), then applies live entries with group commit and acks the highest fsynced sequence. It
 * refuses anything from an epoch lower than the highest it has seen.
 */
export class Follower extends EventEmitter<FollowerEvents> {
  private highestEpoch = 0n;
  private current: { socket: Socket; writer: ReplicaWriter; end(reason: string): void } | undefined;
  private stopping = false;

  constructor(private readonly o: FollowerOptions) {
    super();
  }

  /** Resolves when the link ends (the leader went away, refused us, a lower epoch, stop()); never rejects. */
  async follow(leader: { host: string; port: number }): Promise<void> {
    if (this.current) throw new Error('already following');
    this.stopping = false;
    let connection: ReplicaConnection;
    try {
      connection = await (this.o.connect ?? defaultConnect)({ host: leader.host, port: leader.port, nodeId: this.o.nodeId, secret: this.o.secret, purpose: 'replicate' });
    } catch (error) {
      this.emit('disconnected', `could not connect: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const { socket, leftover, server } = connection;
    if (this.stopping) {
      socket.destroy();
      this.emit('disconnected', 'stopped');
      return;
    }
    if (!/^\d+$/.test(server.epoch) || BigInt(server.epoch) < this.highestEpoch) {
      socket.destroy();
      this.emit('disconnected', `${server.nodeId} is not a leader of epoch ${this.highestEpoch} or later (epoch '${server.epoch}')`);
      return;
    }
    const epoch = BigInt(server.epoch);
    this.highestEpoch = epoch;
    await this.runLink(socket, leftover, epoch, server.nodeId);
  }

  /** Closes the link, waits for what was received to be written, fsyncs and closes every file. */
  async stop(): Promise<void> {
    this.stopping = true;
    const current = this.current;
    if (!current) return;
    current.end('stopped');
    await current.writer.close();
  }

  private runLink(socket: Socket, leftover: Buffer, epoch: bigint, leaderId: string): Promise<void> {
    const log = this.o.log;
    const maxQueued = this.o.maxQueuedBytes ?? 64 * 1024 * 1024;
    const reader = new FrameReader(MAX_FRAME);
    let plan: CatchUpPlan | undefined;
    let snapshotDone = false;
    let ended = false;
    let resolveEnded: () => void = () => undefined;
    const endedPromise = new Promise<void>((resolve) => (resolveEnded = resolve));

    const writer = new ReplicaWriter({
      dataDir: this.o.dataDir,
      ...(this.o.sync ? { sync: this.o.sync } : {}),
      onDurable: (seq) => {
        if (!ended) socket.write(encodeAck(epoch, seq));
        if (socket.isPaused() && writer.queuedBytes < maxQueued / 2 && !ended) socket.resume();
      },
      onError: (error) => end(`could not write the replica: ${error.message}`, true),
    });

    const end = (reason: string, tellLeader = false): void => {
      if (ended) return;
      ended = true;
      if (tellLeader && !socket.destroyed) socket.end(jsonFrame(ReplicationFrameTypes.ABORT, { reason }));
      else socket.destroy();
      setTimeout(() => socket.destroy(), 1000).unref();
      log.info({ leader: leaderId, epoch: epoch.toString(), reason }, 'replication: link to the leader ended');
      void writer.close().then(() => {
        if (this.current?.socket === socket) this.current = undefined;
        this.emit('disconnected', reason);
        resolveEnded();
      });
    };
    this.current = { socket, writer, end };

    const refuseLower = (frameEpoch: bigint): void => {
      if (frameEpoch < this.highestEpoch) throw new ReplicationProtocolError(`refused: epoch ${frameEpoch} is lower than ${this.highestEpoch}, already seen`);
      if (frameEpoch !== epoch) throw new ReplicationProtocolError(`epoch ${frameEpoch} on a link to the leader of epoch ${epoch}`);
    };

    const received = (data: Buffer): void => {
      if (ended) return;
      try {
        for (const frame of reader.read(data)) {
          switch (frame.type) {
            case ReplicationFrameTypes.PLAN: {
              if (plan) throw new ReplicationProtocolError('a second plan');
              plan = decodePlan(frame.payload);
              refuseLower(BigInt(plan.epoch));
              // Files the leader does not have go before anything is copied.
              for (const file of plan.deletes) writer.apply({ kind: 'unlink', file });
              break;
            }
            case ReplicationFrameTypes.CHUNK: {
              if (!plan || snapshotDone) throw new ReplicationProtocolError('a chunk outside catch-up');
              const chunk = decodeChunk(frame.payload);
              if (crc32(chunk.data) !== chunk.crc) throw new ReplicationProtocolError(`chunk of ${chunk.file} at ${chunk.position}: checksum mismatch`);
              writer.apply({ kind: 'write', file: chunk.file, position: chunk.position, data: [chunk.data] });
              break;
            }
            case ReplicationFrameTypes.SNAPSHOT_DONE: {
              if (!plan || snapshotDone) throw new ReplicationProtocolError('snapshot end without a plan');
              const { snapshotSeq } = parseJson(frame.payload, 'snapshot-done');
              if (snapshotSeq !== plan.snapshotSeq) throw new ReplicationProtocolError('snapshot end for another snapshot');
              snapshotDone = true;
              for (const { file, size } of plan.files) writer.apply({ kind: 'truncate', file, size });
              writer.apply(undefined, plan.snapshotSeq);
              break;
            }
            case ReplicationFrameTypes.ENTRY: {
              if (!snapshotDone) throw new ReplicationProtocolError('an entry before the snapshot');
              const entry = decodeEntry(frame.payload);
              refuseLower(entry.epoch);
              writer.apply(entry.change, entry.seq);
              break;
            }
            case ReplicationFrameTypes.IN_SYNC:
              log.info({ leader: leaderId, epoch: epoch.toString() }, 'replication: in sync');
              this.emit('in-sync', epoch.toString());
              break;
            case ReplicationFrameTypes.ABORT: {
              const { reason } = parseJson(frame.payload, 'abort');
              end(`the leader closed the link: ${typeof reason === 'string' ? reason : 'no reason'}`);
              return;
            }
            default:
              throw new ReplicationProtocolError(`unexpected frame type ${frame.type}`);
          }
        }
      } catch (error) {
        end(error instanceof Error ? error.message : String(error), true);
        return;
      }
      if (writer.queuedBytes > maxQueued) socket.pause();
    };

    socket.setNoDelay(true);
    socket.on('data', received);
    socket.on('error', (error) => end(`socket error: ${error.message}`));
    socket.on('close', () => end(this.stopping ? 'stopped' : 'the leader closed the connection'));
    if (leftover.length > 0) received(leftover);
    // connectClusterPort hands the socket over paused, leftover first: a 'data' listener alone does not resume it.
    socket.resume();
    void takeInventory(this.o.dataDir).then(
      (files) => {
        if (!ended) socket.write(jsonFrame(ReplicationFrameTypes.INVENTORY, { files }));
      },
      (error: unknown) => end(`could not take the inventory: ${error instanceof Error ? error.message : String(error)}`, true),
    );
    return endedPromise;
  }
}
