import { deadLetterTarget, type DeadLetterTarget } from './dead-letter.js';
import { BrokerError, preconditionFailed } from './errors.js';

export type OverflowMode = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** The queue arguments Warren acts on, parsed once at declare time. */
export interface QueueLimits {
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  readonly overflow: OverflowMode;
  readonly singleActiveConsumer: boolean;
  /** `x-expires`: the queue is deleted once unused for this long. */
  readonly expiresMs: number | undefined;
  /** `x-consumer-timeout`: overrides the broker's for this queue's consumers (a consume's own wins). */
  readonly consumerTimeout: number | undefined;
  /**
   * `x-max-priority` from 1 to 255: a priority queue. Undefined without it, and for 0, which RabbitMQ
   * treats as a single level, i.e. plain FIFO.
   */
  readonly maxPriority: number | undefined;
  /**
   * `x-delivery-limit`: a message returned more times than this dies (reason `delivery_limit`); 0 means
   * its first return. Undefined without the argument: no limit (RabbitMQ 4's default of 20 is not copied).
   */
  readonly deliveryLimit: number | undefined;
  /** `x-message-ttl`: a message expires this long after it entered the queue (its own `expiration` may be shorter). */
  readonly messageTtl: number | undefined;
  /** `x-dead-letter-exchange` (and routing key): where the messages that die here go; undefined drops them. */
  readonly deadLetter: DeadLetterTarget | undefined;
}

const TEN_YEARS_MS = 315_360_000_000;

type Check = (value: unknown) => string | undefined;

const integerIn =
  (min: number, max: number): Check =>
  (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`;

const oneOf =
  (...allowed: string[]): Check =>
  (value) =>
    typeof value === 'string' && allowed.includes(value)
      ? undefined
      : `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`;

const isString: Check = (value) => (typeof value === 'string' ? undefined : `expected a string, got ${JSON.stringify(value)}`);
const isBoolean: Check = (value) =>
  typeof value === 'boolean' ? undefined : `expected a boolean, got ${JSON.stringify(value)}`;

/**
 * Every `x-` queue argument Warren knows, with its check. `x-queue-mode` and `x-queue-version` choose
 * between storage strategies of RabbitMQ's classic queues; Warren has one (long queues always page out
 * to the message store), which both values get, so they are accepted for compatibility and documented.
 */
const checks: Readonly<Record<string, Check>> = {
  'x-message-ttl': integerIn(0, TEN_YEARS_MS),
  'x-expires': integerIn(1, TEN_YEARS_MS),
  'x-max-length': integerIn(0, Number.MAX_SAFE_INTEGER),
  'x-max-length-bytes': integerIn(0, Number.MAX_SAFE_INTEGER),
  'x-overflow': oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'),
  'x-dead-letter-exchange': isString,
  'x-dead-letter-routing-key': isString,
  'x-max-priority': integerIn(0, 255),
  'x-single-active-consumer': isBoolean,
  'x-queue-type': oneOf('classic'),
  'x-queue-mode': oneOf('default', 'lazy'),
  'x-queue-version': integerIn(1, 2),
  'x-consumer-timeout': integerIn(0, TEN_YEARS_MS),
  'x-delivery-limit': integerIn(0, Number.MAX_SAFE_INTEGER),
};

export function validateQueueArguments(
  args: Readonly<Record<string, unknown>>,
  queue: string,
  vhost: string,
): BrokerError | undefined {
  for (const [key, value] of Object.entries(args)) {
    if (value === null) return invalidArg(key, queue, vhost, 'null is not a valid argument value');
    const check = checks[key];
    // An `x-` argument is an instruction to the broker: one Warren does not carry out is refused, never
    // accepted and ignored. Other keys are the application's own and are kept as they are, as in RabbitMQ.
    if (!check && key.startsWith('x-')) return invalidArg(key, queue, vhost, 'Warren does not implement this argument');
    const problem = check?.(value);
    if (problem) return invalidArg(key, queue, vhost, problem);
  }
  if ('x-dead-letter-routing-key' in args && !('x-dead-letter-exchange' in args)) {
    return preconditionFailed(
      `invalid arg 'x-dead-letter-routing-key' for queue '${queue}' in vhost '${vhost}': routing_key_but_no_dlx_defined`,
    );
  }
  return undefined;
}

function invalidArg(key: string, queue: string, vhost: string, detail: string): BrokerError {
  return preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${detail}`);
}

/**
 * Assumes `validateQueueArguments` passed. Policy values come in as `x-` arguments too (see
 * effective-policy.ts), already checked by the policy's own validation.
 */
export function parseQueueLimits(args: Readonly<Record<string, unknown>>): QueueLimits {
  const num = (key: string): number | undefined => (typeof args[key] === 'number' ? (args[key] as number) : undefined);
  const overflow = args['x-overflow'];
  return {
    maxLength: num('x-max-length'),
    maxLengthBytes: num('x-max-length-bytes'),
    overflow: overflow === 'reject-publish' || overflow === 'reject-publish-dlx' ? overflow : 'drop-head',
    singleActiveConsumer: args['x-single-active-consumer'] === true,
    expiresMs: num('x-expires'),
    consumerTimeout: num('x-consumer-timeout'),
    maxPriority: (num('x-max-priority') ?? 0) > 0 ? num('x-max-priority') : undefined,
    deliveryLimit: num('x-delivery-limit'),
    messageTtl: num('x-message-ttl'),
    deadLetter: deadLetterTarget(args),
  };
}
