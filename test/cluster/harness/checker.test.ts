// The checker on hand-made journals: a clean one, and one of each violation it must find.
import { describe, expect, it } from 'vitest';
import { check, summary, type AckRecord, type ConfirmRecord, type DeliveryRecord, type Journal } from './checker.js';

/** A journal written in the order given: `n` counts across the three kinds, `at` follows it. */
function journal(events: ({ c: Omit<ConfirmRecord, 'n' | 'at'> } | { d: Omit<DeliveryRecord, 'n' | 'at'> } | { a: Omit<AckRecord, 'n' | 'at'> })[]): Journal {
  const confirms: ConfirmRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  const acks: AckRecord[] = [];
  events.forEach((event, n) => {
    const at = 1000 + n;
    if ('c' in event) confirms.push({ ...event.c, n, at });
    else if ('d' in event) deliveries.push({ ...event.d, n, at });
    else acks.push({ ...event.a, n, at });
  });
  return { confirms, deliveries, acks };
}

const published = (id: string, seq: number, queue = 'q1', attempt = 1) => ({ c: { id, queue, seq, attempt } });
const delivered = (id: string, seq: number, redelivered = false, queue = 'q1', attempt = 1) => ({ d: { id, queue, seq, attempt, redelivered } });
const acked = (id: string, attempt = 1) => ({ a: { id, attempt } });

describe('the harness checker', () => {
  it('a clean journal: every confirmed message delivered once, in order, acked', () => {
    const report = check(journal([
      published('a', 1), published('b', 2), published('x', 1, 'q2'),
      delivered('a', 1), delivered('x', 1, false, 'q2'), acked('a'), delivered('b', 2), acked('b'), acked('x'),
    ]));
    expect(summary(report)).toEqual({ confirmed: 3, lost: 0, duplicates: 0, republishedCopies: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
  });

  it('a confirmed message never delivered is lost; an unconfirmed one never delivered is not', () => {
    const report = check(journal([published('a', 1), published('b', 2), delivered('a', 1), delivered('u', 3)]));
    expect(report.lost).toEqual(['b']);
    expect(report.confirmed).toBe(2);
  });

  it('a copy delivered twice without the redelivered flag is an unflagged duplicate; with it, a flagged one', () => {
    const report = check(journal([
      published('a', 1), published('b', 2),
      delivered('a', 1), delivered('b', 2), delivered('a', 1, true), delivered('b', 2, false),
    ]));
    expect(report.duplicates.map((d) => d.id)).toEqual(['a', 'b']);
    expect(report.unflaggedDuplicates.map((d) => d.id)).toEqual(['b']);
    expect(report.republishedCopies).toEqual([]);
  });

  it("a publisher's re-sent copy is a duplicate but not the broker's: it is not unflagged", () => {
    const report = check(journal([
      published('a', 1), delivered('a', 1), acked('a'),
      published('a', 2, 'q1', 2), delivered('a', 2, false, 'q1', 2),
    ]));
    expect(report.duplicates).toHaveLength(1);
    expect(report.republishedCopies.map((d) => d.attempt)).toEqual([2]);
    expect(report.unflaggedDuplicates).toEqual([]);
    expect(report.ackedThenBack).toEqual([]);
    expect(report.orderViolations).toEqual([]);
  });

  it('an acked copy delivered again unflagged comes back after its ack; flagged it is allowed', () => {
    const report = check(journal([
      published('a', 1), published('b', 2),
      delivered('a', 1), acked('a'), delivered('b', 2), acked('b'),
      delivered('a', 1, false), delivered('b', 2, true),
    ]));
    expect(report.ackedThenBack.map((d) => d.id)).toEqual(['a']);
    expect(report.unflaggedDuplicates.map((d) => d.id)).toEqual(['a']);
  });

  it('an ack journaled after the second delivery does not count as before it', () => {
    const report = check(journal([published('a', 1), delivered('a', 1), delivered('a', 1, false), acked('a')]));
    expect(report.ackedThenBack).toEqual([]);
    expect(report.unflaggedDuplicates).toHaveLength(1);
  });

  it('per queue, a never-requeued message arriving below a higher seq is an order violation', () => {
    const report = check(journal([
      published('a', 1), published('b', 2), published('c', 3), published('x', 1, 'q2'), published('y', 2, 'q2'),
      delivered('a', 1), delivered('c', 3), delivered('b', 2),
      delivered('y', 2, false, 'q2'), delivered('x', 1, false, 'q2'),
    ]));
    expect(report.orderViolations).toEqual([
      { queue: 'q1', id: 'b', seq: 2, after: 3 },
      { queue: 'q2', id: 'x', seq: 1, after: 2 },
    ]);
  });

  it('a requeued message may arrive after later ones: not an order violation', () => {
    const report = check(journal([
      published('a', 1), published('b', 2), published('c', 3),
      delivered('a', 1), delivered('b', 2), delivered('c', 3), delivered('b', 2, true),
      delivered('d', 4),
    ]));
    expect(report.orderViolations).toEqual([]);
    expect(report.unflaggedDuplicates).toEqual([]);
  });

  it("a re-sent copy has a later seq: arriving after the copies sent before it is in order, before them is not", () => {
    const inOrder = check(journal([
      delivered('a', 1), delivered('b', 2), delivered('a', 3, false, 'q1', 2), delivered('c', 4),
    ]));
    expect(inOrder.orderViolations).toEqual([]);
    const early = check(journal([delivered('a', 3, false, 'q1', 2), delivered('b', 2)]));
    expect(early.orderViolations).toEqual([{ queue: 'q1', id: 'b', seq: 2, after: 3 }]);
  });

  it('queues are ordered independently: interleaving across queues is fine', () => {
    const report = check(journal([
      delivered('x', 5, false, 'q2'), delivered('a', 1), delivered('y', 6, false, 'q2'), delivered('b', 2),
    ]));
    expect(report.orderViolations).toEqual([]);
  });
});
