import { describe, expect, it } from 'vitest';
import { StartupClock } from '../../src/broker/startup-clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('StartupClock', () => {
  it('holds tasks that fall due before the start is done, and runs them at started()', () => {
    const inner = new FakeClock();
    const clock = new StartupClock(inner);
    const ran: string[] = [];
    clock.schedule(10, () => ran.push('due during start'));
    const cancel = clock.schedule(20, () => ran.push('cancelled while held'));
    clock.schedule(1_000, () => ran.push('due after start'));
    inner.advance(50);
    cancel();
    expect(ran).toEqual([]);
    clock.started();
    expect(ran).toEqual(['due during start']);
    inner.advance(1_000);
    expect(ran).toEqual(['due during start', 'due after start']);
    expect(clock.now()).toBe(inner.now());
  });

  it('runs tasks when due once started, and cancels them', () => {
    const inner = new FakeClock();
    const clock = new StartupClock(inner);
    clock.started();
    const ran: number[] = [];
    clock.schedule(5, () => ran.push(5));
    clock.schedule(7, () => ran.push(7))();
    inner.advance(10);
    expect(ran).toEqual([5]);
    expect(inner.pending).toBe(0);
  });
});
