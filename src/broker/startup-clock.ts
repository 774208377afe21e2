import type { Clock } from './clock.js';

/**
 * A clock whose timers do not run before the broker has started. Recovery declares the durable queues
 * (an `x-expires` countdown starts there) before their stored messages are back and before the
 * definitions log takes writes; a queue expiring in between would lose its deletion record, and its
 * stored messages would come back in a queue declared anew. A task that falls due during the start runs
 * once `started()` is called, which is what RabbitMQ's leases restarting at boot amount to.
 */
export class StartupClock implements Clock {
  private held: Array<() => void> | undefined = [];

  constructor(private readonly inner: Clock) {}

  now(): number {
    return this.inner.now();
  }

  schedule(ms: number, task: () => void): () => void {
    let cancelled = false;
    const run = (): void => {
      if (!cancelled) task();
    };
    const cancel = this.inner.schedule(ms, () => {
      if (this.held) this.held.push(run);
      else run();
    });
    return () => {
      cancelled = true;
      cancel();
    };
  }

  /** Runs what fell due during the start; from now on tasks run when due. */
  started(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const run of held) run();
  }
}
