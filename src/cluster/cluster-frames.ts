/**
 * The cluster port's framing: `u32 BE length` (of what follows) + `u8 type` + payload. The handshake
 * uses types 1–4; replication frames (types ≥ 16) travel in the same framing after `welcome`.
 */

export const HandshakeFrameTypes = {
  challenge: 1,
  hello: 2,
  welcome: 3,
  refused: 4,
} as const;

/** Length prefix plus type byte. */
export const FRAME_HEADER_BYTES = 5;

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

/** A frame that cannot be read: the stream it came on is unusable from there on. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** One frame, ready to write. A string payload is sent as UTF-8. */
export function encodeFrame(type: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`frame type ${type} is not a byte`);
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(body.length + 1, 0);
  header.writeUInt8(type, 4);
  return Buffer.concat([header, body], FRAME_HEADER_BYTES + body.length);
}

/**
 * Reassembles frames from the chunks a socket delivers. Chunks are kept as they came and copied once
 * per frame, so a large frame arriving in many small chunks costs no repeated concatenation.
 * A reader can stop between frames and take the bytes after the last frame read (`takeRest`), which is
 * how the handshake hands what follows `hello`/`welcome` to the next owner of the socket.
 */
export class FrameReader {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;

  /** `maxFrameBytes`: the largest type + payload accepted; a longer length prefix is a FrameError. */
  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held that are not yet a whole frame (or not yet read with `next`). */
  get buffered(): number {
    return this.bufferedBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
  }

  /** The next whole frame, or undefined until more bytes come. Throws FrameError on a bad length. */
  next(): Frame | undefined {
    if (this.bufferedBytes < 4) return undefined;
    const length = this.peekLength();
    if (length === 0) throw new FrameError('frame of length 0 (no type byte)');
    if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
    if (this.bufferedBytes < 4 + length) return undefined;
    const frame = this.take(4 + length);
    return { type: frame.readUInt8(4), payload: frame.subarray(FRAME_HEADER_BYTES) };
  }

  /** Pushes a chunk and yields every whole frame now available; stop iterating to leave the rest buffered. */
  *read(chunk: Buffer): Generator<Frame, void, undefined> {
    this.push(chunk);
    for (let frame = this.next(); frame !== undefined; frame = this.next()) yield frame;
  }

  /** Everything buffered after the frames already read; the reader is empty afterwards. */
  takeRest(): Buffer {
    return this.take(this.bufferedBytes);
  }

  private peekLength(): number {
    const first = this.chunks[0];
    if (first && first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.alloc(4);
    let filled = 0;
    for (const chunk of this.chunks) {
      filled += chunk.copy(head, filled, 0, Math.min(chunk.length, 4 - filled));
      if (filled === 4) break;
    }
    return head.readUInt32BE(0);
  }

  private take(count: number): Buffer {
    const first = this.chunks[0];
    if (count === 0 || first === undefined) return Buffer.alloc(0);
    this.bufferedBytes -= count;
    if (first.length > count) {
      this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    if (first.length === count) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0];
      if (chunk === undefined) break;
      const used = Math.min(chunk.length, count - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
