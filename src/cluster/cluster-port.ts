/**
 * The cluster port: where nodes reach each other, for replication and for client tunnels
 * (docs/cluster.md, "The cluster port"). Every connection starts with a challenge/hello handshake in
 * which the client proves it holds the cluster secret (HMAC over the server's fresh nonce); only then
 * is the socket handed over, with whatever bytes followed the handshake, to its owner.
 *
 * The port faces the network: anything may connect. A peer that sends garbage, a frame over 64 KiB,
 * a wrong mac or nothing at all within 10 s is refused and closed with one info line; nothing it sends
 * can throw past this file.
 */
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ClusterLog } from './cluster-log.js';
import { ClusterError, ClusterErrorCodes } from './cluster-errors.js';
import { encodeFrame, FrameError, FrameReader, HandshakeFrameTypes, type Frame } from './cluster-frames.js';
import {
  HandshakeRefusal,
  makeHello,
  newNonce,
  parseChallenge,
  parseRefusal,
  verifyHello,
  type ClusterPortPurpose,
  type Hello,
  type TunnelTarget,
} from './cluster-handshake.js';

export { encodeFrame, FrameError, FrameReader, HandshakeFrameTypes, type Frame } from './cluster-frames.js';
export type { ClusterPortPurpose, TunnelTarget } from './cluster-handshake.js';

/** The largest handshake frame accepted, either way. */
export const MAX_HANDSHAKE_FRAME_BYTES = 64 * 1024;
const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
/** A refused peer that does not close its end is dropped after this long. */
const REFUSED_LINGER_MS = 2_000;
const MIN_SECRET_BYTES = 16;

export interface ClusterPortListenerOptions {
  readonly nodeId: string;
  readonly secret: Buffer;
  /** This node's epoch as leader, '' when it is not the leader; sent in every challenge. */
  readonly epoch: () => string;
  readonly log: ClusterLog;
  /** A node that proved the secret wants the replication stream. The socket is paused; `leftover` came after its hello. */
  onReplica(socket: Socket, peerNodeId: string, leftover: Buffer): void;
  /** A node forwards a client connection. The socket is paused; `leftover` came after the hello. */
  onTunnel(socket: Socket, target: TunnelTarget, leftover: Buffer): void;
  /** How long a peer has to send its hello (default 10 s); tests shorten it. */
  readonly helloTimeoutMs?: number;
}

function peerOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

export class ClusterPortListener {
  private readonly server: Server;
  /** Sockets still in the handshake: they belong to this listener until handed over. */
  private readonly handshaking = new Set<Socket>();

  constructor(private readonly options: ClusterPortListenerOptions) {
    this.server = createServer({ noDelay: true }, (socket) => this.handshake(socket));
  }

  /** Resolves with the port bound (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting and drops connections still in the handshake; handed-over sockets are their owners'. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.handshaking) socket.destroy();
    await closed;
  }

  private handshake(socket: Socket): void {
    const { log } = this.options;
    const peer = peerOf(socket);
    this.handshaking.add(socket);
    const reader = new FrameReader(MAX_HANDSHAKE_FRAME_BYTES);
    const nonce = newNonce();
    let settled = false;

    const timer = setTimeout(() => refuse('no hello within the time allowed'), this.options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    timer.unref();
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      this.handshaking.delete(socket);
    };
    const refuse = (reason: string): void => {
      if (settled) return;
      finish();
      log.info({ peer }, `cluster port: refused ${peer}: ${reason}`);
      socket.end(encodeFrame(HandshakeFrameTypes.refused, JSON.stringify({ reason })));
      // Read and discard until the peer closes, so that it sees the refusal rather than a reset.
      socket.resume();
      setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
    };
    const handOver = (hello: Hello): void => {
      finish();
      // Whatever came after the hello belongs to the next owner, who starts reading when it is ready.
      socket.pause();
      const leftover = reader.takeRest();
      socket.write(encodeFrame(HandshakeFrameTypes.welcome, '{}'));
      log.debug({ peer, node: hello.nodeId, purpose: hello.purpose }, 'cluster port: peer accepted');
      if (hello.tunnel) this.options.onTunnel(socket, hello.tunnel, leftover);
      else this.options.onReplica(socket, hello.nodeId, leftover);
    };
    /** The verified hello once it is complete; undefined while it is still arriving. */
    const readHello = (chunk: Buffer): Hello | undefined => {
      const frame = reader.read(chunk).next().value;
      if (!frame) return undefined;
      if (frame.type !== HandshakeFrameTypes.hello) throw new HandshakeRefusal(`expected hello, got frame type ${frame.type}`);
      return verifyHello(frame.payload, this.options.secret, nonce);
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      let hello: Hello | undefined;
      try {
        hello = readHello(chunk);
      } catch (error) {
        if (error instanceof HandshakeRefusal || error instanceof FrameError) return refuse(error.message);
        log.error({ err: error, peer }, 'cluster port: handshake failed');
        return refuse('internal error');
      }
      if (!hello) return;
      try {
        handOver(hello);
      } catch (error) {
        // The owner's failure costs this connection, never the process.
        log.error({ err: error, peer }, 'cluster port: connection owner failed');
        socket.destroy();
      }
    };
    socket.on('data', onData);
    // After the hand-over this stays as a last resort: an owner's missing listener must not crash the process.
    socket.on('error', (error) => log.debug({ err: error, peer }, 'cluster port: socket error'));
    socket.on('close', () => {
      if (!settled) {
        finish();
        log.debug({ peer }, 'cluster port: peer left during the handshake');
      }
    });
    socket.write(encodeFrame(HandshakeFrameTypes.challenge, JSON.stringify({ nodeId: this.options.nodeId, epoch: this.options.epoch(), nonce })));
  }
}

export interface ConnectClusterPortOptions {
  readonly host: string;
  readonly port: number;
  readonly nodeId: string;
  readonly secret: Buffer;
  readonly purpose: ClusterPortPurpose;
  readonly tunnel?: TunnelTarget;
  /** Whole handshake, connect included (default 10 s). */
  readonly timeoutMs?: number;
}

export interface ClusterPortConnection {
  /** Paused; read `leftover` first, then the socket. */
  readonly socket: Socket;
  /** Bytes the server sent after `welcome`. */
  readonly leftover: Buffer;
  readonly server: { readonly nodeId: string; readonly epoch: string };
}

/**
 * Opens a connection to a node's cluster port and proves the secret. Rejects with ClusterError
 * CLUSTER_PORT_REFUSED (the server said no, with its reason) or CLUSTER_PORT_FAILED (unreachable,
 * closed, timed out, or not a cluster port).
 */
export function connectClusterPort(o: ConnectClusterPortOptions): Promise<ClusterPortConnection> {
  return new Promise((resolve, reject) => {
    const where = `${o.host}:${o.port}`;
    const socket = connect({ host: o.host, port: o.port, noDelay: true });
    const reader = new FrameReader(MAX_HANDSHAKE_FRAME_BYTES);
    let challenge: { nodeId: string; epoch: string } | undefined;
    let settled = false;

    const timer = setTimeout(() => fail(ClusterErrorCodes.CLUSTER_PORT_FAILED, 'handshake timed out'), o.timeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (code: typeof ClusterErrorCodes.CLUSTER_PORT_REFUSED | typeof ClusterErrorCodes.CLUSTER_PORT_FAILED, detail: string, cause?: unknown): void => {
      if (settled) return;
      done();
      socket.destroy();
      const what = code === ClusterErrorCodes.CLUSTER_PORT_REFUSED ? 'refused' : 'failed';
      reject(new ClusterError(code, `cluster port ${where} ${what}: ${detail}`, cause === undefined ? undefined : { cause }));
    };
    const onFrame = (frame: Frame): boolean => {
      if (!challenge) {
        if (frame.type !== HandshakeFrameTypes.challenge) throw new HandshakeRefusal(`expected challenge, got frame type ${frame.type}`);
        const parsed = parseChallenge(frame.payload);
        challenge = { nodeId: parsed.nodeId, epoch: parsed.epoch };
        socket.write(encodeFrame(HandshakeFrameTypes.hello, JSON.stringify(makeHello(o.secret, parsed.nonce, o.nodeId, o.purpose, o.tunnel))));
        return false;
      }
      if (frame.type === HandshakeFrameTypes.refused) {
        fail(ClusterErrorCodes.CLUSTER_PORT_REFUSED, parseRefusal(frame.payload));
        return true;
      }
      if (frame.type !== HandshakeFrameTypes.welcome) throw new HandshakeRefusal(`expected welcome, got frame type ${frame.type}`);
      done();
      socket.pause();
      // Until the new owner listens: an error in between must not be an unhandled 'error' event.
      socket.on('error', () => undefined);
      resolve({ socket, leftover: reader.takeRest(), server: challenge });
      return true;
    };
    const onData = (chunk: Buffer): void => {
      try {
        for (const frame of reader.read(chunk)) if (onFrame(frame)) return;
      } catch (error) {
        fail(ClusterErrorCodes.CLUSTER_PORT_FAILED, error instanceof Error ? error.message : String(error), error);
      }
    };
    const onError = (error: Error): void => fail(ClusterErrorCodes.CLUSTER_PORT_FAILED, error.message, error);
    const onClose = (): void => fail(ClusterErrorCodes.CLUSTER_PORT_FAILED, 'closed during the handshake');
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * The shared cluster secret, from a file every node has a copy of. Trailing whitespace (the newline an
 * editor or `openssl rand -hex 32 >` leaves) is not part of it. Refused, with a ClusterError
 * BAD_CLUSTER_SECRET naming the file, when missing, unreadable or shorter than 16 bytes.
 */
export async function readClusterSecret(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ClusterError(ClusterErrorCodes.BAD_CLUSTER_SECRET, `cluster secret file ${path} cannot be read: ${detail}`, { cause: error });
  }
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d || raw[end - 1] === 0x20 || raw[end - 1] === 0x09)) end -= 1;
  const secret = raw.subarray(0, end);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ClusterError(
      ClusterErrorCodes.BAD_CLUSTER_SECRET,
      `cluster secret file ${path} holds ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are required (e.g. openssl rand -hex 32 > ${path})`,
    );
  }
  return Buffer.from(secret);
}
