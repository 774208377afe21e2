import { LeaseSlot } from './lease-protocol.js';

export interface StallLimits {
  readonly maxMainStallMs: number;
  readonly diskStallMs: number;
}

/**
 * Why this node should give its lease up now, if it should. Keeping the lease from a worker thread is
 * right while the main thread is only briefly busy; it is wrong when the main thread has stopped serving
 * (stuck for long) or the disk stopped answering (an fsync that never returns): then the lease, kept
 * alive by a healthy thread, would hold a leadership nobody is exercising — a zombie leader whose
 * publishers wait forever while an in-sync follower could take over. Runs in the lease worker, which
 * never touches the disk, so it still runs when the main process is stuck in an uninterruptible fsync.
 */
export function stallReason(slots: BigInt64Array, now: number, limits: StallLimits): string | undefined {
  if (limits.maxMainStallMs > 0) {
    const beat = Number(Atomics.load(slots, LeaseSlot.MAIN_BEAT));
    if (beat > 0 && now - beat > limits.maxMainStallMs) {
      return `the main event loop has not run for ${Math.round(now - beat)} ms (limit ${limits.maxMainStallMs} ms)`;
    }
  }
  if (limits.diskStallMs > 0) {
    const since = Number(Atomics.load(slots, LeaseSlot.IO_PENDING_SINCE));
    if (since > 0 && now - since > limits.diskStallMs) {
      return `a disk write has been in flight for ${Math.round(now - since)} ms (limit ${limits.diskStallMs} ms)`;
    }
  }
  return undefined;
}
