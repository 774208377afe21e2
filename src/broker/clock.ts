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

/** The real clock: `Date.now` and unref'd timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, task) {
    const timer = setTimeout(task, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
