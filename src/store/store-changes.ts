/**
 * Every change the durable state makes to the files of its data dir, told at the moment it is made, in
 * the order it is made. A cluster leader streams them to its followers so that their data dirs become
 * byte-identical copies (docs/cluster.md, "The replication stream"); without `--cluster` nobody listens.
 *
 * `file` is relative to the data dir with `/` separators: `messages/00000001.seg`,
 * `messages/segments.json`, `definitions.log`, `format.json`.
 */
export type StoreChange =
  /** Bytes written at `position` (one writev). Told as the write starts, before its fsync. */
  | { readonly kind: 'write'; readonly file: string; readonly position: number; readonly data: readonly Uint8Array[] }
  /** The file was replaced as a whole (temp file, fsync, rename, fsync of the directory). */
  | { readonly kind: 'replace'; readonly file: string; readonly data: readonly Uint8Array[] }
  /** Cut back to `size` bytes (a failed write undone, a torn tail). */
  | { readonly kind: 'truncate'; readonly file: string; readonly size: number }
  /** The file was deleted. */
  | { readonly kind: 'unlink'; readonly file: string };

/**
 * Told of each change synchronously, before the call that makes it. The buffers in `data` may be reused
 * by the store as soon as the call returns: an observer that keeps them must copy them.
 * Must not throw.
 */
export interface StoreChangeObserver {
  change(change: StoreChange): void;
}

/**
 * Told when the oldest write or fsync in flight began (`performance.timeOrigin + performance.now()`,
 * in ms), or `undefined` when none is in flight: the cluster's disk-stall watchdog
 * (LeaseKeeper.diskBusySince).
 */
export type DiskBusyReporter = (since: number | undefined) => void;
