import { erlangTerm } from './erlang-term.js';
import { preconditionFailed, type BrokerError } from './errors.js';

/**
 * Policies, as RabbitMQ has them: a vhost-scoped rule that gives every queue or exchange whose name
 * matches `pattern` the settings in `definition`. Operator policies are the same shape, set by operators
 * to cap what user policies and queue arguments ask for (see effective-policy.ts for how they combine).
 */
export type PolicyKind = 'policy' | 'operator-policy';

export const APPLY_TO = ['all', 'queues', 'exchanges', 'classic_queues', 'quorum_queues', 'streams'] as const;
export type ApplyTo = (typeof APPLY_TO)[number];

/** A JSON value, as a definition holds it. */
export type PolicyValue = string | number | boolean | null | readonly PolicyValue[] | { readonly [key: string]: PolicyValue };
export type PolicyDefinition = Readonly<Record<string, PolicyValue>>;

export interface PolicySpec {
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly priority: number;
  readonly definition: PolicyDefinition;
}

export type PolicyTarget = 'queue' | 'exchange';

export class Policy implements PolicySpec {
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly priority: number;
  readonly definition: PolicyDefinition;
  private readonly regex: RegExp;

  constructor(
    readonly kind: PolicyKind,
    readonly vhost: string,
    readonly name: string,
    spec: PolicySpec,
  ) {
    this.pattern = spec.pattern;
    this.applyTo = spec.applyTo;
    this.priority = spec.priority;
    // Sorted by key, as RabbitMQ stores and shows a definition, whatever order it was given in.
    this.definition = Object.fromEntries(sortedKeys(spec.definition));
    // Checked by `parsePolicySpec`, so this cannot throw for a policy that got this far.
    this.regex = new RegExp(spec.pattern);
  }

  /**
   * Whether it applies to a queue or exchange of that name. Warren's queues are all classic queues, so a
   * policy for quorum queues or streams (kept from a RabbitMQ import) matches none of them.
   */
  matches(target: PolicyTarget, name: string): boolean {
    const applies =
      target === 'exchange'
        ? this.applyTo === 'all' || this.applyTo === 'exchanges'
        : this.applyTo === 'all' || this.applyTo === 'queues' || this.applyTo === 'classic_queues';
    return applies && this.regex.test(name);
  }

  /** The keys of its definition that RabbitMQ knows and Warren accepts without acting on them. */
  get inertKeys(): string[] {
    return Object.keys(this.definition).filter((key) => definitionKeys(this.kind)[key]?.inert === true);
  }

  sameAs(spec: PolicySpec): boolean {
    return (
      this.pattern === spec.pattern &&
      this.applyTo === spec.applyTo &&
      this.priority === spec.priority &&
      JSON.stringify(sortedKeys(this.definition)) === JSON.stringify(sortedKeys(spec.definition))
    );
  }
}

type Check = (value: PolicyValue) => boolean;

interface KeyRule {
  readonly check: Check;
  /** How RabbitMQ words a bad value: "<value> is not a valid <what>". */
  readonly what: string;
  /** Known to RabbitMQ, accepted, no effect in Warren. */
  readonly inert?: true;
}

const TEN_YEARS_MS = 315_360_000_000;
const integerFrom =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
const isString: Check = (value) => typeof value === 'string';
const oneOf =
  (...allowed: string[]): Check =>
  (value) =>
    typeof value === 'string' && allowed.includes(value);
const isAny: Check = (value) => value !== null;

const inert = (check: Check, what: string): KeyRule => ({ check, what, inert: true });

/**
 * The definition keys Warren acts on, with RabbitMQ's checks (rabbit_policies). Ranges are capped where
 * Warren's queue arguments are, so a policy cannot ask for what a queue argument may not.
 */
const ACTED_ON: Readonly<Record<string, KeyRule>> = {
  'message-ttl': { check: integerFrom(0, TEN_YEARS_MS), what: 'message TTL' },
  expires: { check: integerFrom(1, TEN_YEARS_MS), what: 'queue expiry' },
  'max-length': { check: integerFrom(0), what: 'maximum length' },
  'max-length-bytes': { check: integerFrom(0), what: 'maximum length in bytes' },
  overflow: { check: oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'), what: 'overflow value' },
  'dead-letter-exchange': { check: isString, what: 'dead letter exchange name' },
  'dead-letter-routing-key': { check: isString, what: 'dead letter routing key' },
  'delivery-limit': { check: integerFrom(0), what: 'delivery limit' },
  'consumer-timeout': { check: integerFrom(0, TEN_YEARS_MS), what: 'consumer timeout' },
  'alternate-exchange': { check: isString, what: 'alternate exchange name' },
};

/**
 * Keys RabbitMQ or its common plugins define that have nothing to act on in Warren: queue storage modes
 * (Warren has one), mirroring and quorum/stream settings (Warren is one node with classic queues), and
 * federation. Accepted so that an export from RabbitMQ imports, and reported as inert by the API.
 */
const INERT: Readonly<Record<string, KeyRule>> = {
  'queue-mode': inert(oneOf('default', 'lazy'), 'queue-mode value'),
  'queue-version': inert(integerFrom(1, 2), 'queue version'),
  'max-in-memory-length': inert(integerFrom(0), 'maximum memory in bytes'),
  'max-in-memory-bytes': inert(integerFrom(0), 'maximum memory in bytes'),
  'ha-mode': inert(oneOf('all', 'exactly', 'nodes'), 'ha-mode value'),
  'ha-params': inert(isAny, 'ha-params value'),
  'ha-sync-mode': inert(oneOf('manual', 'automatic'), 'ha-sync-mode value'),
  'ha-sync-batch-size': inert(integerFrom(1), 'ha-sync-batch-size value'),
  'ha-promote-on-shutdown': inert(oneOf('always', 'when-synced'), 'ha-promote-on-shutdown value'),
  'ha-promote-on-failure': inert(oneOf('always', 'when-synced'), 'ha-promote-on-failure value'),
  'queue-master-locator': inert(isString, 'queue master locator value'),
  'queue-leader-locator': inert(isString, 'queue leader locator value'),
  'initial-cluster-size': inert(integerFrom(0), 'cluster size'),
  'target-group-size': inert(integerFrom(0), 'target group size'),
  'dead-letter-strategy': inert(oneOf('at-most-once', 'at-least-once'), 'dead letter strategy'),
  'max-age': inert(isString, 'max age'),
  'max-segment-size': inert(integerFrom(0), 'segment size'),
  'stream-max-segment-size-bytes': inert(integerFrom(0), 'segment size'),
  'stream-filter-size-bytes': inert(integerFrom(16, 255), 'filter size'),
  'federation-upstream': inert(isString, 'federation upstream name'),
  'federation-upstream-set': inert(isString, 'federation upstream set name'),
  'federation-upstream-pattern': inert(isString, 'federation upstream pattern'),
};

/** Operator policies take only the limits RabbitMQ lets operators cap (`overflow` as newer RabbitMQ does). */
const OPERATOR_KEYS: ReadonlySet<string> = new Set([
  'expires',
  'message-ttl',
  'max-length',
  'max-length-bytes',
  'delivery-limit',
  'overflow',
  'max-in-memory-length',
  'max-in-memory-bytes',
]);

const POLICY_RULES: Readonly<Record<string, KeyRule>> = { ...ACTED_ON, ...INERT };
const OPERATOR_RULES: Readonly<Record<string, KeyRule>> = Object.fromEntries(
  Object.entries(POLICY_RULES).filter(([key]) => OPERATOR_KEYS.has(key)),
);

function definitionKeys(kind: PolicyKind): Readonly<Record<string, KeyRule>> {
  return kind === 'policy' ? POLICY_RULES : OPERATOR_RULES;
}

/** The keys a definition of that kind may hold, and whether Warren acts on each; for consoles and docs. */
export function policyKeys(kind: PolicyKind): Array<{ key: string; inert: boolean }> {
  return Object.entries(definitionKeys(kind)).map(([key, rule]) => ({ key, inert: rule.inert === true }));
}

/** What a caller sends for a policy, straight from JSON: every field still to be checked. */
export interface PolicyInput {
  readonly pattern?: unknown;
  readonly definition?: unknown;
  readonly priority?: unknown;
  readonly applyTo?: unknown;
}

/**
 * Checks a policy as RabbitMQ does and answers its reasons, prefixed "Validation failed" as its API
 * words them. `priority` defaults to 0 and `apply-to` to `all`.
 */
export function parsePolicySpec(kind: PolicyKind, input: PolicyInput): PolicySpec | BrokerError {
  const failed = (detail: string): BrokerError => preconditionFailed(`Validation failed\n\n${detail}\n`);
  const { pattern, definition } = input;
  // RabbitMQ's own words for a missing field, without the "Validation failed" lines.
  if (pattern === undefined) return preconditionFailed('[{key_missing,pattern}]');
  if (typeof pattern !== 'string') return failed(`pattern should be a binary but was ${erlangTerm(pattern)}`);
  try {
    new RegExp(pattern);
  } catch (error) {
    return failed(`pattern should be regular expression but is invalid: ${(error as Error).message}`);
  }
  const priority = parsePriority(input.priority);
  if (priority === undefined) return failed(`priority should be a number, actually was ${erlangTerm(input.priority)}`);
  const applyTo = input.applyTo ?? 'all';
  if (!isApplyTo(applyTo)) {
    return failed(
      `apply-to '${String(applyTo)}' unrecognised; should be one of: 'queues', 'classic_queues', 'quorum_queues', 'streams', 'exchanges', or 'all'`,
    );
  }
  if (definition === undefined) return preconditionFailed('[{key_missing,definition}]');
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    return failed(`definition must be a dictionary: ${erlangTerm(definition)}`);
  }
  const entries = Object.entries(definition as Record<string, PolicyValue>);
  if (entries.length === 0) return failed('no policy provided');
  const rules = definitionKeys(kind);
  // RabbitMQ checks the known keys first, then lists the unknown ones together, sorted, as Erlang terms.
  for (const [key, value] of entries) {
    const rule = rules[key];
    if (rule && !rule.check(value)) return failed(`${erlangTerm(value)} is not a valid ${rule.what}`);
  }
  const unknown = entries.filter(([key]) => rules[key] === undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (unknown.length > 0) {
    const terms = unknown.map(([key, value]) => `{${erlangTerm(key)},${erlangTerm(value)}}`).join(',');
    const hint = unknown.some(([key]) => key === 'max-priority') ? ' (a queue becomes a priority queue by its x-max-priority argument only)' : '';
    return failed(`[${terms}] are not recognised policy settings${hint}`);
  }
  return { pattern, applyTo, priority, definition: definition as PolicyDefinition };
}

/**
 * Any finite number, as RabbitMQ (`1.5` outranks `1`); a string of digits too, which older rabbitmqadmin
 * versions send and RabbitMQ's own CLI parses.
 */
function parsePriority(value: unknown): number | undefined {
  if (value === undefined) return 0;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function isApplyTo(value: unknown): value is ApplyTo {
  return typeof value === 'string' && (APPLY_TO as readonly string[]).includes(value);
}


function sortedKeys(definition: PolicyDefinition): Array<[string, PolicyValue]> {
  return Object.entries(definition).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
