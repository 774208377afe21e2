/** The trace stream's filter: its glob, its parsing, and how a chosen message is followed. */
import { describe, expect, it } from 'vitest';
import { Message } from '../../src/broker/message.js';
import { UNKNOWN_ORIGIN, type TraceEvent } from '../../src/broker/trace-event.js';
import { Glob } from '../../src/broker/message-filter.js';
import { parseTraceFilter, TraceSelection } from '../../src/operations/trace-filter.js';

describe('the routing-key glob (Glob)', () => {
  it.each([
    ['order.*', 'order.42.eu', true],
    ['order.*', 'order.', true],
    ['order.*', 'orders', false],
    ['*.eu', 'order.42.eu', true],
    ['*.eu', 'order.42.us', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'aXbYbZ', false],
    ['**?', 'x', true],
    ['literal.[x]+(y)', 'literal.[x]+(y)', true],
    ['literal.[x]+(y)', 'literal.x+y', false],
  ])('%s against %s: %s', (pattern, text, expected) => {
    expect(new Glob(pattern).matches(text)).toBe(expected);
  });

  it('stays fast on a pattern that would make a regex backtrack', () => {
    const pattern = `${'*a'.repeat(30)}b`;
    expect(new Glob(pattern).matches('a'.repeat(255))).toBe(false);
  });
});

describe('parseTraceFilter', () => {
  it('splits the header at its first =, and refuses one without a name or =', () => {
    expect(parseTraceFilter({ header: 'k=v=w' })).toMatchObject({ header: { name: 'k', value: 'v=w' } });
    expect(parseTraceFilter({ header: 'k=' })).toMatchObject({ header: { name: 'k', value: '' } });
    expect(parseTraceFilter({ header: '=v' })).toHaveProperty('problem');
    expect(parseTraceFilter({ header: 'kv' })).toHaveProperty('problem');
    expect(parseTraceFilter({ routing_key: 'x'.repeat(256) })).toEqual({ problem: 'routing_key is longer than 255 bytes' });
  });
});

let ids = 0;
function message(exchange: string, routingKey: string, headers: Record<string, string | number> = {}): Message {
  return Message.create(++ids, { exchange, routingKey, properties: { headers }, body: new Uint8Array() });
}
function base(msg: Message): Omit<TraceEvent, 'kind'> & { at: number } {
  const content = msg.content;
  return { at: 0, traceId: String(msg.id), message: msg, content, routingKeys: [content.routingKey], origin: UNKNOWN_ORIGIN };
}
const published = (msg: Message, queues: string[]): TraceEvent => ({ ...base(msg), kind: 'published', queues });
const delivered = (msg: Message, queue: string): TraceEvent => ({ ...base(msg), kind: 'delivered', queue, consumerTag: 'c', redelivered: false, deliveryCount: 1 });
const acked = (msg: Message, queue: string): TraceEvent => ({ ...base(msg), content: undefined, routingKeys: [], kind: 'acked', queue });

describe('TraceSelection', () => {
  it('follows a message chosen at its publish through events that no longer carry its content', () => {
    const selection = new TraceSelection({ exchange: 'x', header: { name: 'n', value: '1' } });
    const chosen = message('x', 'k', { n: 1 });
    const other = message('x', 'k', { n: 2 });
    expect(selection.select(published(chosen, ['q']))).toBe(true);
    expect(selection.select(published(other, ['q']))).toBe(false);
    expect(selection.select(acked(chosen, 'q'))).toBe(true);
    expect(selection.select(acked(other, 'q'))).toBe(false);
  });

  it('with a queue, keeps to that queue: the publishes routed there, and its events only', () => {
    const selection = new TraceSelection({ queue: 'a' });
    const both = message('fan', '');
    const elsewhere = message('fan', '');
    expect(selection.select(published(both, ['a', 'b']))).toBe(true);
    expect(selection.select(published(elsewhere, ['b']))).toBe(false);
    expect(selection.select(delivered(both, 'b'))).toBe(false);
    expect(selection.select(delivered(both, 'a'))).toBe(true);
    expect(selection.select(delivered(elsewhere, 'b'))).toBe(false);
    // A message already in the queue when the watch began shows up there.
    expect(selection.select(delivered(message('fan', ''), 'a'))).toBe(true);
  });

  it('follows a chosen message into its dead-lettered copy', () => {
    const selection = new TraceSelection({ routingKey: 'task.*' });
    const original = message('', 'task.1');
    const copy = message('dlx', 'task-dead');
    expect(selection.select(published(original, ['task.1']))).toBe(true);
    expect(selection.select({ ...base(copy), kind: 'routed', queues: ['dead'], fromTraceId: String(original.id) })).toBe(true);
    expect(selection.select(delivered(copy, 'dead'))).toBe(true);
    expect(selection.select(delivered(message('dlx', 'task-dead'), 'dead'))).toBe(false);
  });
});
