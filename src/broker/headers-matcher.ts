/**
 * Headers-exchange binding patterns (docs reference §4.6). The binding's arguments are the pattern;
 * `x-match` picks how its entries combine. Everything that depends only on the binding is worked out
 * once in the constructor, because `matches()` runs for every binding on every publish.
 */
import { BrokerError } from './errors.js';
import type { Headers } from './message.js';

export type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

const X_MATCH = 'x-match';
const X_PREFIX = 'x-';
const MODES: readonly XMatch[] = ['all', 'any', 'all-with-x', 'any-with-x'];

function isXMatch(value: unknown): value is XMatch {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** Own-property read so a pattern can never pick up `x-match` (or anything else) from a prototype. */
function ownValue(record: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Returned rather than thrown so callers can reject the binding through their normal error path. */
export function parseXMatch(args: Record<string, unknown>): XMatch | BrokerError {
  const raw = ownValue(args, X_MATCH);
  if (raw === undefined) return 'all';
  if (isXMatch(raw)) return raw;
  return new BrokerError(
    'PRECONDITION_FAILED',
    `invalid x-match ${describeValue(raw)}: expected one of ${MODES.map((m) => `'${m}'`).join(', ')}`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Structural equality over JSON-like values. `===` already gives numeric equality (1 === 1.0) and
 * keeps string "1" apart from number 1; objects compare by key set, not key order.
 */
function headerValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => headerValuesEqual(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && headerValuesEqual(a[key], b[key]));
}

interface PatternEntry {
  readonly key: string;
  /** `undefined` stands in for AMQP's `void`: the entry then only tests that the header is present. */
  readonly value: unknown;
}

function isComparableKey(key: string, withX: boolean): boolean {
  if (key === X_MATCH) return false;
  return withX || !key.startsWith(X_PREFIX);
}

function comparableEntries(args: Record<string, unknown>, withX: boolean): PatternEntry[] {
  return Object.keys(args)
    .filter((key) => isComparableKey(key, withX))
    .map((key) => ({ key, value: args[key] }));
}

function entryMatches(entry: PatternEntry, headers: Headers): boolean {
  const actual = ownValue(headers, entry.key);
  if (actual === undefined) return false;
  return entry.value === undefined || headerValuesEqual(entry.value, actual);
}

export class HeadersPattern {
  readonly mode: XMatch;
  private readonly requireAll: boolean;
  private readonly entries: readonly PatternEntry[];

  /** `args` must already have passed `parseXMatch`; an invalid `x-match` here falls back to `all`. */
  constructor(args: Record<string, unknown>) {
    const parsed = parseXMatch(args);
    this.mode = parsed instanceof BrokerError ? 'all' : parsed;
    this.requireAll = this.mode === 'all' || this.mode === 'all-with-x';
    this.entries = comparableEntries(args, this.mode.endsWith('-with-x'));
  }

  matches(headers: Headers | undefined): boolean {
    // Vacuous truth for `all`, empty disjunction for `any`; both hold even with no headers at all.
    if (this.entries.length === 0) return this.requireAll;
    if (headers === undefined) return false;
    // Plain loops: this runs per binding per publish, so no per-call closures.
    const requireAll = this.requireAll;
    for (const entry of this.entries) {
      if (entryMatches(entry, headers) !== requireAll) return !requireAll;
    }
    return requireAll;
  }
}
