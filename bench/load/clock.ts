/**
 * The generator's clock for send stamps and latencies. A job split across worker threads stamps in
 * one thread and reads in another, and each thread's `performance.now()` counts from its own start:
 * `alignClock` makes every thread count from the same origin.
 */
let origin = performance.timeOrigin;

/** Milliseconds since the shared origin (this thread's start unless aligned). */
export function benchNow(): number {
  return performance.timeOrigin - origin + performance.now();
}

/** Counts from `shared` (another thread's `performance.timeOrigin`) from now on. */
export function alignClock(shared: number): void {
  origin = shared;
}
