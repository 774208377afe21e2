/**
 * What the main thread and the lease worker say to each other, and the shared memory through which the
 * main thread reads the lease's state without waiting for a message (its event loop may be what stalled).
 */

export interface LeaseWorkerData {
  readonly endpoints: readonly string[];
  readonly ttlSeconds: number;
  /** Four int64 slots: see `LeaseSlot`. */
  readonly shared: SharedArrayBuffer;
  /** Give the lease up when the main thread has not beaten for this long (0: never). */
  readonly maxMainStallMs: number;
  /** Give the lease up when a disk write reported in flight is older than this (0: never). */
  readonly diskStallMs: number;
}

export const LeaseSlot = {
  /** Until when (ms, `performance.timeOrigin + performance.now()`) the lease is surely alive in etcd. */
  VALID_UNTIL: 0,
  /** A `LeaseStateCode`. */
  STATE: 1,
  /** When the main thread's event loop last ran its heartbeat (ms, same clock). */
  MAIN_BEAT: 2,
  /** Since when the oldest disk write the main thread waits for has been in flight; 0 when none. */
  IO_PENDING_SINCE: 3,
} as const;

export const LeaseStateCode = {
  PENDING: 0n,
  ALIVE: 1n,
  LOST: 2n,
} as const;

export const SHARED_BYTES = 32;

export type WorkerToMain =
  | { readonly type: 'granted'; readonly leaseId: string }
  | { readonly type: 'grant-failed'; readonly message: string }
  | { readonly type: 'lost'; readonly reason: string }
  | { readonly type: 'revoked' };

export type MainToWorker =
  /** Revoke the lease in etcd (a clean leave: keys on it go at once) and stop. */
  | { readonly type: 'revoke' }
  /** Stop keeping the lease alive without revoking it: it expires after its TTL, as if the node died. */
  | { readonly type: 'abandon' };

/** Milliseconds on a clock both threads share and that does not jump with the wall clock. */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function parseWorkerMessage(value: unknown): WorkerToMain | undefined {
  if (!isRecord(value)) return undefined;
  switch (value['type']) {
    case 'granted':
      return typeof value['leaseId'] === 'string' ? { type: 'granted', leaseId: value['leaseId'] } : undefined;
    case 'grant-failed':
      return typeof value['message'] === 'string' ? { type: 'grant-failed', message: value['message'] } : undefined;
    case 'lost':
      return typeof value['reason'] === 'string' ? { type: 'lost', reason: value['reason'] } : undefined;
    case 'revoked':
      return { type: 'revoked' };
    default:
      return undefined;
  }
}

export function parseMainMessage(value: unknown): MainToWorker | undefined {
  if (!isRecord(value)) return undefined;
  if (value['type'] === 'revoke') return { type: 'revoke' };
  if (value['type'] === 'abandon') return { type: 'abandon' };
  return undefined;
}

export function parseWorkerData(value: unknown): LeaseWorkerData {
  if (
    !isRecord(value) ||
    !Array.isArray(value['endpoints']) ||
    !value['endpoints'].every((e): e is string => typeof e === 'string') ||
    typeof value['ttlSeconds'] !== 'number' ||
    !(value['shared'] instanceof SharedArrayBuffer) ||
    typeof value['maxMainStallMs'] !== 'number' ||
    typeof value['diskStallMs'] !== 'number'
  ) {
    throw new TypeError('lease worker started without valid workerData');
  }
  return {
    endpoints: value['endpoints'],
    ttlSeconds: value['ttlSeconds'],
    shared: value['shared'],
    maxMainStallMs: value['maxMainStallMs'],
    diskStallMs: value['diskStallMs'],
  };
}
