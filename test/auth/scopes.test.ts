// RabbitMQ's scope grammar and wildcard rules (rabbit_oauth2_scope, wildcard.erl), as a table.
import { describe, expect, it } from 'vitest';
import { parseScopes, scopesAllow, scopesAllowTopic, scopesAllowVhost, wildcard } from '../../src/auth/scopes.js';

describe('wildcard', () => {
  const cases: Array<[pattern: string, subject: string, matches: boolean]> = [
    ['*', '', true],
    ['*', 'anything', true],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc', 'xabc', false],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abbc', true],
    ['a*c', 'abcd', false],
    ['a*b*c', 'a-b-c', true],
    ['q.*', 'q.orders', true],
    ['q.*', 'qxorders', false],
    ['%2F', '/', true],
    ['%2Fprod*', '/production', true],
    ['%2A', '*', true],
    ['%2A', 'x', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    // `?` and `\` are literal in a scope: only `*` is a wildcard.
    ['a?c', 'a?c', true],
    ['a?c', 'abc', false],
    ['a%5Cb', 'a\\b', true],
  ];
  it.each(cases)('%s against %s: %s', (pattern, subject, matches) => {
    expect(wildcard(pattern)?.matches(subject)).toBe(matches);
  });

  it('stays fast on a pattern that would make a regular expression backtrack', () => {
    expect(wildcard(`${'*a'.repeat(30)}b`)?.matches('a'.repeat(255))).toBe(false);
  });

  it('is void when a part does not percent-decode', () => {
    expect(wildcard('%zz')).toBeUndefined();
  });
});

describe('parseScopes', () => {
  const scopes = parseScopes(
    [
      'warren.read:*/*',
      'warren.write:%2F/x.*',
      'warren.write:%2F/amq.topic/orders.*',
      'warren.configure:dev/*',
      'warren.tag:management',
      'warren.tag:',
      'rabbitmq.configure:*/*',
      'warren.delete:*/*',
      'warren.read:missing-slash',
      'warren.read:a/b/c/d',
      'warren.configure:%zz/*',
      'openid',
    ],
    'warren',
  );

  it('keeps permission and tag scopes of this resource server only', () => {
    expect(scopes.permissions).toHaveLength(4);
    expect(scopes.tags).toEqual(['management']);
  });

  it('grants exactly the access named, where vhost and name match', () => {
    expect(scopesAllow(scopes, '/', 'read', 'anything')).toBe(true);
    expect(scopesAllow(scopes, '/', 'write', 'x.1')).toBe(true);
    expect(scopesAllow(scopes, '/', 'write', 'y.1')).toBe(false);
    expect(scopesAllow(scopes, 'dev', 'write', 'x.1')).toBe(false);
    expect(scopesAllow(scopes, 'dev', 'configure', 'q')).toBe(true);
    expect(scopesAllow(scopes, '/', 'configure', 'q')).toBe(false);
    expect(scopesAllow(scopes, '/', 'write', 'amq.topic')).toBe(true);
  });

  it('opens a vhost named by any scope', () => {
    expect(scopesAllowVhost(scopes, 'dev')).toBe(true);
    expect(scopesAllowVhost(parseScopes(['warren.write:%2F/x'], 'warren'), 'dev')).toBe(false);
  });

  it('grants topic access only through a routing-key part', () => {
    expect(scopesAllowTopic(scopes, '/', 'write', 'amq.topic', 'orders.eu')).toBe(true);
    expect(scopesAllowTopic(scopes, '/', 'write', 'amq.topic', 'invoices.eu')).toBe(false);
    // `read:*/*` has no routing-key part: no topic access from it.
    expect(scopesAllowTopic(scopes, '/', 'read', 'amq.topic', 'orders.eu')).toBe(false);
  });
});
