import type { Policy, PolicyDefinition, PolicyValue } from './policy.js';
import { parseQueueLimits, type QueueLimits } from './queue-arguments.js';

/**
 * How a queue's arguments, its policy and its operator policy combine into what the queue does —
 * RabbitMQ's rules (rabbit_policy, rabbit_amqqueue_process), as pure functions.
 *
 * 1. One policy and one operator policy apply per object: the highest priority of each kind (see
 *    PolicyBook). They are not merged with lower-priority policies.
 * 2. The two combine key by key: for a numeric limit both set, the lower wins; for `overflow`, the
 *    operator's value wins.
 * 3. That combination and the queue's own `x-` argument combine key by key: for the limits in
 *    LOWER_WINS the lower wins; for the rest the argument wins.
 */
const LOWER_WINS: ReadonlySet<string> = new Set([
  'message-ttl',
  'max-length',
  'max-length-bytes',
  'max-in-memory-length',
  'max-in-memory-bytes',
  'expires',
  'delivery-limit',
]);

/** The queue settings a policy can give, each the name of an `x-` argument without its prefix. */
const QUEUE_SETTINGS = [
  'message-ttl',
  'expires',
  'max-length',
  'max-length-bytes',
  'overflow',
  'dead-letter-exchange',
  'dead-letter-routing-key',
  'delivery-limit',
  'consumer-timeout',
] as const;

/** RabbitMQ's `effective_policy_definition`: the policy's definition with the operator policy's merged in. */
export function effectiveDefinition(policy: Policy | undefined, operator: Policy | undefined): PolicyDefinition {
  if (!policy) return operator?.definition ?? {};
  if (!operator) return policy.definition;
  const merged: Record<string, PolicyValue> = { ...policy.definition };
  for (const [key, opValue] of Object.entries(operator.definition)) {
    const value = merged[key];
    merged[key] = value === undefined ? opValue : mergeOperatorValue(key, value, opValue);
  }
  return merged;
}

function mergeOperatorValue(key: string, value: PolicyValue, opValue: PolicyValue): PolicyValue {
  if (LOWER_WINS.has(key) && typeof value === 'number' && typeof opValue === 'number') return Math.min(value, opValue);
  return opValue;
}

/**
 * The arguments the queue behaves by: its own, with each policy setting resolved against the matching
 * `x-` argument. Only the settings above are taken from policies; `x-max-priority` and
 * `x-single-active-consumer` come from arguments alone, as in RabbitMQ.
 */
export function effectiveQueueArguments(
  args: Readonly<Record<string, unknown>>,
  definition: PolicyDefinition,
): Record<string, unknown> {
  const effective: Record<string, unknown> = { ...args };
  for (const setting of QUEUE_SETTINGS) {
    const fromPolicy = definition[setting];
    if (fromPolicy === undefined) continue;
    const key = `x-${setting}`;
    const fromArgument = args[key];
    if (fromArgument === undefined) effective[key] = fromPolicy;
    else if (LOWER_WINS.has(setting) && typeof fromArgument === 'number' && typeof fromPolicy === 'number') {
      effective[key] = Math.min(fromArgument, fromPolicy);
    }
  }
  return effective;
}

/** What a queue with these arguments does under these policies. */
export function effectiveQueueLimits(
  args: Readonly<Record<string, unknown>>,
  policy: Policy | undefined,
  operator: Policy | undefined,
): QueueLimits {
  return parseQueueLimits(effectiveQueueArguments(args, effectiveDefinition(policy, operator)));
}

/** An exchange's `alternate-exchange`: its argument wins over its policy's (RabbitMQ's get_arg). */
export function effectiveAlternateExchange(args: Readonly<Record<string, unknown>>, policy: Policy | undefined): string | undefined {
  const own = args['alternate-exchange'];
  if (typeof own === 'string') return own;
  const fromPolicy = policy?.definition['alternate-exchange'];
  return typeof fromPolicy === 'string' ? fromPolicy : undefined;
}
