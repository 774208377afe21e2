import { describe, it, expect } from 'vitest';
import { TopicMatcher } from '../../src/broker/topic-matcher.js';
import { prng } from '../helpers/prng.js';

/** Does a single binding key match a single routing key, according to the trie? */
function trieMatches(bindingKey: string, routingKey: string): boolean {
  const matcher = new TopicMatcher<string>();
  matcher.add(bindingKey, 'q');
  const out = new Set<string>();
  matcher.match(routingKey, out);
  return out.has('q');
}

function matchAll<T>(matcher: TopicMatcher<T>, routingKey: string): Set<T> {
  const out = new Set<T>();
  matcher.match(routingKey, out);
  return out;
}

/** Independent, obviously-correct (and exponential) matcher used as the oracle. */
function words(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

function referenceWords(pattern: readonly string[], p: number, key: readonly string[], k: number): boolean {
  const head = pattern[p];
  if (head === undefined) return k === key.length;
  if (head === '#') {
    for (let skip = k; skip <= key.length; skip++) {
      if (referenceWords(pattern, p + 1, key, skip)) return true;
    }
    return false;
  }
  if (k === key.length) return false;
  return (head === '*' || head === key[k]) && referenceWords(pattern, p + 1, key, k + 1);
}

function referenceMatches(bindingKey: string, routingKey: string): boolean {
  return referenceWords(words(bindingKey), 0, words(routingKey), 0);
}

const splitCache = new Map<string, string[]>();
function splitCached(key: string): string[] {
  let split = splitCache.get(key);
  if (split === undefined) {
    split = words(key);
    splitCache.set(key, split);
  }
  return split;
}

/** Groups ids by binding key so the oracle runs once per distinct key, keeping the stress test quick. */
function groupByKey(bindings: ReadonlyMap<number, string>): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const [id, key] of bindings) {
    const ids = groups.get(key);
    if (ids === undefined) groups.set(key, [id]);
    else ids.push(id);
  }
  return groups;
}

function referenceIds(groups: ReadonlyMap<string, number[]>, routingKey: string): number[] {
  const routingWords = words(routingKey);
  const ids: number[] = [];
  for (const [bindingKey, group] of groups) {
    if (referenceWords(splitCached(bindingKey), 0, routingWords, 0)) ids.push(...group);
  }
  return ids.sort((x, y) => x - y);
}

function sortedIds(set: ReadonlySet<number>): number[] {
  return [...set].sort((x, y) => x - y);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from empty list');
  return item;
}

function randomKey(random: () => number, vocabulary: readonly string[], maxWords: number): string {
  const count = Math.floor(random() * (maxWords + 1));
  return Array.from({ length: count }, () => pick(random, vocabulary)).join('.');
}

interface Row {
  binding: string;
  matches: string[];
  rejects: string[];
}

// Section 4.5 of the management API reference, verbatim.
const referenceTable: Row[] = [
  { binding: '#', matches: ['', 'a', 'a.b', 'a.b.c', '.', 'a..b'], rejects: [] },
  { binding: '#.#', matches: ['', 'a', 'a.b', 'a.b.c', '.', 'a..b'], rejects: [] },
  { binding: '#.#.#', matches: ['', 'a', 'a.b', 'a.b.c', '.', 'a..b'], rejects: [] },
  { binding: '', matches: [''], rejects: ['a'] },
  { binding: '*', matches: ['oneword'], rejects: ['', 'a.b'] },
  { binding: '*.#', matches: ['a', 'a.b', 'a.b.c'], rejects: [''] },
  { binding: '#.*.#', matches: ['a', 'a.b', 'a.b.c'], rejects: [''] },
  { binding: '*.#.#', matches: ['a', 'a.b', 'a.b.c'], rejects: [''] },
  { binding: 'a.#', matches: ['a', 'a.b', 'a.a.a.a.a'], rejects: ['b.a'] },
  { binding: '#.b', matches: ['b', 'a.b', 'a.b.b'], rejects: ['a.b.c'] },
  { binding: 'a.#.b', matches: ['a.b', 'a.b.b', 'a.x.y.b'], rejects: ['a.b.c', 'a'] },
  { binding: '#.b.#', matches: ['b', 'a.b', 'a.b.c', 'b.c.c', 'b.b.c'], rejects: ['a.c'] },
  { binding: 'a.*', matches: ['a.b'], rejects: ['a', 'a.b.c'] },
  { binding: '*.*.*', matches: ['a.b.c', 'b.c.c'], rejects: ['a.b'] },
  { binding: 'a.*.c', matches: ['a.b.c'], rejects: ['a.c', 'a.b.b.c'] },
];

// Edge cases from the brief and the word-splitting rules.
const edgeCases: Row[] = [
  { binding: 'a.#', matches: ['a'], rejects: ['', 'b'] },
  { binding: '#.a', matches: ['a', 'b.a', '.a'], rejects: ['', 'a.b'] },
  { binding: 'a.*.b', matches: ['a.x.b', 'a..b'], rejects: ['a.b', 'a.x.y.b'] },
  { binding: '#', matches: ['', '.', '..', 'a.', '.a', '#', '*'], rejects: [] },
  { binding: '*', matches: ['a', '*', '#', 'a*'], rejects: ['', '.', 'a.', '.a'] },
  { binding: '', matches: [''], rejects: ['a', '.', '*', '#'] },
  // Empty words are real words.
  { binding: 'a..b', matches: ['a..b'], rejects: ['a.b', 'a...b', ''] },
  { binding: 'a.*.b', matches: ['a..b'], rejects: [] },
  { binding: 'a.', matches: ['a.'], rejects: ['a', 'a..'] },
  { binding: 'a.*', matches: ['a.'], rejects: ['a'] },
  { binding: '.', matches: ['.'], rejects: ['', '..', 'a'] },
  { binding: '*.*', matches: ['.', 'a.', '.b', 'a.b'], rejects: ['', 'a', '..'] },
  { binding: '#.', matches: ['.', 'a.', 'a.b.'], rejects: ['', 'a', 'a.b'] },
  { binding: '.#', matches: ['.', '.a', '.a.b'], rejects: ['', 'a', 'a.'] },
  // `*` and `#` only special as whole words.
  { binding: 'a*', matches: ['a*'], rejects: ['a', 'ab'] },
  { binding: 'a#', matches: ['a#'], rejects: ['a', 'a.b', 'ab'] },
  { binding: '*a.b', matches: ['*a.b'], rejects: ['xa.b'] },
  { binding: '#a', matches: ['#a'], rejects: ['a', 'x.a'] },
  // Case-sensitive literals.
  { binding: 'A.b', matches: ['A.b'], rejects: ['a.b', 'A.B'] },
  // Unicode words are ordinary words.
  { binding: 'é.*', matches: ['é.ü'], rejects: ['e.ü'] },
  // Mixed wildcards.
  { binding: '*.#.*', matches: ['a.b', 'a.b.c', 'a.b.c.d'], rejects: ['', 'a'] },
  { binding: '#.*.*', matches: ['a.b', 'a.b.c'], rejects: ['', 'a'] },
  { binding: 'a.#.#.b', matches: ['a.b', 'a.x.b', 'a.x.y.z.b'], rejects: ['a', 'b', 'a.b.x'] },
  { binding: '#.a.#.a', matches: ['a.a', 'x.a.y.a', 'a.a.a'], rejects: ['a', 'a.a.x'] },
  { binding: '#.#.#.a', matches: ['a', 'x.a', 'x.y.z.a'], rejects: ['', 'a.x'] },
];

function rowCases(rows: Row[]): [string, string, boolean][] {
  return rows.flatMap((row) => [
    ...row.matches.map((key): [string, string, boolean] => [row.binding, key, true]),
    ...row.rejects.map((key): [string, string, boolean] => [row.binding, key, false]),
  ]);
}

describe('TopicMatcher semantics', () => {
  describe('reference table (section 4.5)', () => {
    it.each(rowCases(referenceTable))('binding %j vs routing key %j -> %s', (binding, key, expected) => {
      expect(trieMatches(binding, key)).toBe(expected);
    });
  });

  describe('edge cases', () => {
    it.each(rowCases(edgeCases))('binding %j vs routing key %j -> %s', (binding, key, expected) => {
      expect(trieMatches(binding, key)).toBe(expected);
    });
  });

  it('the reference oracle agrees with every table row (guards the oracle itself)', () => {
    for (const [binding, key, expected] of rowCases([...referenceTable, ...edgeCases])) {
      expect(referenceMatches(binding, key), `${binding} vs ${key}`).toBe(expected);
    }
  });
});

describe('TopicMatcher bookkeeping', () => {
  it('starts empty and matches nothing', () => {
    const matcher = new TopicMatcher<string>();
    expect(matcher.size).toBe(0);
    expect(matchAll(matcher, 'a.b').size).toBe(0);
    expect(matchAll(matcher, '').size).toBe(0);
  });

  it('add returns true for a new pair and false for a repeat, which leaves size unchanged', () => {
    const matcher = new TopicMatcher<string>();
    expect(matcher.add('a.*', 'q1')).toBe(true);
    expect(matcher.add('a.*', 'q1')).toBe(false);
    expect(matcher.size).toBe(1);
    expect(matcher.add('a.*', 'q2')).toBe(true);
    expect(matcher.add('a.#', 'q1')).toBe(true);
    expect(matcher.size).toBe(3);
  });

  it('remove returns true only for present pairs', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('a.b', 'q1');
    expect(matcher.remove('a.b', 'q2')).toBe(false);
    expect(matcher.remove('a.c', 'q1')).toBe(false);
    expect(matcher.remove('a', 'q1')).toBe(false);
    expect(matcher.remove('a.b.c', 'q1')).toBe(false);
    expect(matcher.size).toBe(1);
    expect(matcher.remove('a.b', 'q1')).toBe(true);
    expect(matcher.remove('a.b', 'q1')).toBe(false);
    expect(matcher.size).toBe(0);
  });

  it('delivers several values bound on the same key', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('x.*', 'q1');
    matcher.add('x.*', 'q2');
    matcher.add('x.*', 'q3');
    expect(matchAll(matcher, 'x.y')).toEqual(new Set(['q1', 'q2', 'q3']));
    matcher.remove('x.*', 'q2');
    expect(matchAll(matcher, 'x.y')).toEqual(new Set(['q1', 'q3']));
  });

  it('delivers a value once even when several of its bindings match', () => {
    const matcher = new TopicMatcher<string>();
    for (const key of ['#', 'a.#', '#.b', 'a.b', 'a.*', '*.b', '#.#', '*.#.*']) matcher.add(key, 'q');
    matcher.add('a.b', 'other');
    const out = matchAll(matcher, 'a.b');
    expect([...out].sort()).toEqual(['other', 'q']);
  });

  it('adds to an existing output set without clearing it', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('a', 'q1');
    const out = new Set(['already']);
    matcher.match('a', out);
    expect(out).toEqual(new Set(['already', 'q1']));
  });

  it('uses object identity for values', () => {
    const matcher = new TopicMatcher<{ name: string }>();
    const first = { name: 'q' };
    const second = { name: 'q' };
    expect(matcher.add('k', first)).toBe(true);
    expect(matcher.add('k', second)).toBe(true);
    expect(matcher.remove('k', { name: 'q' })).toBe(false);
    expect(matchAll(matcher, 'k')).toEqual(new Set([first, second]));
  });

  it('removing one key leaves overlapping keys intact', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('a.b.c', 'q1');
    matcher.add('a.b', 'q2');
    matcher.add('a.#', 'q3');
    matcher.remove('a.b.c', 'q1');
    expect(matchAll(matcher, 'a.b')).toEqual(new Set(['q2', 'q3']));
    expect(matchAll(matcher, 'a.b.c')).toEqual(new Set(['q3']));
    matcher.remove('a.b', 'q2');
    expect(matchAll(matcher, 'a.b')).toEqual(new Set(['q3']));
    matcher.add('a.b.c', 'q1');
    expect(matchAll(matcher, 'a.b.c')).toEqual(new Set(['q1', 'q3']));
  });

  it('prunes to nothing after every binding is removed, and can be reused', () => {
    const matcher = new TopicMatcher<string>();
    const keys = ['', '#', '*', 'a', 'a.b', 'a.#', '#.a', 'a.*.c', '#.#.b', 'a..b', '.', 'x.#.y.*'];
    for (const key of keys) {
      matcher.add(key, 'q1');
      matcher.add(key, 'q2');
    }
    expect(matcher.size).toBe(keys.length * 2);
    for (const key of keys) {
      expect(matcher.remove(key, 'q1')).toBe(true);
      expect(matcher.remove(key, 'q2')).toBe(true);
    }
    expect(matcher.size).toBe(0);
    for (const key of ['', 'a', 'a.b', 'a.x.c', 'x.y.y', '.', 'a..b']) {
      expect(matchAll(matcher, key).size).toBe(0);
    }
    // Pruning must leave nodes in a state where re-adding behaves like a fresh matcher.
    matcher.add('a.#', 'q');
    expect(matchAll(matcher, 'a.b.c')).toEqual(new Set(['q']));
    expect(matcher.size).toBe(1);
  });

  it('pruning a leaf keeps a sibling `*` and `#` branch reachable', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('a.b', 'lit');
    matcher.add('a.*', 'star');
    matcher.add('a.#', 'hash');
    matcher.remove('a.b', 'lit');
    expect(matchAll(matcher, 'a.b')).toEqual(new Set(['star', 'hash']));
    matcher.remove('a.*', 'star');
    expect(matchAll(matcher, 'a.b')).toEqual(new Set(['hash']));
    matcher.remove('a.#', 'hash');
    expect(matchAll(matcher, 'a.b').size).toBe(0);
    expect(matcher.size).toBe(0);
  });

  it('memoisation does not leak between consecutive matches', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('#.a', 'q1');
    matcher.add('#.b.#', 'q2');
    expect(matchAll(matcher, 'x.y.a')).toEqual(new Set(['q1']));
    expect(matchAll(matcher, 'a')).toEqual(new Set(['q1']));
    expect(matchAll(matcher, 'b')).toEqual(new Set(['q2']));
    expect(matchAll(matcher, 'b.a')).toEqual(new Set(['q1', 'q2']));
    expect(matchAll(matcher, 'x.y.z')).toEqual(new Set());
  });
});

describe('TopicMatcher at scale', () => {
  it('agrees with a reference matcher over 10,000 random bindings and 3,000 random keys', () => {
    const random = prng(0x5eed);
    const vocabulary = ['a', 'b', 'c', 'd', 'e', ''];
    const bindingWords = [...vocabulary, '*', '*', '#', '#'];
    const matcher = new TopicMatcher<number>();
    const bindings = new Map<number, string>();
    for (let id = 0; id < 10_000; id++) {
      const key = randomKey(random, bindingWords, 6);
      bindings.set(id, key);
      expect(matcher.add(key, id)).toBe(true);
    }
    expect(matcher.size).toBe(10_000);

    const groups = groupByKey(bindings);
    const routingKeys = Array.from({ length: 3_000 }, () => randomKey(random, vocabulary, 8));
    let totalMatches = 0;
    for (const routingKey of routingKeys) {
      const expected = referenceIds(groups, routingKey);
      totalMatches += expected.length;
      expect(sortedIds(matchAll(matcher, routingKey)), `routing key ${JSON.stringify(routingKey)}`).toEqual(expected);
    }
    // Guards against a vacuous comparison where neither side ever matched anything.
    expect(totalMatches).toBeGreaterThan(routingKeys.length);
  });

  it('keeps agreeing after half of the random bindings are removed', () => {
    const random = prng(42);
    const vocabulary = ['x', 'y', 'z', ''];
    const bindingWords = [...vocabulary, '*', '#'];
    const matcher = new TopicMatcher<number>();
    const bindings = new Map<number, string>();
    for (let id = 0; id < 4_000; id++) {
      const key = randomKey(random, bindingWords, 5);
      bindings.set(id, key);
      matcher.add(key, id);
    }
    const removed = new Map<number, string>();
    for (let id = 0; id < 4_000; id += 2) {
      const key = bindings.get(id);
      if (key === undefined) throw new Error('missing binding');
      expect(matcher.remove(key, id)).toBe(true);
      bindings.delete(id);
      removed.set(id, key);
    }
    // Removing what is already gone must not disturb the count.
    for (const [id, key] of removed) expect(matcher.remove(key, id)).toBe(false);
    expect(matcher.size).toBe(2_000);
    const groups = groupByKey(bindings);
    for (let i = 0; i < 1_000; i++) {
      const routingKey = randomKey(random, vocabulary, 6);
      expect(sortedIds(matchAll(matcher, routingKey)), `routing key ${JSON.stringify(routingKey)}`).toEqual(
        referenceIds(groups, routingKey),
      );
    }
  });

  it('handles a pathological chain of `#` against a 40-word key', () => {
    const matcher = new TopicMatcher<string>();
    matcher.add('#.#.#.#.#.#.#.#.#.#.a', 'hit');
    matcher.add('#.#.#.#.#.#.#.#.#.#.b', 'miss');
    matcher.add('#.x.#.x.#.x.#.x.#.x.#.x.#.a', 'interleaved');
    const longKey = [...Array.from({ length: 39 }, () => 'x'), 'a'].join('.');
    expect(matchAll(matcher, longKey)).toEqual(new Set(['hit', 'interleaved']));
    const noMatch = Array.from({ length: 40 }, () => 'x').join('.');
    expect(matchAll(matcher, noMatch).size).toBe(0);
  });
});
