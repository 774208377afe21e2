// A whole cluster on loopback for failure tests: etcd members (test/cluster/etcd-server.ts) and Warren
// nodes as child processes, each node's cluster port behind its own LinkProxy. A node advertises the
// proxy's address (`--cluster-advertise`), so every connection other nodes open to it crosses the
// proxy, and `proxy.cut()` on the leader's proxy isolates it from its followers (not from etcd).
// The real cluster port is 0 (chosen at bind), so the proxy starts first with no target and is
// pointed at the node when its `cluster: listening for nodes on HOST:PORT` line arrives.
// With `etcdLinks`, each node also reaches etcd through proxies of its own (`node.etcdLink`), so a
// test can cut one node off from etcd.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdCluster } from '../etcd-server.js';
import { getJson, type NodeEndpoint } from './amqp-endpoints.js';
import { EtcdLink } from './etcd-link.js';
import { LinkProxy } from './link-proxy.js';
import { WarrenProcess } from './warren-process.js';

export { clusterSkipReason, WarrenProcess, type Signal } from './warren-process.js';

export interface ClusterOptions {
  readonly nodes?: number;
  readonly etcdMembers?: 1 | 3;
  /** `--lease-ttl`, seconds. */
  readonly leaseTtl?: number;
  readonly minInsync?: number;
  readonly logLevel?: string;
  /** More flags for every node (e.g. `--replica-ack-timeout 2000`). */
  readonly extraArgs?: readonly string[];
  /** Run this script instead of dist/main.js (the harness's own test). */
  readonly program?: string;
  /** Each node reaches etcd through proxies of its own (`ClusterNode.etcdLink`), not directly. */
  readonly etcdLinks?: boolean;
}

export interface ClusterNode {
  readonly process: WarrenProcess;
  /** In front of the node's cluster port: what other nodes dial to reach it. */
  readonly proxy: LinkProxy;
  /** The node's own link to etcd, when the cluster was started with `etcdLinks`. */
  readonly etcdLink?: EtcdLink;
}

const CLUSTER_PORT_LINE = /cluster: listening for nodes on ([^\s"]+):(\d+)/;
const ROLE_LINE = /cluster: (elected leader|following (\S+)) \(epoch (\d+)\)/;

export class ClusterProcesses {
  private constructor(
    readonly etcd: EtcdCluster,
    readonly nodes: readonly ClusterNode[],
    readonly prefix: string,
    readonly leaseTtl: number,
    private readonly dir: string,
  ) {}

  static async start(o: ClusterOptions = {}): Promise<ClusterProcesses> {
    const dir = await mkdtemp(join(tmpdir(), 'warren-cluster-'));
    const secretFile = join(dir, 'cluster-secret');
    await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const etcd = await startEtcd(o.etcdMembers ?? 3);
    const prefix = `/warren-test-${randomUUID()}`;
    const leaseTtl = o.leaseTtl ?? 3;
    const nodes: ClusterNode[] = [];
    for (let k = 1; k <= (o.nodes ?? 3); k++) {
      const proxy = await LinkProxy.start();
      const etcdLink = o.etcdLinks ? await EtcdLink.start(etcd) : undefined;
      const etcdEndpoints = etcdLink?.endpoints ?? etcd.endpoints;
      const id = `n${k}`;
      const process = new WarrenProcess({
        id,
        dataDir: join(dir, id),
        ...(o.program === undefined ? {} : { program: o.program }),
        args: () => [
          '--cluster', '--node-id', id,
          '--etcd', etcdEndpoints.join(','), '--etcd-prefix', prefix,
          '--cluster-port', '0', '--cluster-advertise', proxy.address, '--cluster-secret-file', secretFile,
          '--port', '0', '--amqp-port', '0', '--prometheus-port', 'off',
          '--data-dir', join(dir, id),
          '--lease-ttl', String(leaseTtl), '--min-insync', String(o.minInsync ?? 2),
          '--log-level', o.logLevel ?? 'info',
          ...(o.extraArgs ?? []),
        ],
        onLine: (line) => {
          const match = CLUSTER_PORT_LINE.exec(line);
          if (match?.[1] && match[2]) proxy.retarget(match[1], Number(match[2]));
        },
      });
      nodes.push({ process, proxy, ...(etcdLink ? { etcdLink } : {}) });
    }
    const cluster = new ClusterProcesses(etcd, nodes, prefix, leaseTtl, dir);
    try {
      await Promise.all(nodes.map((n) => n.process.start()));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Client endpoints of the nodes running now (for the load driver; read again on each reconnect). */
  endpoints(): readonly NodeEndpoint[] {
    return this.nodes.filter((n) => n.process.running && n.process.httpPort > 0).map((n) => n.process.endpoint());
  }

  node(id: string): ClusterNode {
    const node = this.nodes.find((n) => n.process.id === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * The leader now, among running, unstopped nodes not excluded: what `GET /api/cluster` says (any
   * node answers with the leader's view), else the node whose last role line is the election with the
   * highest epoch. Waits for one.
   */
  async leader(o: { excluding?: readonly ClusterNode[]; timeoutMs?: number } = {}): Promise<ClusterNode> {
    const until = Date.now() + (o.timeoutMs ?? 30_000);
    const eligible = (): ClusterNode[] => this.nodes.filter((n) => n.process.up && !(o.excluding ?? []).includes(n));
    for (;;) {
      const nodes = eligible();
      const byApi = await this.leaderByApi(nodes);
      const found = byApi ?? this.leaderByLog(nodes);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no leader among ${nodes.map((n) => n.process.id).join(', ')}:\n${nodes.map((n) => `--- ${n.process.id}\n${n.process.tail(15)}`).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The epoch in the node's last role line (`elected leader` / `following`), if any. */
  lastRole(node: ClusterNode): { leader: boolean; epoch: bigint } | undefined {
    const lines = node.process.lines;
    for (let i = lines.length - 1; i >= node.process.incarnationStart; i--) {
      const match = ROLE_LINE.exec(lines[i] ?? '');
      if (match?.[3]) return { leader: match[1] === 'elected leader', epoch: BigInt(match[3]) };
    }
    return undefined;
  }

  /** The ISR as `GET /api/cluster` reports it (answered by the leader through any node). */
  async isr(): Promise<string[]> {
    const status = await getJson(() => this.endpoints().filter((e) => this.node(e.node).process.up), '/api/cluster', 2000);
    const isr = typeof status === 'object' && status !== null && 'isr' in status ? status.isr : undefined;
    if (!Array.isArray(isr)) throw new Error(`GET /api/cluster: no isr in ${JSON.stringify(status)}`);
    return isr.map(String);
  }

  /** Waits until the ISR satisfies `test` (asking again every 200 ms; errors mean "not yet"). */
  async waitForIsr(test: (isr: readonly string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
    const until = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const isr = await this.isr();
        if (test(isr)) return isr;
        last = JSON.stringify(isr);
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > until) throw new Error(`the ISR never got there in ${timeoutMs} ms (last: ${last})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  followers(leader: ClusterNode): ClusterNode[] {
    return this.nodes.filter((n) => n !== leader);
  }

  /** Kills every node (-9) and etcd member, closes the proxies, removes the data. Safe to call twice. */
  async stop(): Promise<void> {
    for (const { process } of this.nodes) {
      process.kill('SIGCONT');
      process.kill('SIGKILL');
    }
    await Promise.all(this.nodes.map((n) => n.process.exited()));
    await Promise.all(this.nodes.map((n) => n.proxy.close()));
    await Promise.all(this.nodes.map((n) => n.etcdLink?.close()));
    for (const member of this.etcd.members) {
      member.process.kill('SIGCONT');
      member.process.kill('SIGKILL');
    }
    await this.etcd.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async leaderByApi(nodes: readonly ClusterNode[]): Promise<ClusterNode | undefined> {
    for (const node of nodes) {
      try {
        const status = await getJson(() => [node.process.endpoint()], '/api/cluster', 1000);
        const leader = typeof status === 'object' && status !== null && 'leader' in status ? status.leader : undefined;
        const id = typeof leader === 'string' ? leader : typeof leader === 'object' && leader !== null && 'nodeId' in leader ? leader.nodeId : undefined;
        const found = nodes.find((n) => n.process.id === id);
        if (found) return found;
      } catch {
        // that node has no leader to ask, or is the stopped one's tunnel: ask the next
      }
    }
    return undefined;
  }

  private leaderByLog(nodes: readonly ClusterNode[]): ClusterNode | undefined {
    let best: { node: ClusterNode; epoch: bigint } | undefined;
    for (const node of nodes) {
      const role = this.lastRole(node);
      if (role?.leader && (!best || role.epoch > best.epoch)) best = { node, epoch: role.epoch };
    }
    return best?.node;
  }
}
