/** The due-time index: one timer, due order, ties in publish order, removal, paging — on a fake clock. */
import { describe, expect, it } from 'vitest';
import { DelayIndex, dueItemOrder, type DueItem } from '../../src/broker/delay-index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { prng as seeded } from '../helpers/prng.js';

interface Item extends DueItem {
  readonly name: string;
}

function setUp(fire: (item: Item) => boolean = () => true): { clock: FakeClock; index: DelayIndex<Item>; fired: string[] } {
  const clock = new FakeClock();
  const fired: string[] = [];
  const index = new DelayIndex<Item>(
    clock,
    (item) => {
      fired.push(item.name);
      return fire(item);
    },
    dueItemOrder,
  );
  return { clock, index, fired };
}

let seq = 0;
const item = (clock: FakeClock, name: string, delay: number): Item => ({ name, due: clock.now() + delay, seq: ++seq });

describe('DelayIndex', () => {
  it('fires items in due order, each when due and not before, with one timer at a time', () => {
    const { clock, index, fired } = setUp();
    index.add(item(clock, 'c', 300));
    index.add(item(clock, 'a', 100));
    index.add(item(clock, 'b', 200));
    expect(clock.pending).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['a']);
    expect(clock.pending).toBe(1);
    clock.advance(250);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.pending).toBe(0);
    expect(index.size).toBe(0);
  });

  it('keeps publish order among items due at the same time', () => {
    const { clock, index, fired } = setUp();
    const due = clock.now() + 50;
    for (const name of ['1', '2', '3', '4', '5']) index.add({ name, due, seq: ++seq });
    clock.advance(50);
    expect(fired).toEqual(['1', '2', '3', '4', '5']);
  });

  it('re-arms its one timer for an earlier item, and after the earliest is removed', () => {
    const { clock, index, fired } = setUp();
    index.add(item(clock, 'late', 1000));
    index.add(item(clock, 'early', 10));
    expect(clock.pending).toBe(1);
    clock.advance(10);
    expect(fired).toEqual(['early']);
    index.add(item(clock, 'soon', 5));
    index.remove((i) => i.name === 'soon');
    clock.advance(100);
    expect(fired).toEqual(['early']);
    clock.advance(900);
    expect(fired).toEqual(['early', 'late']);
  });

  it('removes an item anywhere in the heap and keeps the order of the rest', () => {
    const { clock, index, fired } = setUp();
    for (let i = 0; i < 50; i++) index.add(item(clock, `m${i}`, 1000 - i * 10));
    expect(index.remove((i) => i.name === 'm25')?.name).toBe('m25');
    expect(index.remove((i) => i.name === 'nope')).toBeUndefined();
    expect(index.size).toBe(49);
    clock.advance(2000);
    const expected = Array.from({ length: 50 }, (_, i) => `m${49 - i}`).filter((n) => n !== 'm25');
    expect(fired).toEqual(expected);
  });

  it('pages in due order without disturbing the heap', () => {
    const { clock, index } = setUp();
    const random = seeded(7);
    const items = Array.from({ length: 300 }, (_, i) => item(clock, `r${i}`, 1 + Math.floor(random() * 100)));
    for (const it of items) index.add(it);
    const sorted = [...items].sort((a, b) => a.due - b.due || a.seq - b.seq).map((i) => i.name);
    expect(index.page(0, 10).map((i) => i.name)).toEqual(sorted.slice(0, 10));
    expect(index.page(120, 50).map((i) => i.name)).toEqual(sorted.slice(120, 170));
    expect(index.page(290, 50).map((i) => i.name)).toEqual(sorted.slice(290));
    expect(index.page(400, 5)).toEqual([]);
    expect(index.size).toBe(300);
    expect(index.peek()?.name).toBe(sorted[0]);
  });

  it('matches a sorted reference under random adds, removals and time steps', () => {
    const { clock, index, fired } = setUp();
    const random = seeded(42);
    const live: Item[] = [];
    const expectedFired: string[] = [];
    for (let step = 0; step < 2000; step++) {
      const roll = random();
      if (roll < 0.6) {
        const it = item(clock, `x${step}`, Math.floor(random() * 500));
        live.push(it);
        index.add(it);
      } else if (roll < 0.7 && live.length > 0) {
        const victim = live.splice(Math.floor(random() * live.length), 1)[0] as Item;
        expect(index.remove((i) => i === victim)).toBe(victim);
      } else {
        const until = clock.now() + Math.floor(random() * 50);
        live.sort((a, b) => a.due - b.due || a.seq - b.seq);
        while (live.length > 0 && (live[0] as Item).due <= until) expectedFired.push((live.shift() as Item).name);
        clock.advance(until - clock.now());
      }
    }
    expect(fired).toEqual(expectedFired);
    expect(index.size).toBe(live.length);
  });

  it('puts back an item its fire refuses, and tries again after the retry delay', () => {
    let allow = false;
    const { clock, index, fired } = setUp(() => allow);
    index.add(item(clock, 'held', 10));
    index.add(item(clock, 'next', 20));
    clock.advance(10);
    expect(fired).toEqual(['held']);
    expect(index.size).toBe(2);
    clock.advance(500);
    expect(fired).toEqual(['held']);
    allow = true;
    clock.advance(500);
    expect(fired).toEqual(['held', 'held', 'next']);
    expect(index.size).toBe(0);
  });

  it('yields between batches when very many fall due at once, and fires them all in order', () => {
    const { clock, index, fired } = setUp();
    for (let i = 0; i < 5000; i++) index.add({ name: String(i), due: clock.now() + 1, seq: ++seq });
    clock.advance(1);
    expect(fired.length).toBe(5000);
    expect(fired.every((name, i) => name === String(i))).toBe(true);
  });

  it('removeAll takes every match and the rest still fire in order', () => {
    const { clock, index, fired } = setUp();
    for (let i = 0; i < 20; i++) index.add(item(clock, `n${i}`, 100 + i));
    expect(index.removeAll((i) => Number(i.name.slice(1)) % 2 === 0).length).toBe(10);
    clock.advance(200);
    expect(fired).toEqual(Array.from({ length: 10 }, (_, i) => `n${2 * i + 1}`));
  });

  it('stop drops everything and cancels the timer', () => {
    const { clock, index, fired } = setUp();
    index.add(item(clock, 'a', 10));
    index.stop();
    expect(clock.pending).toBe(0);
    index.add(item(clock, 'b', 10));
    clock.advance(100);
    expect(fired).toEqual([]);
    expect(index.size).toBe(0);
  });
});
