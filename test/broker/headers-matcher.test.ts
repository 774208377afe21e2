import { describe, it, expect } from 'vitest';
import { BrokerError } from '../../src/broker/errors.js';
import { HeadersPattern, parseXMatch } from '../../src/broker/headers-matcher.js';
import type { XMatch } from '../../src/broker/headers-matcher.js';
import type { Headers } from '../../src/broker/message.js';

interface Case {
  name: string;
  args: Record<string, unknown>;
  headers: Headers | undefined;
  expected: boolean;
}

function run(cases: Case[]): void {
  it.each(cases)('$name', ({ args, headers, expected }) => {
    expect(parseXMatch(args)).not.toBeInstanceOf(BrokerError);
    expect(new HeadersPattern(args).matches(headers)).toBe(expected);
  });
}

describe('parseXMatch', () => {
  it.each<[Record<string, unknown>, XMatch]>([
    [{}, 'all'],
    [{ format: 'pdf' }, 'all'],
    [{ 'x-match': undefined }, 'all'],
    [{ 'x-match': 'all' }, 'all'],
    [{ 'x-match': 'any' }, 'any'],
    [{ 'x-match': 'all-with-x' }, 'all-with-x'],
    [{ 'x-match': 'any-with-x' }, 'any-with-x'],
  ])('%j -> %s', (args, mode) => {
    expect(parseXMatch(args)).toBe(mode);
  });

  it.each<[string, unknown]>([
    ['an unknown mode', 'some'],
    ['the wrong case', 'ALL'],
    ['padding', ' all'],
    ['an empty string', ''],
    ['a number', 1],
    ['a boolean', true],
    ['null', null],
    ['an array', ['all']],
    ['an object', { mode: 'all' }],
  ])('rejects %s with PRECONDITION_FAILED (returned, not thrown)', (_label, value) => {
    const result = parseXMatch({ 'x-match': value });
    expect(result).toBeInstanceOf(BrokerError);
    if (!(result instanceof BrokerError)) return;
    expect(result.reason).toBe('PRECONDITION_FAILED');
    expect(result.code).toBe(406);
    expect(result.message).toMatch(/x-match/);
    expect(result.message).toMatch(/all-with-x/);
  });

  it('does not read x-match from the prototype chain', () => {
    const args = Object.create({ 'x-match': 'bogus' }) as Record<string, unknown>;
    expect(parseXMatch(args)).toBe('all');
  });
});

describe('HeadersPattern', () => {
  it('exposes the parsed mode', () => {
    expect(new HeadersPattern({}).mode).toBe('all');
    expect(new HeadersPattern({ 'x-match': 'any-with-x' }).mode).toBe('any-with-x');
  });

  describe('x-match all (default)', () => {
    run([
      { name: 'every key present and equal', args: { a: 1, b: 'x' }, headers: { a: 1, b: 'x', c: true }, expected: true },
      { name: 'explicit all behaves like the default', args: { 'x-match': 'all', a: 1 }, headers: { a: 1 }, expected: true },
      { name: 'one key missing', args: { a: 1, b: 'x' }, headers: { a: 1 }, expected: false },
      { name: 'one value different', args: { a: 1, b: 'x' }, headers: { a: 1, b: 'y' }, expected: false },
      { name: 'no headers at all', args: { a: 1 }, headers: undefined, expected: false },
      { name: 'empty headers', args: { a: 1 }, headers: {}, expected: false },
      { name: 'empty pattern matches any headers', args: {}, headers: { a: 1 }, expected: true },
      { name: 'empty pattern matches empty headers', args: {}, headers: {}, expected: true },
      { name: 'empty pattern matches missing headers', args: {}, headers: undefined, expected: true },
      { name: 'only x-match: no comparable keys', args: { 'x-match': 'all' }, headers: undefined, expected: true },
      { name: 'x- keys are ignored in the pattern', args: { 'x-foo': 1, a: 1 }, headers: { a: 1 }, expected: true },
      { name: 'x- keys ignored even if the header differs', args: { 'x-foo': 1, a: 1 }, headers: { a: 1, 'x-foo': 2 }, expected: true },
      { name: 'only x- keys: matches everything', args: { 'x-foo': 1, 'x-bar': 2 }, headers: undefined, expected: true },
    ]);
  });

  describe('x-match any', () => {
    run([
      { name: 'one of two keys equal', args: { 'x-match': 'any', a: 1, b: 2 }, headers: { b: 2 }, expected: true },
      { name: 'all keys equal', args: { 'x-match': 'any', a: 1, b: 2 }, headers: { a: 1, b: 2 }, expected: true },
      { name: 'keys present but values differ', args: { 'x-match': 'any', a: 1, b: 2 }, headers: { a: 2, b: 1 }, expected: false },
      { name: 'no keys present', args: { 'x-match': 'any', a: 1 }, headers: { c: 1 }, expected: false },
      { name: 'no headers at all', args: { 'x-match': 'any', a: 1 }, headers: undefined, expected: false },
      { name: 'no comparable keys matches nothing', args: { 'x-match': 'any' }, headers: { a: 1 }, expected: false },
      { name: 'no comparable keys, no headers', args: { 'x-match': 'any' }, headers: undefined, expected: false },
      { name: 'x- keys are ignored', args: { 'x-match': 'any', 'x-foo': 1 }, headers: { 'x-foo': 1 }, expected: false },
      { name: 'x- keys ignored alongside a real match', args: { 'x-match': 'any', 'x-foo': 1, a: 1 }, headers: { a: 1 }, expected: true },
    ]);
  });

  describe('x-match all-with-x', () => {
    run([
      { name: 'x- keys are compared', args: { 'x-match': 'all-with-x', 'x-foo': 1 }, headers: { 'x-foo': 1 }, expected: true },
      { name: 'x- key missing fails', args: { 'x-match': 'all-with-x', 'x-foo': 1, a: 1 }, headers: { a: 1 }, expected: false },
      { name: 'x- key different fails', args: { 'x-match': 'all-with-x', 'x-foo': 1 }, headers: { 'x-foo': 2 }, expected: false },
      { name: 'x-match itself is never compared', args: { 'x-match': 'all-with-x', a: 1 }, headers: { a: 1 }, expected: true },
      { name: 'x-match header on the message is irrelevant', args: { 'x-match': 'all-with-x', a: 1 }, headers: { a: 1, 'x-match': 'any' }, expected: true },
      { name: 'only x-match: matches everything', args: { 'x-match': 'all-with-x' }, headers: undefined, expected: true },
    ]);
  });

  describe('x-match any-with-x', () => {
    run([
      { name: 'x- key alone can match', args: { 'x-match': 'any-with-x', 'x-foo': 1, a: 1 }, headers: { 'x-foo': 1 }, expected: true },
      { name: 'plain key can match', args: { 'x-match': 'any-with-x', 'x-foo': 1, a: 1 }, headers: { a: 1 }, expected: true },
      { name: 'nothing equal', args: { 'x-match': 'any-with-x', 'x-foo': 1 }, headers: { 'x-foo': 2 }, expected: false },
      { name: 'x-match itself is never compared', args: { 'x-match': 'any-with-x' }, headers: { 'x-match': 'any-with-x' }, expected: false },
      { name: 'only x-match: matches nothing', args: { 'x-match': 'any-with-x' }, headers: { a: 1 }, expected: false },
    ]);
  });

  describe('value equality', () => {
    run([
      { name: 'string "1" is not number 1', args: { a: '1' }, headers: { a: 1 }, expected: false },
      { name: 'number 1 is not string "1"', args: { a: 1 }, headers: { a: '1' }, expected: false },
      { name: 'numerically equal numbers (1 and 1.0)', args: { a: 1.0 }, headers: { a: 1 }, expected: true },
      { name: '0 equals -0', args: { a: 0 }, headers: { a: -0 }, expected: true },
      { name: 'different numbers', args: { a: 1 }, headers: { a: 1.5 }, expected: false },
      { name: 'true is not 1', args: { a: true }, headers: { a: 1 }, expected: false },
      { name: 'false is not 0', args: { a: false }, headers: { a: 0 }, expected: false },
      { name: 'false is not empty string', args: { a: false }, headers: { a: '' }, expected: false },
      { name: 'null equals null', args: { a: null }, headers: { a: null }, expected: true },
      { name: 'null is not the string "null"', args: { a: null }, headers: { a: 'null' }, expected: false },
      { name: 'strings are case-sensitive', args: { a: 'X' }, headers: { a: 'x' }, expected: false },
      { name: 'equal arrays', args: { a: [1, 'b', [true]] }, headers: { a: [1, 'b', [true]] }, expected: true },
      { name: 'arrays in another order', args: { a: [1, 2] }, headers: { a: [2, 1] }, expected: false },
      { name: 'arrays of different length', args: { a: [1, 2] }, headers: { a: [1, 2, 3] }, expected: false },
      { name: 'array elements compared strictly', args: { a: [1] }, headers: { a: ['1'] }, expected: false },
      { name: 'equal objects regardless of key order', args: { a: { x: 1, y: [2] } }, headers: { a: { y: [2], x: 1 } }, expected: true },
      { name: 'object with an extra key', args: { a: { x: 1 } }, headers: { a: { x: 1, y: 2 } }, expected: false },
      { name: 'object missing a key', args: { a: { x: 1, y: 2 } }, headers: { a: { x: 1 } }, expected: false },
      { name: 'nested values compared strictly', args: { a: { x: { y: 1 } } }, headers: { a: { x: { y: '1' } } }, expected: false },
      { name: 'array is not an object with index keys', args: { a: ['v'] }, headers: { a: { 0: 'v' } }, expected: false },
      { name: 'object is not null', args: { a: {} }, headers: { a: null }, expected: false },
      { name: 'empty array is not empty object', args: { a: [] }, headers: { a: {} }, expected: false },
      { name: 'header keys are case-sensitive', args: { Format: 'pdf' }, headers: { format: 'pdf' }, expected: false },
    ]);
  });

  describe('presence-only entries (AMQP void, not producible from JSON)', () => {
    run([
      { name: 'all: present with any value', args: { a: undefined }, headers: { a: 'anything' }, expected: true },
      { name: 'all: absent', args: { a: undefined }, headers: { b: 1 }, expected: false },
      { name: 'any: present', args: { 'x-match': 'any', a: undefined, b: 1 }, headers: { a: false }, expected: true },
    ]);
  });

  it('is reusable: the same pattern gives the same answers across many calls', () => {
    const pattern = new HeadersPattern({ 'x-match': 'any', a: 1, b: { c: [1, 2] } });
    for (let i = 0; i < 3; i++) {
      expect(pattern.matches({ b: { c: [1, 2] } })).toBe(true);
      expect(pattern.matches({ b: { c: [1] } })).toBe(false);
      expect(pattern.matches(undefined)).toBe(false);
    }
  });

  it('is not affected by later mutation of the arguments object', () => {
    const args: Record<string, unknown> = { a: 1 };
    const pattern = new HeadersPattern(args);
    args['b'] = 2;
    expect(pattern.matches({ a: 1 })).toBe(true);
  });
});
