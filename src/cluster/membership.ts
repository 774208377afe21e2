import type { Etcd3, IKeyValue } from 'etcd3';
import { ClusterError, ClusterErrorCodes, etcdFailure } from './cluster-errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { decodeRecord, encodeRecord, stringField } from './cluster-record.js';

export interface MemberInfo {
  readonly nodeId: string;
  /** Where clients and other nodes reach this node, e.g. `ws://host:15672`. */
  readonly advertise: string;
  /** host:port of the node's cluster port (replication and client tunnels); absent for a node that serves none. */
  readonly cluster?: string;
}

/** The stored form of a member (and of the leader key, which names the same node). */
export function memberFields(member: MemberInfo): { nodeId: string; advertise: string; cluster?: string } {
  return { nodeId: member.nodeId, advertise: member.advertise, ...(member.cluster !== undefined ? { cluster: member.cluster } : {}) };
}

export function clusterAddressField(record: Readonly<Record<string, unknown>>): { cluster?: string } {
  const value = record['cluster'];
  return typeof value === 'string' ? { cluster: value } : {};
}

export interface MemberWatch {
  close(): Promise<void>;
}

/**
 * Which nodes are alive: one key per node, attached to that node's lease, so a node that dies leaves
 * the list when its lease expires, and one that leaves cleanly (revoking its lease) leaves at once.
 */
export class Membership {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: ClusterKeys,
  ) {}

  /**
   * Puts this node's key on its lease. Refused with NODE_ID_IN_USE while another lease holds the key:
   * two processes under one node id would each think the other's acks were its own.
   */
  async join(member: MemberInfo, leaseId: string): Promise<void> {
    const key = this.keys.member(member.nodeId);
    const value = encodeRecord(memberFields(member));
    let result;
    try {
      result = await this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(value).lease(leaseId))
        .else(this.client.get(key))
        .commit();
    } catch (error) {
      throw etcdFailure(`joining as ${member.nodeId}`, error);
    }
    if (result.succeeded) return;
    const held = result.responses[0]?.response_range?.kvs[0];
    if (held && held.lease === leaseId) return;
    throw new ClusterError(ClusterErrorCodes.NODE_ID_IN_USE, `node id ${member.nodeId} is held by another live node (lease ${held?.lease ?? '?'})`);
  }

  async leave(nodeId: string): Promise<void> {
    try {
      await this.client.delete().key(this.keys.member(nodeId)).exec();
    } catch (error) {
      throw etcdFailure(`leaving as ${nodeId}`, error);
    }
  }

  async list(): Promise<MemberInfo[]> {
    try {
      const response = await this.client.getAll().prefix(this.keys.membersPrefix).sort('Key', 'Ascend').exec();
      return response.kvs.map((kv) => this.decode(kv));
    } catch (error) {
      throw etcdFailure('listing members', error);
    }
  }

  /** Calls `onChange` with the whole list after every join and leave. */
  async watch(onChange: (members: MemberInfo[]) => void, onError: (error: ClusterError) => void): Promise<MemberWatch> {
    let watcher;
    try {
      watcher = await this.client.watch().prefix(this.keys.membersPrefix).create();
    } catch (error) {
      throw etcdFailure('watching members', error);
    }
    const refresh = (): void => {
      this.list().then(onChange, onError);
    };
    watcher.on('put', refresh);
    watcher.on('delete', refresh);
    watcher.on('error', (error) => onError(etcdFailure('watching members', error)));
    return { close: () => watcher.cancel() };
  }

  private decode(kv: IKeyValue): MemberInfo {
    const key = kv.key.toString();
    const record = decodeRecord(key, kv.value);
    return { nodeId: stringField(key, record, 'nodeId'), advertise: stringField(key, record, 'advertise'), ...clusterAddressField(record) };
  }
}
