import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { AmqpTransport } from '../protocol/amqp/server/amqp-transport.js';
import { socketTraffic, type Traffic } from '../protocol/client-connection.js';

/** Outgoing bytes buffered for one connection above which its deliveries pause until the socket drains. */
export const AMQP_SEND_HIGH_WATER = 1024 * 1024;

type PauseReason = 'memory' | 'handshake' | 'send-buffer';

/**
 * Reading paused for any of several reasons resumes only when none is left: a memory alarm, a login
 * being checked, or a full send buffer (a client that publishes without reading its confirms would
 * otherwise grow the broker's buffer without bound).
 */
class ReadGate {
  private readonly reasons = new Set<PauseReason>();

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  add(reason: PauseReason): void {
    if (this.reasons.size === 0) this.pause();
    this.reasons.add(reason);
  }

  remove(reason: PauseReason): void {
    if (!this.reasons.delete(reason) || this.reasons.size > 0) return;
    this.resume();
  }
}

/** What both transports share: reading paused for any of several reasons. */
abstract class GatedTransport {
  onWritable: (writable: boolean) => void = () => undefined;
  protected abstract readonly gate: ReadGate;

  pauseReading(reason: 'memory' | 'handshake'): void {
    this.gate.add(reason);
  }

  resumeReading(reason: 'memory' | 'handshake'): void {
    this.gate.remove(reason);
  }
}

/** Frames up to this size are copied into the send batch; a larger one is written as it is. */
const BATCHED_FRAME_MAX = 16 * 1024;
const BATCH_BYTES = 256 * 1024;
/**
 * A run starts in a fresh buffer when less than this is left, so that a turn's deliveries (a prefetch
 * window's worth) rarely straddle two buffers, which would cost a second write.
 */
const RUN_ROOM = 64 * 1024;

/** What the send batch hands a transport's bytes to. */
interface BatchOwner {
  writeOut(bytes: Buffer): void;
}

/**
 * One buffer all TCP transports copy their small frames into, used up from front to back as Node's own
 * Buffer pool is: a run of one transport's bytes is handed to its socket as a view when the turn ends
 * (or another transport starts writing), and those bytes are never written again. One socket write per
 * turn costs far less than one per frame (a delivery is a few hundred bytes), and one buffer for all
 * connections keeps an idle connection from holding a buffer of its own.
 */
class SendBatch {
  private bytes = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private start = 0;
  private end = 0;
  /** Whose bytes [start, end) are. */
  private owner: BatchOwner | undefined;

  append(owner: BatchOwner, frame: Uint8Array): void {
    const at = this.claim(owner, frame.byteLength);
    this.bytes.set(frame, at);
  }

  /** `size` bytes at the end of `owner`'s run, for the caller to fill before the batch is used again. */
  reserve(owner: BatchOwner, size: number): Buffer {
    const at = this.claim(owner, size);
    return this.bytes.subarray(at, at + size);
  }

  private claim(owner: BatchOwner, size: number): number {
    if (this.owner !== owner) this.seal();
    const room = this.bytes.length - this.end;
    if (size > room || (this.owner === undefined && room < RUN_ROOM)) {
      this.seal();
      this.bytes = Buffer.allocUnsafeSlow(BATCH_BYTES);
      this.start = 0;
      this.end = 0;
    }
    const at = this.end;
    this.end += size;
    this.owner = owner;
    return at;
  }

  pendingOf(owner: BatchOwner): number {
    return this.owner === owner ? this.end - this.start : 0;
  }

  /** Hands `owner`'s pending bytes, if the pending bytes are its, to its socket. */
  sealFor(owner: BatchOwner): void {
    if (this.owner === owner) this.seal();
  }

  private seal(): void {
    const owner = this.owner;
    if (owner === undefined) return;
    this.owner = undefined;
    if (this.end > this.start) owner.writeOut(this.bytes.subarray(this.start, this.end));
    this.start = this.end;
  }
}

const sendBatch = new SendBatch();

/**
 * AMQP over TCP. Frames written in one event-loop turn leave together (the socket is corked until the
 * turn's end, at setImmediate, and small frames are copied into the shared send batch); above `highWater` buffered bytes,
 * `onWritable(false)` pauses deliveries until 'drain'.
 */
export class TcpAmqpTransport extends GatedTransport implements AmqpTransport, BatchOwner {
  private corked = false;
  private full = false;
  private ending = false;
  protected readonly gate: ReadGate;
  readonly traffic: Traffic;

  constructor(
    private readonly socket: Socket,
    private readonly highWater = AMQP_SEND_HIGH_WATER,
  ) {
    super();
    this.traffic = socketTraffic(socket);
    this.gate = new ReadGate(
      () => socket.pause(),
      () => socket.resume(),
    );
  }

  write(frames: readonly Uint8Array[]): void {
    if (!this.corkForTurn()) return;
    for (const frame of frames) {
      if (frame.byteLength <= BATCHED_FRAME_MAX) {
        sendBatch.append(this, frame);
        continue;
      }
      sendBatch.sealFor(this);
      this.socket.write(frame);
    }
    this.checkFull();
  }

  reserve(size: number): Buffer | undefined {
    if (!this.corkForTurn()) return undefined;
    let out: Buffer;
    if (size <= BATCHED_FRAME_MAX) out = sendBatch.reserve(this, size);
    else {
      sendBatch.sealFor(this);
      // Handed to the socket before it is filled: the socket is corked until the turn ends, and a corked
      // socket keeps the buffer itself, not a copy.
      out = Buffer.allocUnsafe(size);
      this.socket.write(out);
    }
    this.checkFull();
    return out;
  }

  /** False once nothing may be written; otherwise the socket is corked until the turn ends. */
  private corkForTurn(): boolean {
    const socket = this.socket;
    if (this.ending || socket.destroyed) return false;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      setImmediate(this.uncork);
    }
    return true;
  }

  private checkFull(): void {
    const socket = this.socket;
    if (!this.full && socket.writableLength + sendBatch.pendingOf(this) > this.highWater) {
      this.full = true;
      this.onWritable(false);
      this.gate.add('send-buffer');
      socket.once('drain', this.drained);
    }
  }

  writeOut(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  end(lingerMs: number): void {
    if (this.ending) return;
    this.ending = true;
    const socket = this.socket;
    const close = (): void => {
      sendBatch.sealFor(this);
      socket.end();
      // A peer that never reads its last bytes must not hold the socket.
      setTimeout(() => socket.destroy(), 5000).unref();
    };
    if (lingerMs > 0) setTimeout(close, lingerMs).unref();
    else close();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    sendBatch.sealFor(this);
    this.socket.uncork();
  };

  private readonly drained = (): void => {
    this.full = false;
    this.gate.remove('send-buffer');
    this.onWritable(true);
  };
}

/**
 * AMQP over a WebSocket (binary messages, subprotocol `amqp`): what is written in one turn goes out as
 * one message holding whole frames, which is how LavinMQ's and @cloudamqp/amqp-client's framing expect it.
 */
export class WebSocketAmqpTransport extends GatedTransport implements AmqpTransport {
  private pending: Uint8Array[] = [];
  private full = false;
  private ending = false;
  protected readonly gate: ReadGate;
  readonly traffic: Traffic;

  constructor(
    private readonly ws: WebSocket,
    private readonly raw: Socket,
    private readonly highWater = AMQP_SEND_HIGH_WATER,
  ) {
    super();
    this.traffic = socketTraffic(raw);
    this.gate = new ReadGate(
      () => ws.pause(),
      () => ws.resume(),
    );
  }

  write(frames: readonly Uint8Array[]): void {
    if (this.ending || this.ws.readyState !== this.ws.OPEN) return;
    if (this.pending.length === 0) process.nextTick(this.flush);
    for (const frame of frames) this.pending.push(frame);
  }

  reserve(size: number): Buffer | undefined {
    if (this.ending || this.ws.readyState !== this.ws.OPEN) return undefined;
    const out = Buffer.allocUnsafe(size);
    this.write([out]);
    return out;
  }

  end(lingerMs: number): void {
    if (this.ending) return;
    const close = (): void => {
      this.flush();
      this.ending = true;
      this.ws.close(1000, 'AMQP connection closed');
      setTimeout(() => this.ws.terminate(), 1000).unref();
    };
    if (lingerMs > 0) setTimeout(close, lingerMs).unref();
    else close();
  }

  private readonly flush = (): void => {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending), { binary: true });
    if (!this.full && this.ws.bufferedAmount > this.highWater) {
      this.full = true;
      this.onWritable(false);
      this.gate.add('send-buffer');
      this.raw.once('drain', this.drained);
    }
  };

  private readonly drained = (): void => {
    if (this.ws.bufferedAmount > this.highWater) {
      this.raw.once('drain', this.drained);
      return;
    }
    this.full = false;
    this.gate.remove('send-buffer');
    this.onWritable(true);
  };
}
