import { describe, expect, it } from 'vitest';
import { deathContent } from '../helpers/x-death-content.js';
import { Message, TextContent, type Headers, type MessageContent } from '../../src/broker/message.js';
import { Glob, MessageFilter } from '../../src/broker/message-filter.js';
import { deathOrigin, readdressed } from '../../src/broker/relocation.js';

const content = (routingKey: string, headers: Headers = {}, body = 'hello world'): MessageContent => ({
  exchange: 'x',
  routingKey,
  properties: { headers },
  body: new TextEncoder().encode(body),
});

describe('Glob (routing key filter)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['order.*', 'order.created.eu', true],
    ['order.*', 'order', false],
    ['order*', 'order', true],
    ['*.eu', 'order.created.eu', true],
    ['*.eu', 'order.created.us', false],
    ['order.?', 'order.a', true],
    ['order.?', 'order.ab', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['', '', true],
    ['*', '', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['#', 'anything', false],
    ['ü*', 'über', true],
  ];
  for (const [pattern, key, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${key}'`, () => expect(new Glob(pattern).matches(key)).toBe(expected));
  }

  it('stays linear on a pattern built to backtrack', () => {
    const pattern = `${'*a'.repeat(30)}b`;
    expect(new Glob(pattern).matches('a'.repeat(255))).toBe(false);
  });
});

describe('MessageFilter', () => {
  it('matches everything when empty', () => {
    expect(new MessageFilter().matchesContent(content('k'))).toBe(true);
  });

  it('needs every condition: routing key, headers (by JSON value), payload, first death reason', () => {
    const filter = new MessageFilter({ routingKey: 'order.*', headers: { tenant: 'acme', n: 1 }, payloadContains: 'world', firstDeathReason: 'rejected' });
    const good = { tenant: 'acme', n: 1, 'x-first-death-reason': 'rejected' };
    expect(filter.matchesContent(content('order.new', good))).toBe(true);
    expect(filter.matchesContent(content('invoice.new', good))).toBe(false);
    expect(filter.matchesContent(content('order.new', { ...good, tenant: 'other' }))).toBe(false);
    expect(filter.matchesContent(content('order.new', { ...good, n: '1' }))).toBe(false);
    expect(filter.matchesContent(content('order.new', { ...good, 'x-first-death-reason': 'expired' }))).toBe(false);
    expect(filter.matchesContent(content('order.new', good, 'hello there'))).toBe(false);
    const { tenant: _t, ...noTenant } = good;
    expect(filter.matchesContent(content('order.new', noTenant))).toBe(false);
  });

  it('finds a payload substring in binary and text bodies alike', () => {
    const filter = new MessageFilter({ payloadContains: 'lo wo' });
    expect(filter.matchesContent(content('k'))).toBe(true);
    expect(filter.matchesContent(new TextContent('x', 'k', {}, 'hello world', 11))).toBe(true);
    expect(filter.matchesContent(new TextContent('x', 'k', {}, 'hello', 5))).toBe(false);
    expect(new MessageFilter({ payloadContains: 'llo' }).matchesContent(content('k', {}, 'lllo'))).toBe(true);
  });

  it('matches an age range from the publish time, without the content', () => {
    const message = new Message(1, false, 0, 10_000, undefined);
    expect(new MessageFilter({ olderThanMs: 5000 }).matchesAge(message, 15_000)).toBe(true);
    expect(new MessageFilter({ olderThanMs: 5001 }).matchesAge(message, 15_000)).toBe(false);
    expect(new MessageFilter({ youngerThanMs: 5000 }).matchesAge(message, 15_000)).toBe(false);
    expect(new MessageFilter({ youngerThanMs: 5001 }).matchesAge(message, 15_000)).toBe(true);
  });
});

describe('deathOrigin', () => {
  it('is the first death: x-first-death-exchange and the routing keys of its x-death entry', () => {
    const headers = deathContent();
    expect(deathOrigin(headers)).toEqual({ exchange: 'orders', routingKeys: ['order.paid'] });
  });

  it('is undefined for a message that never died, or whose entries lost their routing keys', () => {
    expect(deathOrigin(undefined)).toBeUndefined();
    expect(deathOrigin({ other: 1 })).toBeUndefined();
    expect(deathOrigin({ 'x-first-death-exchange': 'orders' })).toBeUndefined();
  });

  it('falls back to the oldest entry when the first-death headers were stripped', () => {
    const { 'x-first-death-exchange': _e, 'x-first-death-queue': _q, 'x-first-death-reason': _r, ...rest } = deathContent();
    expect(deathOrigin(rest)).toEqual({ exchange: 'orders', routingKeys: ['order.paid'] });
  });
});

describe('readdressed', () => {
  it('changes exchange and routing key only, keeping text bodies as text', () => {
    const text = new TextContent('a', 'k', { headers: { h: 1 } }, 'body', 4);
    const moved = readdressed(text, 'b', 'k2');
    expect(moved).toBeInstanceOf(TextContent);
    expect(moved).toMatchObject({ exchange: 'b', routingKey: 'k2', properties: { headers: { h: 1 } }, text: 'body' });
    expect(readdressed(text, 'a', 'k')).toBe(text);
  });
});
