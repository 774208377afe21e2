import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { systemClock } from '../../src/broker/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('FakeClock', () => {
  it('runs due tasks in time order, including ones scheduled by a task, and none early', () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.schedule(30, () => ran.push('c@30'));
    clock.schedule(10, () => {
      ran.push('a@10');
      clock.schedule(5, () => ran.push('b@15'));
    });
    const cancel = clock.schedule(20, () => ran.push('cancelled'));
    cancel();
    clock.advance(29);
    expect(ran).toEqual(['a@10', 'b@15']);
    expect(clock.now()).toBe(29);
    clock.advance(1);
    expect(ran).toEqual(['a@10', 'b@15', 'c@30']);
    expect(clock.pending).toBe(0);
  });
});

describe('Broker clock', () => {
  it('is the system clock unless one is given', () => {
    expect(new Broker().clock).toBe(systemClock);
    const fake = new FakeClock();
    expect(new Broker({ clock: fake }).clock).toBe(fake);
  });
});

describe('systemClock', () => {
  it('waits out a delay longer than a Node timer can hold instead of firing at once', async () => {
    let ran = false;
    const cancel = systemClock.schedule(10 * 365 * 24 * 3600 * 1000, () => void (ran = true));
    // A timer past 2^31-1 ms would have fired on the next turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(false);
    cancel();
  });

  it('runs a short task', async () => {
    await new Promise<void>((resolve) => systemClock.schedule(1, resolve));
  });
});
