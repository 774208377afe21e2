// What every fault case starts from: a cluster whose followers are in sync, under load from the
// driver, with some confirms already in; and what they end with: the checker's verdict.
import { check, summary, type CheckReport, type ConfirmRecord } from './checker.js';
import { ClusterProcesses, type ClusterNode, type ClusterOptions } from './cluster-processes.js';
import { LoadDriver, type DriverJournal } from './load-driver.js';

export interface LoadedCluster {
  readonly cluster: ClusterProcesses;
  readonly driver: LoadDriver;
  readonly leader: ClusterNode;
}

export interface LoadedClusterOptions extends ClusterOptions {
  readonly queues?: number;
  readonly ratePerSec?: number;
  readonly maxInFlight?: number;
  /** Confirms to wait for before handing over (default 200). */
  readonly warmup?: number;
}

const IN_SYNC_LINE = /cluster: in sync with/;

/** Waits for `node` to print `cluster: in sync with …` from line `from` on. */
export function inSync(node: ClusterNode, from = node.process.incarnationStart, timeoutMs = 60_000): Promise<unknown> {
  return node.process.waitForLog(IN_SYNC_LINE, { from, timeoutMs });
}

/** Waits until every node is in the ISR (as `GET /api/cluster` reports it). */
export function allInSync(cluster: ClusterProcesses, timeoutMs = 60_000): Promise<unknown> {
  return cluster.waitForIsr((isr) => cluster.nodes.every((n) => isr.includes(n.process.id)), timeoutMs);
}

export async function startLoadedCluster(o: LoadedClusterOptions = {}): Promise<LoadedCluster> {
  const cluster = await ClusterProcesses.start(o);
  try {
    const leader = await cluster.leader();
    await allInSync(cluster);
    const queues = Array.from({ length: o.queues ?? 4 }, (_, i) => `failover-q${i + 1}`);
    const driver = await LoadDriver.start({ endpoints: () => cluster.endpoints(), queues, ratePerSec: o.ratePerSec ?? 300, maxInFlight: o.maxInFlight ?? 100 });
    await driver.confirmsSince(0, o.warmup ?? 200, 60_000);
    return { cluster, driver, leader };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** The checker's verdict, with the counts and the first few of each violation for a failure message. */
export function verdict(journal: DriverJournal): { report: CheckReport; counts: Record<string, number>; detail: string } {
  const report = check(journal);
  const counts = summary(report);
  const detail = JSON.stringify({
    counts,
    lost: report.lost.slice(0, 5),
    unflaggedDuplicates: report.unflaggedDuplicates.slice(0, 5),
    ackedThenBack: report.ackedThenBack.slice(0, 5),
    orderViolations: report.orderViolations.slice(0, 5),
    connections: journal.connections,
  });
  return { report, counts, detail };
}

/**
 * Confirms that arrived at or after `since` on connections opened before `openedBefore`: when
 * `openedBefore` is the moment a leader was stopped, every such connection was served by it (directly
 * or through a follower's tunnel), so these are its confirms.
 */
export function confirmsOnConnectionsOpenedBefore(journal: DriverJournal, openedBefore: number, since: number): ConfirmRecord[] {
  const old = new Set(journal.connections.filter((c) => c.openedAt < openedBefore).map((c) => c.label));
  return journal.confirms.filter((c) => c.at >= since && c.connection !== undefined && old.has(c.connection));
}

/** The last lines of every node, for a failed case's output (vitest's `onTestFailed`). */
export function nodeTails(cluster: ClusterProcesses, count = 25): string {
  return cluster.nodes.map((n) => `--- ${n.process.id}${n.process.running ? '' : ' (not running)'}\n${n.process.tail(count)}`).join('\n');
}
