import type { Message } from '../broker/message.js';
import type { Batch } from './write-batch.js';

/**
 * How far the store may tell `storedThrough` (StoreWatcher: every message up to it is on disk, or was
 * refused). After a failed write the messages a consumer had are kept and written again with the retry:
 * until that retry is on disk, the mark stops short of the lowest of them.
 */
export class StoredMark {
  /** Every message with an id up to this is on disk, was refused, or was kept. */
  private covered: number;
  private lowestKept = Number.POSITIVE_INFINITY;
  /** The retry batch holding the kept messages, until it is on disk. */
  private keptIn: Batch | undefined;

  constructor(recoveredThrough: number) {
    this.covered = recoveredThrough;
  }

  get through(): number {
    return Math.min(this.covered, this.lowestKept - 1);
  }

  /**
   * The batch is on disk. Kept messages come first in their batch, before those it encoded on the way
   * out; every message staged in it is written or was settled (`unwrittenThrough`).
   */
  synced(batch: Batch): void {
    if (batch === this.keptIn) {
      this.keptIn = undefined;
      this.lowestKept = Number.POSITIVE_INFINITY;
    }
    let highest = batch.unwrittenThrough;
    for (const message of batch.added) if (message.id > highest) highest = message.id;
    if (highest > this.covered) this.covered = highest;
  }

  /**
   * A write failed: its messages went up to `highestId`, and `kept` are written again in `retry`. Every
   * message kept before was among the unwritten, so it is kept again now or needs no record any more.
   */
  failed(highestId: number, kept: readonly Message[], retry: Batch): void {
    if (highestId > this.covered) this.covered = highestId;
    this.lowestKept = Number.POSITIVE_INFINITY;
    for (const message of kept) if (message.id < this.lowestKept) this.lowestKept = message.id;
    this.keptIn = kept.length > 0 ? retry : undefined;
  }
}
