import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/broker/deque.js';
import { prng } from '../helpers/prng.js';

function contents<T>(deque: Deque<T>): T[] {
  return [...deque];
}

function byIndex<T>(deque: Deque<T>): (T | undefined)[] {
  const out: (T | undefined)[] = [];
  for (let i = 0; i < deque.length; i++) out.push(deque.at(i));
  return out;
}

describe('Deque', () => {
  it('starts empty', () => {
    const deque = new Deque<number>();
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
    expect(deque.peek()).toBeUndefined();
    expect(deque.at(0)).toBeUndefined();
    expect(contents(deque)).toEqual([]);
  });

  it('is first in, first out', () => {
    const deque = new Deque<string>();
    for (const item of ['a', 'b', 'c']) deque.push(item);
    expect(deque.length).toBe(3);
    expect(deque.shift()).toBe('a');
    expect(deque.shift()).toBe('b');
    expect(deque.length).toBe(1);
    deque.push('d');
    expect(deque.shift()).toBe('c');
    expect(deque.shift()).toBe('d');
    expect(deque.shift()).toBeUndefined();
    expect(deque.length).toBe(0);
  });

  it('peek returns the head without removing it', () => {
    const deque = new Deque<number>();
    deque.push(1);
    deque.push(2);
    expect(deque.peek()).toBe(1);
    expect(deque.peek()).toBe(1);
    expect(deque.length).toBe(2);
    deque.shift();
    expect(deque.peek()).toBe(2);
  });

  it('at() reads by position from the head and is undefined out of range', () => {
    const deque = new Deque<number>();
    for (let i = 10; i < 15; i++) deque.push(i);
    deque.shift();
    expect(byIndex(deque)).toEqual([11, 12, 13, 14]);
    expect(deque.at(-1)).toBeUndefined();
    expect(deque.at(4)).toBeUndefined();
    expect(deque.at(100)).toBeUndefined();
  });

  it('keeps order when the ring wraps around', () => {
    const deque = new Deque<number>(4);
    deque.push(1);
    deque.push(2);
    deque.push(3);
    expect(deque.shift()).toBe(1);
    expect(deque.shift()).toBe(2);
    // head is now at slot 2; these wrap to slots 3, 0 and 1
    deque.push(4);
    deque.push(5);
    deque.push(6);
    expect(deque.length).toBe(4);
    expect(contents(deque)).toEqual([3, 4, 5, 6]);
    expect(byIndex(deque)).toEqual([3, 4, 5, 6]);
    expect(deque.peek()).toBe(3);
  });

  it('keeps order when it grows while wrapped', () => {
    const deque = new Deque<number>(4);
    for (let i = 1; i <= 4; i++) deque.push(i);
    deque.shift();
    deque.shift();
    for (let i = 5; i <= 11; i++) deque.push(i); // wraps, then grows twice
    expect(deque.length).toBe(9);
    expect(contents(deque)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(byIndex(deque)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const drained: number[] = [];
    for (let item = deque.shift(); item !== undefined; item = deque.shift()) drained.push(item);
    expect(drained).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('works from an initial capacity of 1', () => {
    const deque = new Deque<number>(1);
    for (let i = 0; i < 5; i++) deque.push(i);
    expect(contents(deque)).toEqual([0, 1, 2, 3, 4]);
    expect(deque.shift()).toBe(0);
  });

  it('works from an initial capacity of 0', () => {
    const deque = new Deque<number>(0);
    deque.push(1);
    deque.push(2);
    deque.push(3);
    expect(deque.length).toBe(3);
    expect(contents(deque)).toEqual([1, 2, 3]);
    expect(deque.shift()).toBe(1);
    expect(deque.shift()).toBe(2);
    expect(deque.shift()).toBe(3);
  });

  it('holds falsy values', () => {
    const deque = new Deque<number | string | boolean | null>();
    for (const item of [0, '', false, null]) deque.push(item);
    expect(deque.length).toBe(4);
    expect(byIndex(deque)).toEqual([0, '', false, null]);
    expect(deque.shift()).toBe(0);
    expect(deque.shift()).toBe('');
    expect(deque.shift()).toBe(false);
    expect(deque.shift()).toBeNull();
    expect(deque.length).toBe(0);
  });

  it('clear() empties it and it can be used again', () => {
    const deque = new Deque<number>(2);
    for (let i = 0; i < 40; i++) deque.push(i);
    deque.shift();
    deque.clear();
    expect(deque.length).toBe(0);
    expect(deque.peek()).toBeUndefined();
    expect(contents(deque)).toEqual([]);
    deque.push(7);
    deque.push(8);
    expect(contents(deque)).toEqual([7, 8]);
  });

  it('iteration does not consume', () => {
    const deque = new Deque<number>();
    deque.push(1);
    deque.push(2);
    expect(contents(deque)).toEqual([1, 2]);
    expect(contents(deque)).toEqual([1, 2]);
    expect(deque.length).toBe(2);
  });

  it('matches an array model over many random operations', () => {
    const random = prng(42);
    const deque = new Deque<number>(2);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55) {
        deque.push(next);
        model.push(next);
        next++;
      } else {
        expect(deque.shift()).toBe(model.shift());
      }
      expect(deque.length).toBe(model.length);
      expect(deque.peek()).toBe(model[0]);
      if (step % 997 === 0) {
        expect(contents(deque)).toEqual(model);
        expect(byIndex(deque)).toEqual(model);
      }
    }
    expect(contents(deque)).toEqual(model);
  });
});
