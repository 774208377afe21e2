/** Scheduled rows: numbers in columns, contents in shared slabs; rows and slabs are reused or let go. */
import { describe, expect, it } from 'vitest';
import { TextContent } from '../../src/broker/message.js';
import { ScheduleTable } from '../../src/broker/schedule-table.js';

const content = (i: number, size = 200): TextContent => {
  const text = `${i}:`.padEnd(size, 'x');
  return new TextContent('ex', `k${i}`, { headers: { 'x-delay': i } }, text, text.length);
};

describe('ScheduleTable', () => {
  it('keeps each row and its content intact across many adds and releases, reusing rows', () => {
    const table = new ScheduleTable();
    const live = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      live.set(table.add({ due: 1000 + i, seq: i, publishedAt: i, size: 200, storeRef: i % 3 === 0 ? i : undefined, returnTo: undefined, content: content(i) }), i);
      // Release every other earlier row, out of order, so slabs empty and refill unevenly.
      if (i % 2 === 1) {
        const [slot] = [...live.keys()].slice(-7, -6);
        if (slot !== undefined) {
          table.release(slot);
          live.delete(slot);
        }
      }
    }
    for (const [slot, i] of live) {
      expect(table.seq(slot)).toBe(i);
      expect(table.due(slot)).toBe(1000 + i);
      expect(table.storeRef(slot)).toBe(i % 3 === 0 ? i : undefined);
      const back = table.content(slot) as TextContent;
      expect(back.routingKey).toBe(`k${i}`);
      expect(back.text).toBe(content(i).text);
    }
    const before = live.size;
    const reused = table.add({ due: 1, seq: 99_999, publishedAt: 0, size: 3, storeRef: { opaque: true }, returnTo: undefined, content: content(99_999, 3) });
    expect(live.has(reused)).toBe(false);
    expect(table.storeRef(reused)).toEqual({ opaque: true });
    expect(live.size).toBe(before);
  });

  it('orders rows by due time, then publish order', () => {
    const table = new ScheduleTable();
    const a = table.add({ due: 10, seq: 2, publishedAt: 0, size: 1, storeRef: undefined, returnTo: undefined, content: content(1, 1) });
    const b = table.add({ due: 10, seq: 1, publishedAt: 0, size: 1, storeRef: undefined, returnTo: undefined, content: content(2, 1) });
    const c = table.add({ due: 5, seq: 3, publishedAt: 0, size: 1, storeRef: undefined, returnTo: undefined, content: content(3, 1) });
    expect(table.order.before(b, a)).toBe(true);
    expect(table.order.before(a, b)).toBe(false);
    expect(table.order.before(c, b)).toBe(true);
    expect(table.order.due(c)).toBe(5);
  });

  it('keeps a content larger than a quarter slab in a slab of its own', () => {
    const table = new ScheduleTable();
    const big = table.add({ due: 1, seq: 1, publishedAt: 0, size: 400_000, storeRef: undefined, returnTo: undefined, content: content(1, 400_000) });
    const small = table.add({ due: 2, seq: 2, publishedAt: 0, size: 10, storeRef: undefined, returnTo: undefined, content: content(2, 10) });
    expect((table.content(big) as TextContent).text.length).toBe(400_000);
    table.release(big);
    expect((table.content(small) as TextContent).text).toBe(content(2, 10).text);
  });
});
