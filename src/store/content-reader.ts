import { readSync } from 'node:fs';
import type { MessageContent } from '../broker/message.js';
import { decodeMessageContent, isValidRecord } from './record-codec.js';
import type { Segment } from './segment.js';

const SHARED_LIMIT = 64 * 1024;

/**
 * Reads a message's content back from its record. Synchronous because `Message.content` is: the record
 * was written recently or is about to be delivered, so it is normally in the page cache.
 */
export class ContentReader {
  /** Reused for ordinary sizes; the decoded content never points into it. */
  private shared = Buffer.allocUnsafeSlow(4096);

  read(segment: Segment | undefined, offset: number, length: number, id: number): MessageContent {
    const where = `message ${id} (segment ${segment?.number ?? '?'}, offset ${offset})`;
    const fd = segment?.handle?.fd;
    if (fd === undefined) throw new Error(`${where}: the segment is gone`);
    const buf = length <= SHARED_LIMIT ? this.sharedBuffer(length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== length || !isValidRecord(buf, 0, length)) throw new Error(`${where}: the record is unreadable`);
    const decoded = decodeMessageContent(buf);
    if (decoded.id !== id) throw new Error(`${where}: the record holds message ${decoded.id}`);
    return decoded.content;
  }

  private sharedBuffer(length: number): Buffer {
    if (this.shared.length < length) this.shared = Buffer.allocUnsafeSlow(Math.max(length, this.shared.length * 2));
    return this.shared;
  }
}
