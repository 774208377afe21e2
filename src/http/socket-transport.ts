import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { socketTraffic, type Traffic } from '../protocol/client-connection.js';
import type { Transport } from '../protocol/session-context.js';

/** Outgoing bytes buffered for one connection above which its deliveries pause until the socket drains. */
export const DEFAULT_SEND_HIGH_WATER = 1024 * 1024;

/**
 * A WebSocket as the session's transport, with the two things a broker needs from it:
 * - frames sent in one event-loop turn leave in one `writev` (the socket is corked until the next tick),
 *   so a burst of deliveries costs one system call, not one each;
 * - back-pressure: while more than `highWater` bytes wait to be sent, `onWritable(false)` pauses
 *   deliveries to this connection, and `onWritable(true)` resumes them once the socket drains, so a slow
 *   consumer never makes the broker buffer without bound. Reading pauses too: every frame read may cause
 *   a reply, and a client that sends without reading would otherwise grow its reply buffer forever.
 */
export class SocketTransport implements Transport {
  /** Set by the owner once the session exists. */
  onWritable: (writable: boolean) => void = () => undefined;
  private corked = false;
  private blocked = false;
  /** Why reading is paused: a memory alarm (publishers), a full send buffer, or both. */
  private readonly pausedFor = new Set<'memory' | 'send-buffer'>();
  readonly traffic: Traffic;

  constructor(
    private readonly ws: WebSocket,
    private readonly raw: Socket,
    private readonly highWater = DEFAULT_SEND_HIGH_WATER,
    private readonly closeGraceMs = 1000,
  ) {
    this.traffic = socketTraffic(raw);
  }

  send(text: string): void {
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(this.uncork);
    }
    ws.send(text);
    if (!this.blocked && ws.bufferedAmount > this.highWater) {
      this.blocked = true;
      this.onWritable(false);
      this.pause('send-buffer');
      this.raw.once('drain', this.drained);
    }
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  /**
   * Starts the close handshake; a peer that does not answer it within `closeGraceMs` is dropped. `ws`
   * itself would wait 30 s, which lets a client that never logs in hold a socket far past the handshake
   * timeout.
   */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
    const timer = setTimeout(() => this.ws.terminate(), this.closeGraceMs);
    timer.unref();
    this.ws.once('close', () => clearTimeout(timer));
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Stops reading the peer's frames (memory alarm); what it sends waits in the kernel and in TCP. */
  pauseReading(): void {
    this.pause('memory');
  }

  resumeReading(): void {
    this.resume('memory');
  }

  private pause(reason: 'memory' | 'send-buffer'): void {
    if (this.pausedFor.size === 0) this.ws.pause();
    this.pausedFor.add(reason);
  }

  private resume(reason: 'memory' | 'send-buffer'): void {
    if (!this.pausedFor.delete(reason) || this.pausedFor.size > 0) return;
    this.ws.resume();
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.raw.uncork();
  };

  private readonly drained = (): void => {
    if (this.ws.bufferedAmount > this.highWater) {
      this.raw.once('drain', this.drained);
      return;
    }
    this.blocked = false;
    this.resume('send-buffer');
    this.onWritable(true);
  };
}
