// One node's own way to etcd: a LinkProxy in front of each etcd member, used by that node only (its
// `--etcd` lists the proxies), so a fault on it cuts that node off from etcd — its lease keep-alives,
// watches and elections — and nothing else: its cluster port and clients are untouched.
import type { EtcdCluster } from '../etcd-server.js';
import { LinkProxy } from './link-proxy.js';

export class EtcdLink {
  private constructor(readonly proxies: readonly LinkProxy[]) {}

  static async start(etcd: EtcdCluster): Promise<EtcdLink> {
    const proxies: LinkProxy[] = [];
    try {
      for (const endpoint of etcd.endpoints) {
        const url = new URL(endpoint);
        proxies.push(await LinkProxy.start({ host: url.hostname, port: Number(url.port) }));
      }
    } catch (error) {
      await Promise.all(proxies.map((proxy) => proxy.close()));
      throw error;
    }
    return new EtcdLink(proxies);
  }

  /** For the node's `--etcd`: one `http://HOST:PORT` a member, in the members' order. */
  get endpoints(): string[] {
    return this.proxies.map((proxy) => `http://${proxy.address}`);
  }

  /** Connections accepted since start, all members: a node that lost its link dials again. */
  get accepted(): number {
    return this.proxies.reduce((sum, proxy) => sum + proxy.accepted, 0);
  }

  cut(): void {
    for (const proxy of this.proxies) proxy.cut();
  }

  blackhole(): void {
    for (const proxy of this.proxies) proxy.blackhole();
  }

  heal(): void {
    for (const proxy of this.proxies) proxy.heal();
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
  }
}
