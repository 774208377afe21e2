// Hand-written decoders for the methods a busy channel receives once per message: basic.publish, and the
// settlements basic.ack, basic.nack and basic.reject. They accept only the exact, well-formed layout
// (ASCII strings, no trailing bytes) and hand anything else to the generic, table-driven decodeMethod,
// so every error — its code, its text, its class and method ids — is the generic decoder's.
//
// A publisher usually repeats the same exchange and routing key: a basic.publish whose payload is the
// same bytes as the channel's previous one returns the previous (immutable) method object, with no
// decoding and no allocation.
import type { AmqpError } from './errors.js';
import { decodeMethod } from './method-codec.js';
import type { AmqpMethod, BasicAck, BasicNack, BasicPublish, BasicReject } from './spec/methods.js';

const BASIC = 60;
const PUBLISH = 40;
const ACK = 80;
const REJECT = 90;
const NACK = 120;
/** class id, method id, delivery-tag (8), one octet of bits. */
const SETTLE_BYTES = 13;
/** A publish payload longer than this (two long names) is decoded, not remembered. */
const REMEMBERED_MAX = 128;

/** One per channel: it remembers the channel's last basic.publish. */
export class HotMethodDecoder {
  private lastPublishBytes: Buffer = Buffer.alloc(REMEMBERED_MAX);
  private lastPublishLength = 0;
  private lastPublish: BasicPublish | undefined;

  /** As decodeMethod(payload), faster for the per-message methods. */
  decode(payload: Buffer): AmqpMethod | AmqpError {
    const length = payload.length;
    if (length < 5 || payload[0] !== 0 || payload[1] !== BASIC || payload[2] !== 0) return decodeMethod(payload);
    switch (payload[3]) {
      case PUBLISH:
        return this.publish(payload) ?? decodeMethod(payload);
      case ACK:
        return ack(payload) ?? decodeMethod(payload);
      case NACK:
        return nack(payload) ?? decodeMethod(payload);
      case REJECT:
        return reject(payload) ?? decodeMethod(payload);
      default:
        return decodeMethod(payload);
    }
  }

  private publish(payload: Buffer): BasicPublish | undefined {
    const length = payload.length;
    const last = this.lastPublish;
    if (last !== undefined && length === this.lastPublishLength && sameBytes(payload, this.lastPublishBytes, length)) return last;
    // class (2), method (2), ticket (2), exchange (1 + n), routing-key (1 + n), bits (1)
    let at = 6;
    const exchangeLength = payload[at++] ?? 0;
    const exchangeAt = at;
    at += exchangeLength;
    if (at >= length) return undefined;
    const keyLength = payload[at++] ?? 0;
    const keyAt = at;
    at += keyLength;
    if (at + 1 !== length) return undefined;
    const exchange = asciiAt(payload, exchangeAt, exchangeLength);
    const routingKey = asciiAt(payload, keyAt, keyLength);
    if (exchange === undefined || routingKey === undefined) return undefined;
    const bits = payload[at] ?? 0;
    const method: BasicPublish = {
      method: 'basic.publish',
      ticket: ((payload[4] ?? 0) << 8) | (payload[5] ?? 0),
      exchange,
      routingKey,
      mandatory: (bits & 1) !== 0,
      immediate: (bits & 2) !== 0,
    };
    if (length <= REMEMBERED_MAX) {
      payload.copy(this.lastPublishBytes, 0, 0, length);
      this.lastPublishLength = length;
      this.lastPublish = method;
    }
    return method;
  }
}

function ack(payload: Buffer): BasicAck | undefined {
  if (payload.length !== SETTLE_BYTES) return undefined;
  const bits = payload[12] ?? 0;
  return { method: 'basic.ack', deliveryTag: payload.readBigUInt64BE(4), multiple: (bits & 1) !== 0 };
}

function nack(payload: Buffer): BasicNack | undefined {
  if (payload.length !== SETTLE_BYTES) return undefined;
  const bits = payload[12] ?? 0;
  return { method: 'basic.nack', deliveryTag: payload.readBigUInt64BE(4), multiple: (bits & 1) !== 0, requeue: (bits & 2) !== 0 };
}

function reject(payload: Buffer): BasicReject | undefined {
  if (payload.length !== SETTLE_BYTES) return undefined;
  const bits = payload[12] ?? 0;
  return { method: 'basic.reject', deliveryTag: payload.readBigUInt64BE(4), requeue: (bits & 1) !== 0 };
}

function sameBytes(a: Buffer, b: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The string of `length` bytes at `at` if they are all ASCII (then UTF-8 and Latin-1 agree), else undefined. */
function asciiAt(bytes: Buffer, at: number, length: number): string | undefined {
  if (length === 0) return '';
  const end = at + length;
  for (let i = at; i < end; i++) if ((bytes[i] ?? 0x80) >= 0x80) return undefined;
  return bytes.toString('latin1', at, end);
}
