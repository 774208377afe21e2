// AMQP reply codes the codec can raise, and the typed value that carries one. Decoding never throws for
// bad input: it returns an AmqpError, which the connection layer turns into connection.close with this
// code (every code here is a hard, connection-level error in the spec).
import { SPEC_CONSTANTS } from './spec/methods.js';

export const REPLY_CODES = {
  FRAME_ERROR: SPEC_CONSTANTS['FRAME-ERROR'],
  SYNTAX_ERROR: SPEC_CONSTANTS['SYNTAX-ERROR'],
  COMMAND_INVALID: SPEC_CONSTANTS['COMMAND-INVALID'],
  UNEXPECTED_FRAME: SPEC_CONSTANTS['UNEXPECTED-FRAME'],
  NOT_IMPLEMENTED: SPEC_CONSTANTS['NOT-IMPLEMENTED'],
} as const;

export type ReplyName = keyof typeof REPLY_CODES;

export interface AmqpError {
  readonly kind: 'error';
  readonly code: (typeof REPLY_CODES)[ReplyName];
  readonly name: ReplyName;
  /** RabbitMQ-style reply text: "NAME - detail". */
  readonly replyText: string;
  /** The method being decoded when the error arose (0 when none), for connection.close's ids. */
  readonly classId: number;
  readonly methodId: number;
}

export function amqpError(name: ReplyName, detail: string, classId = 0, methodId = 0): AmqpError {
  return { kind: 'error', code: REPLY_CODES[name], name, replyText: fitReplyText(`${name} - ${detail}`), classId, methodId };
}

/** reply-text is a shortstr: cut to 255 bytes without leaving half a UTF-8 character. */
export function fitReplyText(text: string): string {
  return Buffer.byteLength(text) <= 255 ? text : Buffer.from(text).subarray(0, 255).toString('utf8').replace(/\uFFFD$/, '');
}

export function isAmqpError(value: unknown): value is AmqpError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'error';
}

/** Thrown inside the decoders and caught at their public boundary; never escapes this folder. */
export class Malformed {
  constructor(
    readonly name: ReplyName,
    readonly detail: string,
  ) {}
}

/** Encoding a value the wire cannot carry (a shortstr over 255 bytes, an out-of-range integer) is a
 * caller bug or unvalidated input upstream, so it throws rather than producing a bad frame. */
export class AmqpEncodeError extends RangeError {
  override readonly name = 'AmqpEncodeError';
}
