// Incremental frame reader: feed it socket chunks of any size and it yields whole frames. A frame that
// arrived inside one chunk is returned as a view into that chunk (no copy); only a frame split across
// chunks is assembled into a fresh buffer, once, when its last byte arrives.
import { amqpError, type AmqpError } from './errors.js';
import {
  DEFAULT_FRAME_MAX,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_OVERHEAD,
  PROTOCOL_HEADER,
  type FrameType,
} from './frame-constants.js';
import { asBuffer } from './wire-reader.js';

export interface Frame {
  readonly kind: 'frame';
  readonly type: FrameType;
  readonly channel: number;
  readonly payload: Buffer;
}

/** The peer opened with something other than AMQP 0-9-1's header. The spec requires the server to send
 * its own protocol header (`reply`) and close the socket; no connection.close is involved. */
export interface BadProtocolHeader {
  readonly kind: 'bad-header';
  readonly received: Buffer;
  readonly reply: Uint8Array;
}

export type ReadResult = Frame | AmqpError | BadProtocolHeader;

export interface FrameReaderOptions {
  /** Whether the stream starts with the 8-byte protocol header (true for a server's inbound side). */
  readonly expectProtocolHeader?: boolean;
  /** Largest whole frame accepted, header and frame-end included; 0 means no limit. */
  readonly frameMax?: number;
}

const HEADER_BYTES = 7;

export class FrameReader {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private available = 0;
  private awaitingProtocolHeader: boolean;
  private failure: AmqpError | BadProtocolHeader | undefined;
  frameMax: number;

  constructor(options: FrameReaderOptions = {}) {
    this.awaitingProtocolHeader = options.expectProtocolHeader ?? true;
    this.frameMax = options.frameMax ?? DEFAULT_FRAME_MAX;
  }

  /** True once the 8-byte protocol header has been read and accepted: time to send connection.start. */
  get headerAccepted(): boolean {
    return !this.awaitingProtocolHeader;
  }

  /** True once a bad header or frame error was seen; the stream cannot be resynchronised after that. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.failure || chunk.byteLength === 0) return;
    this.chunks.push(asBuffer(chunk));
    this.available += chunk.byteLength;
  }

  /** Pushes a chunk and yields every result it completes; stops after the first error. */
  *read(chunk: Uint8Array): Generator<ReadResult, void, undefined> {
    this.push(chunk);
    for (;;) {
      const result = this.next();
      if (!result) return;
      yield result;
      if (result.kind !== 'frame') return;
    }
  }

  /** The next complete frame, an error (sticky: returned again on every call), or undefined for "need
   * more bytes". */
  next(): ReadResult | undefined {
    if (this.failure) return this.failure;
    if (this.awaitingProtocolHeader) {
      const seen = Math.min(this.available, PROTOCOL_HEADER.length);
      for (let i = 0; i < seen; i++) {
        // Fail on the first wrong byte, so that e.g. an HTTP request is answered without waiting.
        if (this.peek(i) !== PROTOCOL_HEADER[i]) {
          const received = this.take(seen);
          return this.fail({ kind: 'bad-header', received: Buffer.from(received), reply: PROTOCOL_HEADER });
        }
      }
      if (seen < PROTOCOL_HEADER.length) return undefined;
      this.take(PROTOCOL_HEADER.length);
      this.awaitingProtocolHeader = false;
    }
    const fast = this.nextInFirstChunk();
    if (fast !== undefined) return fast;
    if (this.available < 1) return undefined;
    const type = this.peek(0);
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
      return this.fail(amqpError('FRAME_ERROR', `unknown frame type ${type}`));
    }
    if (this.available < HEADER_BYTES) return undefined;
    const channel = (this.peek(1) << 8) | this.peek(2);
    const size = ((this.peek(3) << 24) | (this.peek(4) << 16) | (this.peek(5) << 8) | this.peek(6)) >>> 0;
    if (this.frameMax > 0 && size + FRAME_OVERHEAD > this.frameMax) {
      return this.fail(amqpError('FRAME_ERROR', `frame of ${size + FRAME_OVERHEAD} bytes exceeds frame_max ${this.frameMax}`));
    }
    // A heartbeat on another channel is readable, and refused where channels are handled (505, as RabbitMQ).
    if (type === FRAME_HEARTBEAT && size !== 0) {
      return this.fail(amqpError('FRAME_ERROR', `heartbeat frame with channel ${channel} and size ${size}`));
    }
    const total = HEADER_BYTES + size + 1;
    if (this.available < total) return undefined;
    if (this.peek(total - 1) !== FRAME_END) {
      return this.fail(amqpError('FRAME_ERROR', `frame-end octet 0x${this.peek(total - 1).toString(16)} instead of 0xce (type ${type}, channel ${channel}, size ${size})`));
    }
    const frame = this.take(total);
    return { kind: 'frame', type, channel, payload: frame.subarray(HEADER_BYTES, HEADER_BYTES + size) };
  }

  /**
   * The common case, read without peek: a well-formed frame wholly inside the first chunk. Anything else
   * (a frame across chunks, any fault) is undefined, left to the general path, which reports the faults.
   */
  private nextInFirstChunk(): Frame | undefined {
    const first = this.chunks[0];
    if (first === undefined) return undefined;
    const head = this.head;
    const left = first.length - head;
    if (left < HEADER_BYTES) return undefined;
    const type = first[head];
    if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY) return undefined;
    const size = (((first[head + 3] ?? 0) << 24) | ((first[head + 4] ?? 0) << 16) | ((first[head + 5] ?? 0) << 8) | (first[head + 6] ?? 0)) >>> 0;
    const total = HEADER_BYTES + size + 1;
    if (total > left || (this.frameMax > 0 && size + FRAME_OVERHEAD > this.frameMax) || first[head + total - 1] !== FRAME_END) return undefined;
    const channel = ((first[head + 1] ?? 0) << 8) | (first[head + 2] ?? 0);
    const payload = first.subarray(head + HEADER_BYTES, head + HEADER_BYTES + size);
    this.available -= total;
    if (total === left) {
      this.chunks.shift();
      this.head = 0;
    } else this.head = head + total;
    return { kind: 'frame', type, channel, payload };
  }

  private fail<E extends AmqpError | BadProtocolHeader>(error: E): E {
    this.failure = error;
    this.chunks = [];
    this.available = 0;
    return error;
  }

  private peek(i: number): number {
    let at = this.head + i;
    for (const chunk of this.chunks) {
      if (at < chunk.length) return chunk[at] ?? 0;
      at -= chunk.length;
    }
    return 0; // callers check `available` first
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.available -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      if (!chunk) break;
      const part = Math.min(chunk.length - this.head, n - filled);
      chunk.copy(out, filled, this.head, this.head + part);
      filled += part;
      this.head += part;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.available -= n;
    return out;
  }
}
