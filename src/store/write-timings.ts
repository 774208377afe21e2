import { Histogram } from '../broker/histogram.js';

/** fsync latency buckets, seconds: 100 µs (a battery-backed cache) to 2.5 s (a disk in trouble). */
const FSYNC_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Bytes per group commit: one small message to a full 1 MiB flush and beyond. */
const BATCH_BYTES = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
/** Messages per group commit: how many publishers share one fsync. */
const BATCH_MESSAGES = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/**
 * What the message store's group commit measures for Prometheus: one observation per flush, never per
 * message, so the cost is a few number updates each time a batch reaches the disk.
 */
export class WriteTimings {
  /** Seconds each flush waited for its fdatasync calls (run side by side). */
  readonly fsyncSeconds = new Histogram(FSYNC_SECONDS);
  readonly batchBytes = new Histogram(BATCH_BYTES);
  readonly batchMessages = new Histogram(BATCH_MESSAGES);
}
