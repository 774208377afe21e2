/**
 * Every change the durable state makes to the files of its data dir, told at the moment it is made, in
 * the order it is made. A cluster leader streams them to its followers so that their data dirs become
 * byte-identical copies (docs/cluster.md, "The replication stream"); without `--cluster` nobody listens.
 *
 * `file` is relative to the data dir with `/` separators: `messages/00000001.seg`,
 * `messages/segments.json`, `definitions.log`, `format.json`.
 */
export type StoreChange =
  /**
   * Bytes written at `position` (one writev). Told as the write starts, before its fsync. A file's first
   * write creates it (a new segment has no change of its own).
   */
  | { readonly kind: 'write'; readonly file: string; readonly position: number; readonly data: readonly Uint8Array[] }
  /**
   * The file was replaced as a whole (temp file, fsync, rename, fsync of the directory). Told once the
   * rename is done (before the directory's fsync): the temp file itself is never told.
   */
  | { readonly kind: 'replace'; readonly file: string; readonly data: readonly Uint8Array[] }
  /** Cut back to `size` bytes (a failed write undone, a torn tail). Told before the truncation. */
  | { readonly kind: 'truncate'; readonly file: string; readonly size: number }
  /** The file was deleted. Told once it is; may name a file that was not there (apply it as done). */
  | { readonly kind: 'unlink'; readonly file: string };

/**
 * Told of each change synchronously, in the order the changes are made: a write or a truncation just
 * before the call that makes it (even if that call then fails: a failed write is followed by the
 * truncation that undoes it), a replace or an unlink as soon as it is done (a follower must never
 * replace or delete a file the leader could not). The buffers in `data` may be reused
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
