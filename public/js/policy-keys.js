// @ts-check
/**
 * Policy definition keys the console knows: their value types, client-side checks (so a typo is caught
 * before the round trip, and numbers go out as JSON numbers), and the key=value chips that show a
 * definition wherever one appears (policy lists, a queue's effective policy).
 */
import { h } from './dom.js';

/**
 * @typedef {Object} KnownKey
 * @property {string} key
 * @property {'integer' | 'string' | 'enum'} kind
 * @property {number} [min] smallest integer allowed
 * @property {number} [max] largest integer allowed
 * @property {boolean} [inert] accepted for compatibility, not acted on (not offered, only accepted)
 * @property {string[]} [values] the allowed strings of an enum
 * @property {string} hint what the value means, shown beside the value
 */

/** Warren caps durations at ten years, as it does for the matching queue arguments. */
const TEN_YEARS_MS = 315_360_000_000;

/** @type {KnownKey[]} */
export const POLICY_KEYS = [
  { key: 'message-ttl', kind: 'integer', min: 0, max: TEN_YEARS_MS, hint: 'ms a message may stay (integer ≥ 0)' },
  { key: 'expires', kind: 'integer', min: 1, max: TEN_YEARS_MS, hint: 'ms unused before the queue is deleted (integer ≥ 1)' },
  { key: 'max-length', kind: 'integer', min: 0, hint: 'most ready messages (integer ≥ 0)' },
  { key: 'max-length-bytes', kind: 'integer', min: 0, hint: 'most ready bytes (integer ≥ 0)' },
  { key: 'overflow', kind: 'enum', values: ['drop-head', 'reject-publish', 'reject-publish-dlx'], hint: 'drop-head, reject-publish or reject-publish-dlx' },
  { key: 'dead-letter-exchange', kind: 'string', hint: 'exchange dead-lettered messages go to' },
  { key: 'dead-letter-routing-key', kind: 'string', hint: 'routing key they are dead-lettered with' },
  { key: 'delivery-limit', kind: 'integer', min: 0, hint: 'returns before a message is dead-lettered (integer ≥ 0)' },
  { key: 'consumer-timeout', kind: 'integer', min: 0, max: TEN_YEARS_MS, hint: 'ms a delivery may stay unacked (integer ≥ 0)' },
  { key: 'alternate-exchange', kind: 'string', hint: 'exchange for messages that route nowhere (exchanges)' },
];

export const INERT_TITLE = 'accepted for compatibility, no effect in Warren';

/**
 * The keys an operator policy may set (RabbitMQ's list, delivery-limit included). The two in-memory caps
 * are not offered but still accepted, so an operator policy imported from RabbitMQ can be edited.
 * @type {KnownKey[]}
 */
export const OPERATOR_POLICY_KEYS = [
  ...POLICY_KEYS.filter((k) => ['expires', 'message-ttl', 'max-length', 'max-length-bytes', 'delivery-limit', 'overflow'].includes(k.key)),
  { key: 'max-in-memory-length', kind: 'integer', min: 0, inert: true, hint: `integer ≥ 0; ${INERT_TITLE}` },
  { key: 'max-in-memory-bytes', kind: 'integer', min: 0, inert: true, hint: `integer ≥ 0; ${INERT_TITLE}` },
];

export const APPLY_TO = ['all', 'queues', 'exchanges', 'classic_queues', 'quorum_queues', 'streams'];
export const OPERATOR_APPLY_TO = ['queues', 'classic_queues', 'quorum_queues', 'streams'];

/** @typedef {'string' | 'number' | 'boolean' | 'json'} FreeType */

/**
 * The JSON value for a row, or an Error saying what is wrong with it in words.
 * @param {KnownKey | undefined} known the key's description, undefined for a free-form key
 * @param {string} key
 * @param {string} raw what was typed
 * @param {FreeType} freeType how a free-form value is read
 * @returns {unknown}
 */
export function parseValue(known, key, raw, freeType) {
  const text = raw.trim();
  if (known) {
    if (known.kind === 'integer') {
      const min = known.min ?? 0;
      const n = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new Error(`"${key}" must be a whole number ≥ ${min}, not "${raw}".`);
      if (known.max !== undefined && n > known.max) throw new Error(`"${key}" must be at most ${known.max}, not "${raw}".`);
      return n;
    }
    if (known.kind === 'enum') {
      const values = known.values ?? [];
      if (!values.includes(text)) throw new Error(`"${key}" must be one of ${values.join(', ')}, not "${raw}".`);
      return text;
    }
    if (text === '') throw new Error(`"${key}" needs a value.`);
    return raw;
  }
  switch (freeType) {
    case 'number': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new Error(`"${key}" must be a number, not "${raw}".`);
      return n;
    }
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new Error(`"${key}" must be true or false, not "${raw}".`);
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`"${key}" is not valid JSON.`);
      }
    default:
      return raw;
  }
}

/** How a stored value is typed back into an editor row. @param {unknown} value */
export function valueText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The free-form type that reads `value` back unchanged. @param {unknown} value @returns {FreeType} */
export function freeTypeOf(value) {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'json';
}

/**
 * A definition as key=value chips; keys Warren does not act on are greyed with a tooltip saying so.
 * @param {Record<string, unknown>} definition
 * @param {string[]} [inertKeys]
 */
export function definitionChips(definition, inertKeys = []) {
  const inert = new Set(inertKeys);
  const entries = Object.entries(definition);
  if (entries.length === 0) return h('span', { class: 'hint', text: 'none' });
  return h(
    'span',
    { class: 'chips' },
    ...entries.map(([key, value]) =>
      h('code', {
        class: inert.has(key) ? 'chip inert' : 'chip',
        title: inert.has(key) ? INERT_TITLE : undefined,
        'data-key': key,
        text: `${key}=${valueText(value)}`,
      }),
    ),
  );
}
