import type { Socket } from 'node:net';
import type { WarrenConfig } from '../config.js';
import type { WarrenServer } from '../http/server.js';
import type { DurableState } from '../store/durable-state.js';
import { ClusterBarrier } from './cluster-barrier.js';
import type { ClusterLog } from './cluster-log.js';
import type { ClusterNodeDeps } from './cluster-node.js';
import type { TunnelTarget } from './cluster-port.js';
import type { ClusterStatus } from './cluster-status.js';
import type { Coordinator } from './coordinator.js';
import type { LeaderRecord } from './leader-record.js';
import { Replicator } from './replicator.js';

/** How long a stepping-down leader waits for its server to close before the process gives up (a stalled disk). */
const CLOSE_LIMIT_MS = 15_000;

/**
 * A node's time as leader: today's single-node server on its replica (recovery included), with every
 * change of its data dir streamed to the followers and every confirm waiting for the in-sync replicas.
 * Ends when the node steps down (lease lost, key gone) or closes.
 */
export class LeaderTerm {
  readonly epoch: bigint;
  private server: WarrenServer | undefined;
  private replicator: Replicator | undefined;
  private ended: (reason: string) => void = () => undefined;
  private readonly end: Promise<string>;
  private readonly log: ClusterLog;

  constructor(
    private readonly coordinator: Coordinator,
    elected: LeaderRecord,
    private readonly config: WarrenConfig,
    private readonly ports: { readonly http: number; readonly amqp: number | 'off'; readonly amqps: number | 'off' },
    private readonly deps: ClusterNodeDeps,
    private readonly clusterStatus: () => Promise<ClusterStatus>,
  ) {
    this.epoch = elected.epoch;
    this.log = deps.log;
    this.end = new Promise((resolve) => {
      this.ended = resolve;
    });
  }

  async run(): Promise<void> {
    const { coordinator, log } = this;
    const onDown = (reason: string): void => this.ended(reason);
    coordinator.on('stepped-down', onDown);
    coordinator.on('lease-lost', onDown);
    try {
      if (!coordinator.isLeader()) return;
      log.info(`cluster: elected leader (epoch ${this.epoch})`);
      // A new cluster's first leader names itself the ISR before it takes a client: from then on no
      // empty node can win an election over data dirs that hold confirmed messages.
      const isr = (await coordinator.readIsr()) ?? (await coordinator.changeIsr([this.config.nodeId]));
      let durable: DurableState | undefined;
      let barrier: ClusterBarrier | undefined;
      const replicator = new Replicator({
        selfId: this.config.nodeId,
        epoch: this.epoch,
        dataDir: this.config.dataDir,
        minInsync: coordinator.settings.minInsync,
        ackTimeoutMs: this.config.replicaAckTimeout,
        isLeader: () => coordinator.isLeader(),
        changeIsr: (members) => coordinator.changeIsr(members),
        initialIsr: isr.members,
        localSynced: () => durable?.synced() ?? Promise.resolve(),
        log,
      });
      this.replicator = replicator;
      const server = await this.deps.createServer(
        { ...this.config, port: this.ports.http, amqpPort: this.ports.amqp, amqpsPort: this.ports.amqps },
        {
          changes: replicator,
          diskBusy: (since) => coordinator.lease.diskBusySince(since),
          recoverAsRedelivered: true,
          durability: (local) => (barrier = new ClusterBarrier(local, replicator)),
          clusterStatus: this.clusterStatus,
        },
      );
      durable = server.durable;
      this.server = server;
      const minInsync = coordinator.settings.minInsync;
      const inSync = (count: number): void => {
        server.broker.replicationAlarm = count < minInsync ? `only ${count} in-sync replica${count === 1 ? '' : 's'}, min-insync is ${minInsync}` : undefined;
      };
      replicator.onInSyncChange = inSync;
      inSync(replicator.inSyncCount);
      barrier?.arm();
      await server.listen();
      const reason = await this.end;
      log.warn(`cluster: no longer leader (epoch ${this.epoch}): ${reason}`);
    } finally {
      coordinator.off('stepped-down', onDown);
      coordinator.off('lease-lost', onDown);
      await this.shutDown();
    }
  }

  acceptReplica(socket: Socket, peer: string, leftover: Buffer): void {
    if (this.replicator && this.server) this.replicator.acceptReplica(socket, peer, leftover);
    else socket.destroy();
  }

  acceptTunnel(socket: Socket, target: TunnelTarget, leftover: Buffer): void {
    if (this.server) this.server.acceptTunnel(socket, target, leftover);
    else socket.destroy();
  }

  async status(coordinator: Coordinator): Promise<ClusterStatus> {
    const [members, isr] = await Promise.all([coordinator.members(), coordinator.readIsr()]);
    const replication = this.replicator?.status();
    const inIsr = new Set(isr?.members ?? []);
    return {
      cluster: true,
      node: this.config.nodeId,
      role: 'leader',
      epoch: this.epoch.toString(),
      leader: this.config.nodeId,
      minInsync: coordinator.settings.minInsync,
      isr: [...inIsr],
      members: members.map((member) => {
        if (member.nodeId === this.config.nodeId) return { nodeId: member.nodeId, advertise: member.advertise, role: 'leader', state: 'leader' };
        const follower = replication?.followers.find((f) => f.nodeId === member.nodeId);
        return {
          nodeId: member.nodeId,
          advertise: member.advertise,
          role: 'follower',
          state: follower?.state ?? (inIsr.has(member.nodeId) ? 'in-sync' : 'out-of-sync'),
          ...(follower ? { ackedSeq: follower.ackedSeq, lagEntries: Math.max(0, follower.sentSeq - follower.ackedSeq) } : {}),
        };
      }),
    };
  }

  async close(reason: string): Promise<void> {
    this.ended(reason);
    await this.end;
  }

  /**
   * Clients first (they reconnect through any node to the next leader), then the server and its
   * files. A server that cannot close in time is on a disk that stopped answering: the process exits
   * rather than hold the ports and the data dir as a zombie.
   */
  private async shutDown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const replicator = this.replicator;
    this.replicator = undefined;
    if (!server) {
      await replicator?.close();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_LIMIT_MS);
    });
    const closed = Promise.all([server.close(), replicator?.close()]).then(() => 'closed' as const);
    const outcome = await Promise.race([closed, limit]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.error(`cluster: the server did not close within ${CLOSE_LIMIT_MS} ms after stepping down (disk stalled?): exiting`);
      process.exit(70);
    }
  }
}
