/**
 * The one error catalogue. Every failure the broker reports carries a symbolic code from this table;
 * the wire protocol sends `replyCode` and the symbolic name, the REST API maps the name to an HTTP status.
 * Reply codes are AMQP 0-9-1's so RabbitMQ users recognise them.
 */
export const ReplyCodes = {
  CONTENT_TOO_LARGE: 311,
  NO_ROUTE: 312,
  NO_CONSUMERS: 313,
  CONNECTION_FORCED: 320,
  INVALID_PATH: 402,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

export type ErrorName = keyof typeof ReplyCodes;
export type ReplyCode = (typeof ReplyCodes)[ErrorName];

export class BrokerError extends Error {
  readonly reason: ErrorName;
  readonly code: ReplyCode;

  constructor(reason: ErrorName, message: string) {
    super(message);
    this.name = 'BrokerError';
    this.reason = reason;
    this.code = ReplyCodes[reason];
  }
}

export function isBrokerError(value: unknown): value is BrokerError {
  return value instanceof BrokerError;
}

/** Short constructors keep call sites readable: `throw notFound(\`no queue '${name}'\`)`. */
export const notFound = (message: string): BrokerError => new BrokerError('NOT_FOUND', message);
export const accessRefused = (message: string): BrokerError => new BrokerError('ACCESS_REFUSED', message);
export const preconditionFailed = (message: string): BrokerError =>
  new BrokerError('PRECONDITION_FAILED', message);
export const resourceLocked = (message: string): BrokerError => new BrokerError('RESOURCE_LOCKED', message);
/** While free disk space is below its limit, whatever would have to be written is refused before anything changes. */
export const diskAlarmRefusal = (what: string): BrokerError =>
  new BrokerError('RESOURCE_ERROR', `disk free space is below its limit: ${what} are refused until space is freed`);

/** A cluster leader with fewer in-sync replicas than `min-insync`: `reason` says how many of how many. */
export const replicationAlarmRefusal = (what: string, reason: string): BrokerError =>
  new BrokerError('RESOURCE_ERROR', `${reason}: ${what} are refused until enough replicas are in sync`);
