/**
 * Time, as the domain sees it: the current time and one-shot timers. Lifecycle rules (queue expiry,
 * consumer timeouts, message TTL) take it from the broker, so tests drive them with a fake clock and no
 * test ever sleeps.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `task` once, `ms` from now; the returned function cancels it. Never keeps the process alive. */
  schedule(ms: number, task: () => void): () => void;
}

/** Node fires a timer longer than this at once; a longer wait is reached in steps. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now` and unref'd timers, of any length (an `x-expires` may be ten years). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, task) {
    const due = Date.now() + Math.max(0, ms);
    let timer: ReturnType<typeof setTimeout>;
    const arm = (): void => {
      const left = due - Date.now();
      timer = setTimeout(left > LONGEST_TIMER_MS ? arm : task, Math.min(Math.max(0, left), LONGEST_TIMER_MS));
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
