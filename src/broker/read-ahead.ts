import { Message } from './message.js';

/** How far ahead of a queue's head released contents are read back: whichever limit comes first. */
export const READ_AHEAD_MESSAGES = 256;
export const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Keeps the contents of the first ready messages of a queue in memory ahead of their delivery, reading
 * released ones back asynchronously in batches, so a consumer draining a paged-out backlog never waits
 * for the disk on the event loop. A new batch starts once less than half the window is covered, so the
 * next read overlaps the deliveries of the previous one. Knows its queue only through `messageAt` (the
 * ready messages by position) and `resume` (dispatch, once a read the head waited for completes).
 */
export class ReadAhead {
  /**
   * The first `covered` ready messages were in memory or being read when counted. A hint, never trusted
   * for delivery: another queue holding the same message may have let its read-back content go since.
   */
  private covered = 0;
  private coveredBytes = 0;
  /** This queue's read in flight (one at a time), and the messages it reads. */
  private read: Promise<void> | undefined;
  /** Bumped when the queue lets go of what it read ahead: a read finishing after that keeps nothing. */
  private generation = 0;
  /** The read the head is waiting for, so the queue subscribes to each read once. */
  private awaited: Promise<void> | undefined;

  constructor(
    private readonly messageAt: (index: number) => Message | undefined,
    private readonly resume: () => void,
  ) {}

  /** The head left the queue. */
  shifted(size: number): void {
    if (this.covered === 0) return;
    this.covered--;
    this.coveredBytes = Math.max(0, this.coveredBytes - size);
  }

  /** Messages went back in front of the covered ones (requeue): count again from the head. */
  recount(): void {
    this.covered = 0;
    this.coveredBytes = 0;
  }

  /**
   * Lets go of the contents read ahead (no consumer left, purge, delete): what the window holds now,
   * and whatever a read in flight brings in.
   */
  forget(): void {
    for (let i = 0; i < this.covered; i++) this.messageAt(i)?.dropReadBack();
    this.generation++;
    this.recount();
  }

  /** Starts reading the window's released contents once less than half of it is covered. */
  topUp(): void {
    if (this.read || this.covered >= READ_AHEAD_MESSAGES / 2 || this.coveredBytes >= READ_AHEAD_BYTES / 2) return;
    let index = this.covered;
    let bytes = this.coveredBytes;
    const wanted: Message[] = [];
    for (; index < READ_AHEAD_MESSAGES && bytes < READ_AHEAD_BYTES; index++) {
      const message = this.messageAt(index);
      if (!message) break;
      if (!message.inMemory && !message.reading && !message.unreadable) wanted.push(message);
      bytes += message.size;
    }
    this.covered = index;
    this.coveredBytes = bytes;
    if (wanted.length > 0) this.start(wanted);
  }

  /**
   * The read that brings the head's content in, starting one if none is in flight; when this queue's
   * own read is busy with other messages, that read, after which the caller looks again.
   */
  readFor(head: Message): Promise<void> | undefined {
    const reading = head.reading;
    if (reading) return reading;
    if (this.read) return this.read;
    // Counted as covered, but let go since (delivered from another queue): count again from here.
    this.recount();
    this.topUp();
    return head.reading;
  }

  /** The head is not in memory: make sure it is being read, and resume the queue once it is. */
  waitFor(head: Message): void {
    const pending = this.readFor(head);
    if (!pending || pending === this.awaited) return;
    this.awaited = pending;
    void pending.then(() => {
      if (this.awaited === pending) this.awaited = undefined;
      this.resume();
    });
  }

  private start(messages: Message[]): void {
    const read = Message.readBack(messages);
    if (!read) return;
    const generation = this.generation;
    this.read = read;
    void read.then(() => {
      this.read = undefined;
      if (generation !== this.generation) for (const message of messages) message.dropReadBack();
    });
  }
}
