import { RecordType } from './record-codec.js';
import { segmentPath } from './segment.js';

/** Beyond this many, the ids later records mention are counted no further: memory stays bounded. */
const MAX_MENTIONED = 100_000;
const SAMPLE_IDS = 20;
/** Queue indexes tracked per mentioned message; a wider fanout is summarised by its first 16. */
const TRACKED_QUEUES = 16;

interface Gap {
  readonly from: number;
  readonly to: number;
  /** The highest message id written before these segments. */
  readonly after: number;
  /** The first message id written after them, once recovery reaches one. */
  before: number | undefined;
}

/**
 * What recovery can tell about segment files that are gone without the store having deleted them.
 * Ids are handed out in publish order and records appended in that order, so the messages first
 * written to a lost segment have ids between the last one before it and the first one after it.
 * Later Settle and Delivered records still name some of those ids (with the index of the queue in
 * the lost record, not its name: the names were in the lost file).
 */
export class LostSegments {
  private readonly gaps: Gap[] = [];
  private highestMessage = 0;
  /** id → bits 0–15: delivered to queue q; bits 16–31: settled by queue q. */
  private readonly mentioned = new Map<number, number>();
  private overflow = false;

  get any(): boolean {
    return this.gaps.length > 0;
  }

  /** Recovery has reached the place of segments `from`–`to`: what follows was written after them. */
  gap(from: number, to: number): void {
    this.gaps.push({ from, to, after: this.highestMessage, before: undefined });
  }

  /** A Message record (an original or a copy). */
  message(id: number): void {
    if (id <= this.highestMessage) return;
    this.highestMessage = id;
    for (const gap of this.gaps) gap.before ??= id;
  }

  /** A Settle or Delivered record about a message no segment that is left holds. */
  unknownRef(type: number, id: number, queue: number): void {
    const first = this.gaps[0];
    if (!first || id <= first.after || queue >= TRACKED_QUEUES) return;
    const bit = type === RecordType.Settle ? 1 << (16 + queue) : 1 << queue;
    const known = this.mentioned.get(id);
    if (known === undefined && this.mentioned.size >= MAX_MENTIONED) {
      this.overflow = true;
      return;
    }
    this.mentioned.set(id, ((known ?? 0) | bit) >>> 0);
  }

  /** One sentence per run of lost segment files, for an error-level log line. */
  reports(dir: string): Array<{ files: string[]; ids: { after: number; before: number | undefined }; message: string }> {
    return this.gaps.map((gap) => {
      const files = names(dir, gap);
      const one = gap.from === gap.to;
      const inRange = [...this.mentioned].filter(([id]) => id > gap.after && (gap.before === undefined || id < gap.before));
      const unacked = inRange.filter(([, bits]) => (bits & 0xffff & ~(bits >>> 16)) !== 0).map(([id]) => id);
      const settledOnly = inRange.length - unacked.length;
      const ids =
        gap.before === undefined
          ? `ids above ${gap.after}`
          : gap.before > gap.after + 1
            ? `ids ${gap.after + 1} to ${gap.before - 1}`
            : 'no ids of their own (copies of older messages at most)';
      const sample = unacked
        .sort((a, b) => a - b)
        .slice(0, SAMPLE_IDS)
        .join(', ');
      const mention =
        inRange.length === 0
          ? 'No later record mentions any of them.'
          : `Later records mention ${inRange.length}${this.overflow ? ' or more' : ''} of them: ` +
            `${unacked.length} delivered and not acknowledged${unacked.length > 0 ? ` (ids ${sample}${unacked.length > SAMPLE_IDS ? ', …' : ''})` : ''}, ` +
            `${settledOnly} settled. Their queues are not recorded anywhere else.`;
      const message =
        `message store: ${one ? 'segment file' : 'segment files'} ${files.join(', ')} ` +
        `${one ? 'is' : 'are'} missing, and the store did not delete ${one ? 'it' : 'them'}. ` +
        `The messages first written there have ${ids}; those not yet acknowledged are lost. ${mention} ` +
        'Settlements and queue deletions recorded there are lost too, so some older messages may be delivered again. ' +
        'Recovery continues with the other segment files. To get the messages back, stop Warren, put the file back ' +
        'from a backup and start again (messages acknowledged in between may then come back too).';
      return { files, ids: { after: gap.after, before: gap.before }, message };
    });
  }
}

function names(dir: string, gap: Gap): string[] {
  if (gap.to - gap.from < 10) return Array.from({ length: gap.to - gap.from + 1 }, (_, i) => segmentPath(dir, gap.from + i));
  return [`${segmentPath(dir, gap.from)} to ${segmentPath(dir, gap.to)} (${gap.to - gap.from + 1} files)`];
}
