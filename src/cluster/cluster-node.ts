import type { Socket } from 'node:net';
import type { WarrenConfig } from '../config.js';
import type { WarrenServer, WarrenServerOptions } from '../http/server.js';
import { ClusterPortListener, readClusterSecret, type TunnelTarget } from './cluster-port.js';
import type { ClusterLog } from './cluster-log.js';
import type { ClusterStatus } from './cluster-status.js';
import { Coordinator } from './coordinator.js';
import { FollowerTerm } from './follower-term.js';
import { LeaderTerm } from './leader-term.js';
import { TunnelFront } from './tunnel-front.js';

/** What the node needs from outside the cluster folder: the single-node server it runs while it leads. */
export interface ClusterNodeDeps {
  createServer(config: WarrenConfig, options: WarrenServerOptions): Promise<WarrenServer>;
  readonly log: ClusterLog;
}

/** Client ports as bound by the first listener on them: a leader and a follower of this node use the same ones. */
interface ClientPorts {
  readonly http: number;
  readonly amqp: number | 'off';
  readonly amqps: number | 'off';
}

const RETRY_MS = 1000;

/**
 * One Warren node in cluster mode (docs/cluster.md). It keeps the cluster port open for the node's
 * whole life and alternates terms: as a follower it replicates the leader's files and tunnels its
 * clients to the leader; elected, it runs today's single-node server on its replica, with confirms
 * that also wait for the in-sync replicas; when it loses leadership it closes that server and follows
 * again, with a new lease.
 */
export class ClusterNode {
  private closed = false;
  private term: FollowerTerm | LeaderTerm | undefined;
  private coordinator: Coordinator | undefined;
  private running: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;

  private constructor(
    private readonly config: WarrenConfig,
    private readonly deps: ClusterNodeDeps,
    private readonly secret: Buffer,
    private readonly listener: ClusterPortListener,
    readonly clusterAddress: string,
    private ports: ClientPorts,
    private front: TunnelFront | undefined,
  ) {}

  static async start(config: WarrenConfig, deps: ClusterNodeDeps): Promise<ClusterNode> {
    const { log } = deps;
    const secret = await readClusterSecret(config.clusterSecretFile);
    let node: ClusterNode | undefined;
    const listener = new ClusterPortListener({
      nodeId: config.nodeId,
      secret,
      epoch: () => node?.leaderEpoch() ?? '',
      log,
      onReplica: (socket, peer, leftover) => (node ? node.acceptReplica(socket, peer, leftover) : socket.destroy()),
      onTunnel: (socket, target, leftover) => (node ? node.acceptTunnel(socket, target, leftover) : socket.destroy()),
    });
    const clusterPort = await listener.listen(config.host, config.clusterPort);
    const clusterAddress = config.clusterAdvertise !== '' ? config.clusterAdvertise : `${hostForAddress(config.host)}:${clusterPort}`;
    log.info(`cluster: listening for nodes on ${config.host}:${clusterPort}`);
    const wanted: ClientPorts = { http: config.port, amqp: config.amqpPort, amqps: config.tlsCert !== undefined ? config.amqpsPort : 'off' };
    node = new ClusterNode(config, deps, secret, listener, clusterAddress, wanted, undefined);
    await node.openFront();
    node.running = node.run();
    return node;
  }

  /** What `/api/cluster` shows, from this node's view. */
  async status(): Promise<ClusterStatus> {
    const term = this.term;
    const coordinator = this.coordinator;
    if (term instanceof LeaderTerm && coordinator) return term.status(coordinator);
    return FollowerTerm.status(this.config.nodeId, coordinator);
  }

  async close(): Promise<void> {
    if (this.closed) return this.running;
    this.closed = true;
    this.wakeUp?.();
    await this.term?.close('node shutting down');
    await this.running;
    await this.front?.close();
    await this.listener.close();
  }

  private leaderEpoch(): string {
    return this.term instanceof LeaderTerm ? this.term.epoch.toString() : '';
  }

  private acceptReplica(socket: Socket, peer: string, leftover: Buffer): void {
    if (this.term instanceof LeaderTerm) this.term.acceptReplica(socket, peer, leftover);
    else socket.destroy();
  }

  private acceptTunnel(socket: Socket, target: TunnelTarget, leftover: Buffer): void {
    if (this.term instanceof LeaderTerm) this.term.acceptTunnel(socket, target, leftover);
    else socket.destroy();
  }

  /** Terms, each with a fresh coordinator (a lost lease cannot be used again), until closed. */
  private async run(): Promise<void> {
    const { log } = this.deps;
    while (!this.closed) {
      let coordinator: Coordinator;
      try {
        coordinator = await this.startCoordinator();
      } catch (error) {
        log.error({ err: error }, `cluster: cannot join through etcd: ${(error as Error).message}; trying again`);
        await this.pause(RETRY_MS);
        continue;
      }
      this.coordinator = coordinator;
      try {
        await this.serve(coordinator);
      } catch (error) {
        if (!this.closed) log.error({ err: error }, `cluster: ${(error as Error).message}`);
      } finally {
        this.term = undefined;
        await coordinator.close().catch(() => undefined);
        this.coordinator = undefined;
      }
      if (!this.closed) await this.pause(RETRY_MS);
    }
  }

  /** Follows until elected, then leads until it steps down. */
  private async serve(coordinator: Coordinator): Promise<void> {
    const follower = new FollowerTerm(coordinator, this.config, this.secret, this.deps.log, () => this.front);
    this.term = follower;
    const elected = await follower.run();
    if (!elected || this.closed) return;
    // The client ports go from the tunnel front to the server this node now runs.
    await this.front?.close();
    this.front = undefined;
    const leader = new LeaderTerm(coordinator, elected, this.config, this.ports, this.deps, () => this.status());
    this.term = leader;
    try {
      await leader.run();
    } finally {
      this.term = undefined;
      if (!this.closed) await this.openFront();
    }
  }

  private async startCoordinator(): Promise<Coordinator> {
    const config = this.config;
    return Coordinator.start({
      nodeId: config.nodeId,
      advertise: config.advertise !== '' ? config.advertise : `http://${hostForAddress(config.host)}:${this.ports.http}`,
      cluster: this.clusterAddress,
      etcd: config.etcd,
      prefix: config.etcdPrefix,
      leaseTtlSeconds: config.leaseTtl,
      settings: { minInsync: config.minInsync },
      maxMainStallMs: config.maxMainStall > 0 ? config.maxMainStall : 3 * config.leaseTtl * 1000,
      diskStallMs: config.diskStallTimeout,
    });
  }

  /** The client ports as a follower serves them; the first time, port 0 becomes the port bound, kept for every later term. */
  private async openFront(): Promise<void> {
    const front = new TunnelFront({
      host: this.config.host,
      ports: this.ports,
      nodeId: this.config.nodeId,
      secret: this.secret,
      leader: () => (this.term instanceof FollowerTerm ? this.term.leaderAddress() : undefined),
      log: this.deps.log,
      tls: this.config.tlsCert !== undefined,
    });
    // Logs the same `listening on` lines a leader's server does.
    const bound = await front.listen();
    this.ports = { http: bound.http, amqp: bound.amqp ?? 'off', amqps: bound.amqps ?? 'off' };
    this.front = front;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** A listening host as other nodes dial it: the wildcard addresses are not reachable addresses. */
function hostForAddress(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
