import type { FileHandle } from 'node:fs/promises';
import type { MessageContent } from '../broker/message.js';
import { decodeMessageContent, isValidRecord } from './record-codec.js';
import type { Segment } from './segment.js';
import type { StoreLog } from './store-log.js';

/** Where a message's record lies; no segment when the store does not know the message. */
export interface RecordPlace {
  readonly segment: Segment | undefined;
  readonly offset: number;
  readonly length: number;
  /** The message the record must hold. */
  readonly id: number;
}

/** Records this close together are read in one go, the bytes between them included. */
const MAX_GAP = 16 * 1024;
/** Most bytes one read covers (a bigger record is read alone). */
const MAX_SPAN = 1024 * 1024;

/** Reads messages' contents back from their records. */
export class ContentReader {
  constructor(private readonly log: StoreLog) {}

  /**
   * Reads the records without blocking the event loop: those of one segment that lie close together
   * share one read. Undefined (and a warning) for a record that cannot be read.
   */
  async readAll(places: readonly RecordPlace[]): Promise<Array<MessageContent | undefined>> {
    const out = new Array<MessageContent | undefined>(places.length).fill(undefined);
    const order = places.map((_, i) => i);
    order.sort((a, b) => {
      const p = places[a] as RecordPlace;
      const q = places[b] as RecordPlace;
      return (p.segment?.number ?? 0) - (q.segment?.number ?? 0) || p.offset - q.offset;
    });
    const reads: Promise<void>[] = [];
    for (let i = 0; i < order.length; ) {
      const first = places[order[i] as number] as RecordPlace;
      let end = first.offset + first.length;
      let j = i + 1;
      for (; j < order.length; j++) {
        const next = places[order[j] as number] as RecordPlace;
        const nextEnd = next.offset + next.length;
        if (next.segment !== first.segment || next.offset - end > MAX_GAP || nextEnd - first.offset > MAX_SPAN) break;
        end = Math.max(end, nextEnd);
      }
      // Started here, in this turn: the handle is taken while the message is surely still in that segment.
      reads.push(this.readRun(first.segment?.handle, first.offset, end, order.slice(i, j), places, out));
      i = j;
    }
    await Promise.all(reads);
    return out;
  }

  /** One read covering `start` … `end` of a segment, then each record in it decoded into `out`. */
  private async readRun(
    handle: FileHandle | undefined,
    start: number,
    end: number,
    members: readonly number[],
    places: readonly RecordPlace[],
    out: Array<MessageContent | undefined>,
  ): Promise<void> {
    const placed = members.map((i) => places[i] as RecordPlace);
    // A segment deleted meanwhile closes its handle only after this read (FileHandle.close waits for it).
    if (!handle) return void this.unreadable(placed, 'its segment is gone');
    const buf = Buffer.allocUnsafe(end - start);
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (error) {
      return void this.unreadable(placed, 'the read failed', error);
    }
    members.forEach((i, k) => {
      const place = placed[k] as RecordPlace;
      out[i] = this.decode(buf, place.offset - start, done, place);
    });
  }

  /** The content of the record at `at` in `buf`, of which `available` bytes were read. */
  private decode(buf: Buffer, at: number, available: number, place: RecordPlace): MessageContent | undefined {
    const { length, id } = place;
    if (at + length > available || !isValidRecord(buf, at, length)) return this.unreadable([place], 'the record is unreadable');
    try {
      const decoded = decodeMessageContent(buf.subarray(at, at + length));
      if (decoded.id === id) return decoded.content;
      return this.unreadable([place], `the record holds message ${decoded.id}`);
    } catch (error) {
      return this.unreadable([place], 'the record is malformed', error);
    }
  }

  private unreadable(places: readonly RecordPlace[], why: string, error?: unknown): undefined {
    const [first] = places;
    this.log.warn(
      { messages: places.map((place) => place.id), segment: first?.segment?.number, offset: first?.offset, err: error },
      `message store: cannot read a message's content back: ${why}`,
    );
    return undefined;
  }
}
