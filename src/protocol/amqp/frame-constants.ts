// Frame-level constants, taken from the spec's constants so they cannot drift from it.
import { SPEC_CONSTANTS } from './spec/methods.js';

export const FRAME_METHOD = SPEC_CONSTANTS['FRAME-METHOD'];
export const FRAME_HEADER = SPEC_CONSTANTS['FRAME-HEADER'];
export const FRAME_BODY = SPEC_CONSTANTS['FRAME-BODY'];
export const FRAME_HEARTBEAT = SPEC_CONSTANTS['FRAME-HEARTBEAT'];
export const FRAME_END = SPEC_CONSTANTS['FRAME-END'];
export const FRAME_MIN_SIZE = SPEC_CONSTANTS['FRAME-MIN-SIZE'];

/** type (1) + channel (2) + size (4) before the payload, frame-end (1) after it. */
export const FRAME_OVERHEAD = 8;

/** RabbitMQ's default frame_max, used before tuning. */
export const DEFAULT_FRAME_MAX = 131072;

export const PROTOCOL_HEADER: Uint8Array = Uint8Array.of(0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1); // "AMQP" 0 0 9 1

export type FrameType = typeof FRAME_METHOD | typeof FRAME_HEADER | typeof FRAME_BODY | typeof FRAME_HEARTBEAT;
