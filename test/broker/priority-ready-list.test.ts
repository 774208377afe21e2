import { describe, expect, it } from 'vitest';
import { PriorityReadyList } from '../../src/broker/priority-ready-list.js';
import { prng } from '../helpers/prng.js';

interface Item {
  readonly seq: number;
  readonly priority: number;
}

const MAX = 5;

function newList(max = MAX): PriorityReadyList<Item> {
  return new PriorityReadyList<Item>(max, (item) => item.priority);
}

const seqs = (items: Iterable<Item>): number[] => [...items].map((i) => i.seq);

/** The model's order: highest (capped) priority first, then by seq, which is where a requeue goes back to. */
function modelSort(items: Item[], max = MAX): Item[] {
  const level = (item: Item): number => Math.min(item.priority, max);
  return [...items].sort((a, b) => level(b) - level(a) || a.seq - b.seq);
}

function byIndex(list: PriorityReadyList<Item>): number[] {
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list.at(i);
    if (!item) throw new Error(`hole at ${i}`);
    out.push(item.seq);
  }
  return out;
}

describe('PriorityReadyList', () => {
  it('starts empty', () => {
    const list = newList();
    expect(list.length).toBe(0);
    expect(list.shift()).toBeUndefined();
    expect(list.peek()).toBeUndefined();
    expect(list.at(0)).toBeUndefined();
    expect(list.at(-1)).toBeUndefined();
    expect([...list]).toEqual([]);
    expect(list.drain()).toEqual([]);
  });

  it('orders by level, FIFO within a level, above the maximum counting as the maximum', () => {
    const list = newList(3);
    const items = [
      { seq: 1, priority: 0 },
      { seq: 2, priority: 2 },
      { seq: 3, priority: 9 },
      { seq: 4, priority: 3 },
      { seq: 5, priority: 2 },
      { seq: 6, priority: 0 },
    ];
    for (const item of items) list.push(item);
    expect(seqs(list)).toEqual([3, 4, 2, 5, 1, 6]);
    expect(byIndex(list)).toEqual([3, 4, 2, 5, 1, 6]);
    expect(list.countAhead({ seq: 7, priority: 2 })).toBe(4);
    expect(list.countAhead({ seq: 7, priority: 200 })).toBe(2);
    expect(list.countAhead({ seq: 7, priority: 0 })).toBe(6);
  });

  it('puts a requeued item back at its place within its level', () => {
    const list = newList();
    for (const [seq, priority] of [
      [1, 1],
      [2, 4],
      [3, 1],
      [4, 4],
    ] as const)
      list.push({ seq, priority });
    const first = list.shift() as Item; // 2
    const second = list.shift() as Item; // 4
    const third = list.shift() as Item; // 1
    list.push({ seq: 5, priority: 4 });
    list.requeue(third);
    list.requeue(first);
    expect(seqs(list)).toEqual([2, 5, 1, 3]);
    list.requeue(second);
    expect(seqs(list)).toEqual([2, 4, 5, 1, 3]);
  });

  it('removeNewest takes from every level and returns in seq order', () => {
    const list = newList();
    for (let seq = 1; seq <= 8; seq++) list.push({ seq, priority: seq % 3 });
    const removed = list.removeNewest(5, (item) => item.seq !== 6);
    expect(seqs(removed)).toEqual([5, 7, 8]);
    expect(list.length).toBe(5);
    expect(seqs(list)).toEqual([2, 1, 4, 3, 6]);
  });

  it('matches a sorted model over many random pushes, shifts, requeues and removals', () => {
    const random = prng(11);
    const list = newList();
    let ready: Item[] = [];
    const out: Item[] = [];
    const everHandedOut = new Set<Item>();
    let nextSeq = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.4) {
        // Some above the maximum, which count as the maximum.
        const item = { seq: nextSeq++, priority: Math.floor(random() * (MAX + 3)) };
        expect(list.countAhead(item)).toBe(modelSort([...ready, item]).indexOf(item));
        list.push(item);
        ready = modelSort([...ready, item]);
      } else if (r < 0.7) {
        const item = list.shift();
        expect(item).toBe(ready[0]);
        if (item) {
          ready = ready.slice(1);
          out.push(item);
          everHandedOut.add(item);
        }
      } else if (r < 0.97) {
        if (out.length === 0) continue;
        const [item] = out.splice(Math.floor(random() * out.length), 1) as [Item];
        list.requeue(item);
        ready = modelSort([...ready, item]);
      } else if (r < 0.99) {
        // Only never-handed-out items are withdrawn (the queue's refused writes): the most recent pushes.
        const from = nextSeq - Math.floor(random() * 5);
        const eligible = (item: Item): boolean => item.seq >= from && !everHandedOut.has(item) && item.seq % 2 === 0;
        const removed = list.removeNewest(from, (item) => item.seq % 2 === 0);
        expect(seqs(removed)).toEqual(seqs(ready.filter(eligible).sort((a, b) => a.seq - b.seq)));
        ready = ready.filter((item) => !removed.includes(item));
      } else {
        expect(seqs(list.drain())).toEqual(seqs(ready));
        ready = [];
      }
      expect(list.length).toBe(ready.length);
      expect(list.peek()).toBe(ready[0]);
      const probe = Math.floor(random() * (ready.length + 2)) - 1;
      expect(list.at(probe)).toBe(probe >= 0 ? ready[probe] : undefined);
      if (step % 499 === 0) {
        expect(seqs(list)).toEqual(seqs(ready));
        expect(byIndex(list)).toEqual(seqs(ready));
      }
    }
    expect(seqs(list.drain())).toEqual(seqs(ready));
  });
});
