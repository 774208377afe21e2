// Frame writer: wraps a payload in the 7-byte frame header and the frame-end octet.
import { AmqpEncodeError } from './errors.js';
import { FRAME_END, FRAME_HEARTBEAT, FRAME_OVERHEAD, type FrameType } from './frame-constants.js';

export function encodeFrame(type: FrameType, channel: number, payload: Uint8Array): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) throw new AmqpEncodeError(`channel ${channel} is not a 16-bit number`);
  const frame = Buffer.allocUnsafe(payload.byteLength + FRAME_OVERHEAD);
  frame[0] = type;
  frame.writeUInt16BE(channel, 1);
  frame.writeUInt32BE(payload.byteLength, 3);
  frame.set(payload, 7);
  frame[frame.length - 1] = FRAME_END;
  return frame;
}

export const HEARTBEAT_FRAME: Uint8Array = encodeFrame(FRAME_HEARTBEAT, 0, new Uint8Array(0));
