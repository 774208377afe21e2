/** Small promise helpers for tests driven by client callbacks. */

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Collects values pushed by a callback until `count` have arrived. `done` rejects after `timeoutMs`
 * naming what did arrive, so a missing delivery fails with the evidence rather than a bare timeout.
 */
export function collector<T>(count: number, what: string, timeoutMs = 5000): { push(value: T): void; readonly items: T[]; done: Promise<T[]> } {
  const items: T[] = [];
  const d = deferred<T[]>();
  const timer = setTimeout(() => d.reject(new Error(`expected ${count} ${what}, got ${items.length}: ${JSON.stringify(items)}`)), timeoutMs);
  if (count === 0) {
    clearTimeout(timer);
    d.resolve(items);
  }
  return {
    items,
    push(value: T) {
      items.push(value);
      if (items.length === count) {
        clearTimeout(timer);
        d.resolve(items);
      }
    },
    done: d.promise,
  };
}

/** Rejects with `what` if `promise` has not settled within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
