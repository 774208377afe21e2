/**
 * Publisher confirms waiting for their message to be settled by every durable queue before its record
 * is on disk (see DurabilityBarrier.onAllSettled), by message id, in id order. Keyed by id rather than
 * by the message: an object key makes V8 give every message an identity hash, which costs more garbage
 * collection than the rest of the confirm.
 */
export class SettleWaiters {
  private readonly waiting = new Map<number, () => void>();

  add(id: number, settled: () => void): void {
    this.waiting.set(id, settled);
  }

  /** Every durable queue settled the message `id`: its confirm goes now. */
  settled(id: number): void {
    if (this.waiting.size === 0) return;
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    waiter();
  }

  /** Every message up to `id` is on disk (or refused): their confirms went with the write. */
  storedThrough(id: number): void {
    for (const waiting of this.waiting.keys()) {
      if (waiting > id) break;
      this.waiting.delete(waiting);
    }
  }
}
