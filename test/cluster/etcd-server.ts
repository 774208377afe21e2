// Real etcd for the cluster tests: a single member (or three) on ephemeral loopback ports, with its data
// in a temp dir, started and stopped by the test. Tests skip, saying why, when the etcd binary or the
// built lease worker is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function onPath(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const etcdBinary = onPath('etcd');

/** The repository root: the nearest folder up with a package.json (the bench also runs this file from dist-bench/). */
function repositoryRoot(): URL {
  let dir = new URL('.', import.meta.url);
  while (!existsSync(fileURLToPath(new URL('package.json', dir)))) {
    const up = new URL('..', dir);
    if (up.href === dir.href) throw new Error('no package.json above test/cluster');
    dir = up;
  }
  return dir;
}

/** The lease worker runs as a compiled file (a worker thread cannot load the TypeScript source). */
export const workerUrl = new URL('dist/cluster/lease-worker.js', repositoryRoot());

export const skipReason: string | undefined = !etcdBinary
  ? 'no etcd binary on PATH (apt-get install -y etcd-server)'
  : !existsSync(fileURLToPath(workerUrl))
    ? 'dist/cluster/lease-worker.js is missing (npm run build)'
    : undefined;

if (skipReason) console.warn(`cluster tests skipped: ${skipReason}`);

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly process: ChildProcess;
  /** What etcd wrote to stderr: the evidence when it fails to start. */
  readonly output: () => string;
}

export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: readonly EtcdMember[];
  stop(): Promise<void>;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

async function healthy(clientUrl: string, member: EtcdMember, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (member.process.exitCode !== null) throw new Error(`etcd ${member.name} exited (${member.process.exitCode}): ${member.output()}`);
    try {
      const response = await fetch(`${clientUrl}/health`);
      const body: unknown = await response.json();
      if (typeof body === 'object' && body !== null && 'health' in body && body.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd ${member.name} not healthy after ${deadlineMs} ms: ${member.output()}`);
}

function stopMember(member: EtcdMember): Promise<void> {
  const child = member.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startEtcd(size: 1 | 3 = 1): Promise<EtcdCluster> {
  if (!etcdBinary) throw new Error('no etcd binary on PATH');
  const dir = await mkdtemp(join(tmpdir(), 'warren-etcd-'));
  const ports = await freePorts(size * 2);
  const names = Array.from({ length: size }, (_, i) => `e${i}`);
  const peerUrl = (i: number): string => `http://127.0.0.1:${ports[size + i]}`;
  const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
  const members: EtcdMember[] = names.map((name, i) => {
    const clientUrl = `http://127.0.0.1:${ports[i]}`;
    const child = spawn(etcdBinary, [
      '--name', name,
      '--data-dir', join(dir, name),
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl(i),
      '--initial-advertise-peer-urls', peerUrl(i),
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `warren-test-${ports[0]}`,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    return { name, clientUrl, process: child, output: () => output };
  });
  const stop = async (): Promise<void> => {
    await Promise.all(members.map(stopMember));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((member) => healthy(member.clientUrl, member, 15_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints: members.map((m) => m.clientUrl), members, stop };
}

/** The member that is etcd's raft leader now (from the JSON gateway's maintenance status). */
export async function raftLeader(cluster: EtcdCluster): Promise<EtcdMember> {
  for (const member of cluster.members) {
    const response = await fetch(`${member.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}' });
    const status: unknown = await response.json();
    if (typeof status !== 'object' || status === null || !('leader' in status) || !('header' in status)) continue;
    const header = status.header;
    if (typeof header === 'object' && header !== null && 'member_id' in header && header.member_id === status.leader) return member;
  }
  throw new Error('no etcd member says it is the raft leader');
}
