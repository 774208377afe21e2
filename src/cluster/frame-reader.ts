import { MAX_FRAME, ReplicationProtocolError } from './replication-frames.js';

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/**
 * Cuts the bytes of a cluster-port connection into frames (u32 BE length, u8 type, payload). A frame
 * that arrived in one piece is a view of the socket's buffer, not a copy.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrame = MAX_FRAME) {}

  /** Every frame completed by `data`, in order. Throws on a frame that cannot be right. */
  push(data: Buffer): Frame[] {
    if (data.length === 0) return [];
    this.pending.push(data);
    this.pendingBytes += data.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.pendingBytes < 4) break;
      const head = this.peek(5);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > this.maxFrame) throw new ReplicationProtocolError(`frame of ${length} bytes`);
      if (this.pendingBytes < 4 + length) break;
      const frame = this.take(4 + length);
      frames.push({ type: frame.readUInt8(4), payload: frame.subarray(5) });
    }
    return frames;
  }

  private peek(bytes: number): Buffer {
    const first = this.pending[0];
    if (first && first.length >= bytes) return first;
    this.pending = [Buffer.concat(this.pending)];
    return this.pending[0] ?? Buffer.alloc(0);
  }

  private take(bytes: number): Buffer {
    let first = this.pending[0];
    if (!first || first.length < bytes) {
      this.pending = [Buffer.concat(this.pending)];
      first = this.pending[0] ?? Buffer.alloc(0);
    }
    const frame = first.subarray(0, bytes);
    const rest = first.subarray(bytes);
    if (rest.length > 0) this.pending[0] = rest;
    else this.pending.shift();
    this.pendingBytes -= bytes;
    return frame;
  }
}
