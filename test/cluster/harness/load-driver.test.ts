// The load driver, the process handle and the checker together against one plain (non-cluster) Warren
// process: a clean run, and a kill -9 under load followed by a restart on the same data dir — the
// driver reconnects, sends the unconfirmed again, and the checker finds nothing lost or out of order.
// This needs no etcd and no cluster: it is the harness checking itself on what exists today.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { check, summary } from './checker.js';
import { LoadDriver } from './load-driver.js';
import { mainJs, WarrenProcess } from './warren-process.js';
import { existsSync } from 'node:fs';

let dir: string;
let broker: WarrenProcess;
let driver: LoadDriver | undefined;

const queues = ['harness-q1', 'harness-q2', 'harness-q3'];

describe.skipIf(!existsSync(mainJs))('the load driver against one Warren process', () => {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warren-harness-'));
    broker = new WarrenProcess({
      id: 'solo',
      dataDir: join(dir, 'data'),
      args: () => ['--port', '0', '--amqp-port', '0', '--prometheus-port', 'off', '--data-dir', join(dir, 'data'), '--log-level', 'info'],
    });
    await broker.start();
  });

  afterEach(async () => {
    await driver?.close();
    driver = undefined;
    broker.kill('SIGKILL');
    await broker.exited();
    await rm(dir, { recursive: true, force: true });
  });

  const endpoints = () => (broker.running && broker.amqpPort > 0 ? [broker.endpoint()] : []);

  it('a run without faults: every message confirmed, delivered once, in order, acked', async () => {
    driver = await LoadDriver.start({ endpoints, queues, ratePerSec: 400, maxInFlight: 50 });
    await driver.confirmsSince(0, 300);
    const journal = await driver.drain(30_000);
    const report = check(journal);
    expect(summary(report)).toMatchObject({ lost: 0, duplicates: 0, unflaggedDuplicates: 0, ackedThenBack: 0, orderViolations: 0 });
    expect(report.confirmed).toBeGreaterThanOrEqual(300);
    expect(new Set(journal.deliveries.map((d) => d.id)).size).toBe(new Set(journal.confirms.map((c) => c.id)).size);
    expect(journal.connections.filter((c) => c.role === 'publisher')).toHaveLength(1);
  });

  it('kill -9 under load, restart on the same data dir: the driver reconnects, nothing confirmed is lost', async () => {
    driver = await LoadDriver.start({ endpoints, queues, ratePerSec: 400, maxInFlight: 50 });
    await driver.confirmsSince(0, 300);
    broker.kill('SIGKILL');
    await broker.exited();
    const restartedAt = Date.now();
    await broker.start();
    await driver.confirmsSince(restartedAt, 200);
    const journal = await driver.drain(30_000);
    const report = check(journal);
    // Not asserted here: unflagged duplicates. A plain node killed -9 can hand a message out again
    // without `redelivered` when its first delivery left in the last moments before the kill (its
    // Delivered record was still in the unwritten group commit; seen: ~14 of 530 at 1000 msgs/s). The
    // cluster cases assert it; this case checks the driver, and nothing confirmed may be lost.
    expect(summary(report)).toMatchObject({ lost: 0, orderViolations: 0 });
    expect(journal.connections.filter((c) => c.role === 'publisher').length).toBeGreaterThanOrEqual(2);
    expect(journal.connections.filter((c) => c.role === 'consumer').length).toBeGreaterThanOrEqual(2);
  });
});
