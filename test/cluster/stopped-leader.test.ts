// A leader process stopped (SIGSTOP) for longer than its lease: another node takes over with a higher
// epoch, and once the stopped one runs again it confirms nothing — it knows its lease is gone from the
// deadline the lease worker published, before any message about it is handled.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/cluster/index.js';
import { skipReason, startEtcd, workerUrl, type EtcdCluster } from './etcd-server.js';

type Line = { t: string; at?: number; epoch?: string; reason?: string };

let etcd: EtcdCluster;

describe.skipIf(skipReason !== undefined)(`a stopped leader${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    etcd = await startEtcd(1);
  }, 30_000);

  afterAll(async () => {
    await etcd?.stop();
  });

  it('SIGSTOP longer than the lease: the other node wins a higher epoch, the stopped one never confirms after SIGCONT', async () => {
    const prefix = `/warren-test/${randomUUID()}`;
    const script = fileURLToPath(new URL('./fixtures/confirming-leader.mjs', import.meta.url));
    const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, [script, etcd.endpoints.join(','), prefix, 'n1', '2'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: Line[] = [];
    const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      lines.push(line);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(line)) waiter.resolve(line);
        else waiters.push(waiter);
      }
    });
    const next = (match: (line: Line) => boolean): Promise<Line> =>
      new Promise((resolve) => {
        const seen = lines.find(match);
        if (seen) resolve(seen);
        else waiters.push({ match, resolve });
      });
    let other: Coordinator | undefined;
    try {
      const elected = await next((l) => l.t === 'elected' || l.t === 'led');
      expect(elected.t).toBe('elected');
      await next((l) => l.t === 'confirm');

      other = await Coordinator.start({ nodeId: 'n2', advertise: 'ws://127.0.0.1:0/n2', etcd: etcd.endpoints, prefix, leaseTtlSeconds: 2, settings: { minInsync: 1 }, workerUrl });
      child.kill('SIGSTOP');
      const winner = await other.campaignUntilElected();
      expect(winner.nodeId).toBe('n2');
      expect(winner.epoch).toBeGreaterThan(BigInt(elected.epoch ?? '0'));

      const resumedAt = Date.now();
      child.kill('SIGCONT');
      await next((l) => l.t === 'lease-lost');
      const lateConfirms = lines.filter((l) => l.t === 'confirm' && (l.at ?? 0) >= resumedAt);
      expect(lateConfirms).toEqual([]);
    } finally {
      child.stdin.end();
      child.kill('SIGCONT');
      await other?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
