// The cluster harness's process plumbing against real etcd, with a stand-in node script
// (fixtures/fake-cluster-node.mjs: the same flags and log lines as `dist/main.js --cluster`, an etcd
// election, a cluster port that says who it is): ports read from the log, each node reached through
// its link proxy, the proxy following a restarted node to its new port, the leader found and found
// again after a kill -9, and nothing left running after stop().
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { etcdBinary } from '../etcd-server.js';
import { ClusterProcesses } from './cluster-processes.js';

const program = fileURLToPath(new URL('../fixtures/fake-cluster-node.mjs', import.meta.url));

function hello(address: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port: Number(port) });
    let text = '';
    socket.on('data', (chunk: Buffer) => void (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let cluster: ClusterProcesses | undefined;
afterAll(async () => {
  await cluster?.stop();
});

describe.skipIf(!etcdBinary)('the cluster harness processes (stand-in nodes)', () => {
  it('starts 3 nodes behind proxies, finds the leader, survives its kill -9 and restart, stops everything', async () => {
    cluster = await ClusterProcesses.start({ nodes: 3, etcdMembers: 1, leaseTtl: 2, program });
    for (const node of cluster.nodes) {
      expect(node.process.httpPort).toBeGreaterThan(0);
      expect(node.process.amqpPort).toBeGreaterThan(0);
      expect(await hello(node.proxy.address)).toBe(`id:${node.process.id}\n`);
    }
    expect(cluster.endpoints().map((e) => e.node)).toEqual(['n1', 'n2', 'n3']);

    const first = await cluster.leader();
    expect(cluster.followers(first)).toHaveLength(2);
    const oldClusterPortLines = first.process.lines.length;
    first.process.kill('SIGKILL');
    await first.process.exited();
    expect(cluster.endpoints().map((e) => e.node)).not.toContain(first.process.id);
    const second = await cluster.leader({ excluding: [first] });
    expect(second).not.toBe(first);

    await first.process.start();
    await first.process.waitForLog(/cluster: listening for nodes/, { from: oldClusterPortLines });
    expect(await hello(first.proxy.address)).toBe(`id:${first.process.id}\n`);
    expect(await cluster.leader()).toBe(second);

    const pids = cluster.nodes.map((n) => n.process.pid).filter((pid): pid is number => pid !== undefined);
    const etcdPids = cluster.etcd.members.map((m) => m.process.pid).filter((pid): pid is number => pid !== undefined);
    second.process.kill('SIGSTOP');
    await cluster.stop();
    cluster = undefined;
    expect([...pids, ...etcdPids].filter(alive)).toEqual([]);
  }, 120_000);
});
