/**
 * A tiny typed event emitter that runs in browsers and Node alike (no node:events).
 * Listener arrays are copy-on-write, so emitting never allocates and listeners may come and go mid-emit.
 * A listener that throws does not stop the others: its error is rethrown asynchronously.
 */
export type Listener<T> = (value: T) => void;

export class Emitter<Events extends object> {
  #listeners: { [E in keyof Events]?: ReadonlyArray<Listener<Events[E]>> } = {};

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.#listeners[event] = [...(this.#listeners[event] ?? []), listener];
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    const list = this.#listeners[event];
    if (!list) return;
    const i = list.indexOf(listener);
    if (i < 0) return;
    const next = list.slice();
    next.splice(i, 1);
    this.#listeners[event] = next;
  }

  emit<E extends keyof Events>(event: E, value: Events[E]): void {
    const list = this.#listeners[event];
    if (!list) return;
    for (const listener of list) invokeSafely(listener, value);
  }
}

/** Calls a user callback; an exception is rethrown on a microtask so the caller's state stays consistent. */
export function invokeSafely<T>(fn: Listener<T>, value: T): void {
  try {
    fn(value);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
