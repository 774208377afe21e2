import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { AmqpTransport } from '../protocol/amqp/server/amqp-connection.js';
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

/**
 * AMQP over TCP. Frames written in one event-loop turn leave in one `writev` (the socket is corked until
 * the next tick); above `highWater` buffered bytes, `onWritable(false)` pauses deliveries until 'drain'.
 */
export class TcpAmqpTransport extends GatedTransport implements AmqpTransport {
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
    const socket = this.socket;
    if (this.ending || socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    for (const frame of frames) socket.write(frame);
    if (!this.full && socket.writableLength > this.highWater) {
      this.full = true;
      this.onWritable(false);
      this.gate.add('send-buffer');
      socket.once('drain', this.drained);
    }
  }

  end(lingerMs: number): void {
    if (this.ending) return;
    this.ending = true;
    const socket = this.socket;
    const close = (): void => {
      socket.end();
      // A peer that never reads its last bytes must not hold the socket.
      setTimeout(() => socket.destroy(), 5000).unref();
    };
    if (lingerMs > 0) setTimeout(close, lingerMs).unref();
    else close();
  }

  private readonly uncork = (): void => {
    this.corked = false;
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
