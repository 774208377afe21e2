import { describe, expect, it } from 'vitest';
import { ReadyList } from '../../src/broker/ready-list.js';
import { prng } from '../helpers/prng.js';

interface Item {
  readonly seq: number;
}

/** A list holding items with seq 1..n, and the items themselves (the same objects, for requeue). */
function listOf(n: number): { list: ReadyList<Item>; items: Item[] } {
  const list = new ReadyList<Item>();
  const items: Item[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const item = { seq };
    items.push(item);
    list.push(item);
  }
  return { list, items };
}

function take(list: ReadyList<Item>, count: number): Item[] {
  const out: Item[] = [];
  for (let i = 0; i < count; i++) {
    const item = list.shift();
    if (!item) throw new Error('list ran out');
    out.push(item);
  }
  return out;
}

const seqs = (items: Iterable<Item>): number[] => [...items].map((i) => i.seq);

function byIndex(list: ReadyList<Item>): number[] {
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list.at(i);
    if (!item) throw new Error(`hole at ${i}`);
    out.push(item.seq);
  }
  return out;
}

/** Iteration, at() and peek agree, and shifting everything gives the same order. */
function expectOrder(list: ReadyList<Item>, expected: number[]): void {
  expect(list.length).toBe(expected.length);
  expect(seqs(list)).toEqual(expected);
  expect(byIndex(list)).toEqual(expected);
  expect(list.peek()?.seq).toBe(expected[0]);
}

describe('ReadyList', () => {
  it('starts empty', () => {
    const list = new ReadyList<Item>();
    expect(list.length).toBe(0);
    expect(list.shift()).toBeUndefined();
    expect(list.peek()).toBeUndefined();
    expect(list.at(0)).toBeUndefined();
    expect([...list]).toEqual([]);
    expect(list.drain()).toEqual([]);
  });

  it('is FIFO without requeues', () => {
    const { list } = listOf(4);
    expectOrder(list, [1, 2, 3, 4]);
    expect(seqs(take(list, 2))).toEqual([1, 2]);
    expectOrder(list, [3, 4]);
  });

  it('puts a requeued item back at its original position, not at the tail', () => {
    const { list } = listOf(5);
    const [, second] = take(list, 3);
    list.requeue(second as Item);
    expectOrder(list, [2, 4, 5]);
  });

  it('a requeued head item goes back to the head', () => {
    const { list } = listOf(3);
    const [first] = take(list, 1);
    list.requeue(first as Item);
    expectOrder(list, [1, 2, 3]);
    expect(list.shift()).toBe(first);
  });

  it('restores the original order whatever order the requeues come in', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
      [2, 0, 1],
    ]) {
      const { list } = listOf(5);
      const taken = take(list, 3);
      for (const i of order) list.requeue(taken[i] as Item);
      expectOrder(list, [1, 2, 3, 4, 5]);
    }
  });

  it('keeps items that stayed out out of the list', () => {
    const { list } = listOf(6);
    const taken = take(list, 4);
    list.requeue(taken[3] as Item);
    list.requeue(taken[0] as Item);
    expectOrder(list, [1, 4, 5, 6]);
  });

  it('handles requeues interleaved with shifts', () => {
    const { list } = listOf(5);
    const [one, two, three] = take(list, 3) as [Item, Item, Item];
    list.requeue(two);
    expect(list.shift()).toBe(two);
    const four = list.shift() as Item;
    expect(four.seq).toBe(4);
    list.requeue(three);
    list.requeue(four);
    expectOrder(list, [3, 4, 5]);
    list.requeue(one);
    expectOrder(list, [1, 3, 4, 5]);
    expect(list.shift()).toBe(one);
    list.requeue(two);
    expectOrder(list, [2, 3, 4, 5]);
  });

  it('inserts correctly after the head of the requeued run has moved', () => {
    const { list } = listOf(6);
    const [one, two, three, four] = take(list, 4) as [Item, Item, Item, Item];
    list.requeue(one);
    list.requeue(three);
    expect(list.shift()).toBe(one); // the requeued run's head moves past 1
    list.requeue(two);
    expectOrder(list, [2, 3, 5, 6]);
    list.requeue(four);
    expectOrder(list, [2, 3, 4, 5, 6]);
    list.requeue(one);
    expectOrder(list, [1, 2, 3, 4, 5, 6]);
  });

  it('new pushes go behind requeued items', () => {
    const { list } = listOf(2);
    const [one] = take(list, 1);
    list.push({ seq: 3 });
    list.requeue(one as Item);
    list.push({ seq: 4 });
    expectOrder(list, [1, 2, 3, 4]);
  });

  it('at() spans the requeued run and the fresh items and is undefined out of range', () => {
    const { list } = listOf(5);
    const taken = take(list, 3);
    list.requeue(taken[0] as Item);
    list.requeue(taken[2] as Item);
    expect(list.at(0)?.seq).toBe(1);
    expect(list.at(1)?.seq).toBe(3);
    expect(list.at(2)?.seq).toBe(4);
    expect(list.at(3)?.seq).toBe(5);
    expect(list.at(4)).toBeUndefined();
    expect(list.at(-1)).toBeUndefined();
    list.shift();
    expect(list.at(-1)).toBeUndefined();
    expect(list.at(0)?.seq).toBe(3);
  });

  it('shift order equals iteration order', () => {
    const { list } = listOf(8);
    const taken = take(list, 5);
    for (const i of [4, 1, 3]) list.requeue(taken[i] as Item);
    const iterated = seqs(list);
    const shifted = seqs(take(list, list.length));
    expect(shifted).toEqual(iterated);
    expect(shifted).toEqual([2, 4, 5, 6, 7, 8]);
    expect(list.length).toBe(0);
  });

  it('drain() returns everything head first and leaves the list empty and usable', () => {
    const { list } = listOf(5);
    const taken = take(list, 3);
    list.requeue(taken[2] as Item);
    list.requeue(taken[0] as Item);
    expect(seqs(list.drain())).toEqual([1, 3, 4, 5]);
    expect(list.length).toBe(0);
    expect(list.shift()).toBeUndefined();
    expect(list.peek()).toBeUndefined();
    expect([...list]).toEqual([]);
    expect(list.drain()).toEqual([]);
    // items still out when the list was drained can come back, and new ones follow them
    list.push({ seq: 6 });
    list.requeue(taken[1] as Item);
    expectOrder(list, [2, 6]);
  });

  it('matches a sorted model over many random pushes, shifts and requeues', () => {
    const random = prng(7);
    const list = new ReadyList<Item>();
    let ready: Item[] = []; // the model: always sorted by seq
    const out: Item[] = [];
    let nextSeq = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.4) {
        const item = { seq: nextSeq++ };
        list.push(item);
        ready.push(item);
      } else if (r < 0.7) {
        const item = list.shift();
        expect(item).toBe(ready[0]);
        if (item) {
          ready = ready.slice(1);
          out.push(item);
        }
      } else if (out.length > 0) {
        const [item] = out.splice(Math.floor(random() * out.length), 1) as [Item];
        list.requeue(item);
        ready.push(item);
        ready.sort((a, b) => a.seq - b.seq);
      }
      expect(list.length).toBe(ready.length);
      expect(list.peek()).toBe(ready[0]);
      if (step % 499 === 0) {
        expect(seqs(list)).toEqual(seqs(ready));
        expect(byIndex(list)).toEqual(seqs(ready));
      }
    }
    expect(seqs(list.drain())).toEqual(seqs(ready));
  });
});
