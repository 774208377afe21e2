import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/auth/login-throttle.js';

function throttle(): { throttle: LoginThrottle; advance(ms: number): void } {
  let now = 1_000_000;
  const t = new LoginThrottle({ addressAllowance: 3, userAllowance: 5, basePenaltyMs: 1000, maxPenaltyMs: 8000, forgetAfterMs: 60_000, now: () => now });
  return { throttle: t, advance: (ms) => void (now += ms) };
}

describe('LoginThrottle', () => {
  it('allows the allowance, then makes each further failure wait a doubling penalty up to the cap', () => {
    const { throttle: t, advance } = throttle();
    for (let i = 0; i < 3; i++) {
      expect(t.check('10.0.0.1', `user${i}`)).toEqual({ allowed: true });
      t.failed('10.0.0.1', `user${i}`);
    }
    expect(t.check('10.0.0.1', 'other')).toEqual({ allowed: true });
    t.failed('10.0.0.1', 'other');
    expect(t.check('10.0.0.1', 'other')).toEqual({ allowed: false, retryAfterMs: 1000, by: 'address' });
    const penalties: number[] = [];
    for (let i = 0; i < 5; i++) {
      const verdict = t.check('10.0.0.1', 'x');
      penalties.push(verdict.allowed ? 0 : verdict.retryAfterMs);
      advance(verdict.allowed ? 0 : verdict.retryAfterMs);
      expect(t.check('10.0.0.1', 'x').allowed).toBe(true);
      t.failed('10.0.0.1', 'x');
    }
    expect(penalties).toEqual([1000, 2000, 4000, 8000, 8000]);
    // Another address is not affected.
    expect(t.check('10.0.0.2', 'y')).toEqual({ allowed: true });
  });

  it('throttles a user guessed at from many addresses', () => {
    const { throttle: t } = throttle();
    for (let i = 0; i < 6; i++) t.failed(`10.0.1.${i}`, 'alice');
    expect(t.check('10.0.2.1', 'alice')).toMatchObject({ allowed: false, by: 'user' });
    expect(t.check('10.0.2.1', 'bob')).toEqual({ allowed: true });
  });

  it('forgets on success, and after a quiet period', () => {
    const { throttle: t, advance } = throttle();
    for (let i = 0; i < 5; i++) t.failed('10.0.0.1', 'alice');
    expect(t.check('10.0.0.1', 'alice').allowed).toBe(false);
    t.succeeded('10.0.0.1', 'alice');
    expect(t.check('10.0.0.1', 'alice')).toEqual({ allowed: true });
    for (let i = 0; i < 5; i++) t.failed('10.0.0.3', 'carol');
    advance(60_001);
    expect(t.check('10.0.0.3', 'carol')).toEqual({ allowed: true });
  });

  it('keeps a bounded number of keys', () => {
    let now = 0;
    const t = new LoginThrottle({ addressAllowance: 0, maxKeys: 10, now: () => now });
    for (let i = 0; i < 100; i++) {
      now++;
      t.failed(`10.0.0.${i}`, 'u');
    }
    // The oldest addresses were forgotten; the newest is still blocked.
    expect(t.check('10.0.0.0', 'nobody').allowed).toBe(true);
    expect(t.check('10.0.0.99', 'nobody').allowed).toBe(false);
  });
});
