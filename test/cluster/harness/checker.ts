// The failure harness's verdict on a journal (docs/cluster.md "Failure-test harness"): what the load
// driver saw — publishes the broker confirmed, deliveries, acks — checked against the promises a
// cluster makes across faults. Pure: no I/O, no clock.
//
// The publisher is at-least-once: after losing a connection it publishes every unconfirmed message
// again, under the same id with the next `attempt`. A second copy of an id that comes from such a
// re-send is the publisher's doing, not the broker's, so the broker's promises are checked per copy
// (id, attempt): it must never hand out one copy twice unless flagged redelivered.

export interface ConfirmRecord {
  readonly id: string;
  readonly queue: string;
  /**
   * This copy's place in its queue's send order: the publisher counts every send per queue, re-sends
   * included, so a re-sent copy has a later seq than everything sent before it.
   */
  readonly seq: number;
  /** Which publish of this id the broker confirmed (1 the first; re-sends after a reconnect count up). */
  readonly attempt?: number;
  /** Journal order: one counter across confirms, deliveries and acks. */
  readonly n: number;
  /** Wall clock (ms) when the confirm arrived. */
  readonly at: number;
  /** The connection it arrived on (LoadDriver's connection label). */
  readonly connection?: string;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly queue: string;
  readonly seq: number;
  readonly attempt?: number;
  readonly redelivered: boolean;
  readonly n: number;
  readonly at: number;
}

export interface AckRecord {
  readonly id: string;
  readonly attempt?: number;
  readonly n: number;
  readonly at: number;
}

export interface Journal {
  readonly confirms: readonly ConfirmRecord[];
  readonly deliveries: readonly DeliveryRecord[];
  readonly acks: readonly AckRecord[];
}

export interface OrderViolation {
  readonly queue: string;
  readonly id: string;
  readonly seq: number;
  /** The highest seq delivered from that queue before it. */
  readonly after: number;
}

export interface CheckReport {
  /** Distinct ids the broker confirmed. */
  readonly confirmed: number;
  /** Ids confirmed but never delivered. */
  readonly lost: readonly string[];
  /** Every delivery of an id already delivered (any copy). */
  readonly duplicates: readonly DeliveryRecord[];
  /** Of those, the first deliveries of a publisher's re-sent copy: expected from at-least-once publishing. */
  readonly republishedCopies: readonly DeliveryRecord[];
  /** Deliveries of a copy already delivered, not flagged redelivered: the broker's fault. */
  readonly unflaggedDuplicates: readonly DeliveryRecord[];
  /** Deliveries of a copy already acked, not flagged redelivered. */
  readonly ackedThenBack: readonly DeliveryRecord[];
  /** Per queue, copies never delivered redelivered arriving below the highest seq seen before them. */
  readonly orderViolations: readonly OrderViolation[];
}

const copyKey = (id: string, attempt: number | undefined): string => `${attempt ?? 1}\u0000${id}`;

export function check(journal: Journal): CheckReport {
  const confirmedIds = new Set(journal.confirms.map((c) => c.id));
  const deliveries = [...journal.deliveries].sort((a, b) => a.n - b.n);
  const deliveredIds = new Set(deliveries.map((d) => d.id));
  const lost = [...confirmedIds].filter((id) => !deliveredIds.has(id));

  const ackedAt = new Map<string, number>();
  for (const ack of journal.acks) {
    const key = copyKey(ack.id, ack.attempt);
    ackedAt.set(key, Math.min(ackedAt.get(key) ?? Infinity, ack.n));
  }

  const seenIds = new Set<string>();
  const seenCopies = new Set<string>();
  const duplicates: DeliveryRecord[] = [];
  const republishedCopies: DeliveryRecord[] = [];
  const unflaggedDuplicates: DeliveryRecord[] = [];
  const ackedThenBack: DeliveryRecord[] = [];
  for (const d of deliveries) {
    const key = copyKey(d.id, d.attempt);
    if (seenIds.has(d.id)) {
      duplicates.push(d);
      if (!seenCopies.has(key)) republishedCopies.push(d);
      else if (!d.redelivered) unflaggedDuplicates.push(d);
    }
    const ack = ackedAt.get(key);
    if (!d.redelivered && ack !== undefined && ack < d.n) ackedThenBack.push(d);
    seenIds.add(d.id);
    seenCopies.add(key);
  }

  // One publisher sends in seq order, so the broker accepts each queue's copies in seq order and must
  // deliver them so. A requeued copy goes back to its old place and may legitimately arrive after later
  // ones: copies ever delivered redelivered are out of the order check, and so are repeats of a copy.
  const requeued = new Set(deliveries.filter((d) => d.redelivered).map((d) => copyKey(d.id, d.attempt)));
  const highest = new Map<string, number>();
  const ordered = new Set<string>();
  const orderViolations: OrderViolation[] = [];
  for (const d of deliveries) {
    const key = copyKey(d.id, d.attempt);
    if (requeued.has(key) || ordered.has(key)) continue;
    ordered.add(key);
    const before = highest.get(d.queue);
    if (before !== undefined && d.seq < before) orderViolations.push({ queue: d.queue, id: d.id, seq: d.seq, after: before });
    else highest.set(d.queue, d.seq);
  }

  return { confirmed: confirmedIds.size, lost, duplicates, republishedCopies, unflaggedDuplicates, ackedThenBack, orderViolations };
}

/** The counts, for a test's failure message or a bench line. */
export function summary(report: CheckReport): Record<string, number> {
  return {
    confirmed: report.confirmed,
    lost: report.lost.length,
    duplicates: report.duplicates.length,
    republishedCopies: report.republishedCopies.length,
    unflaggedDuplicates: report.unflaggedDuplicates.length,
    ackedThenBack: report.ackedThenBack.length,
    orderViolations: report.orderViolations.length,
  };
}
