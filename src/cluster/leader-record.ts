import type { IKeyValue } from 'etcd3';
import { decodeRecord, stringField } from './cluster-record.js';
import { clusterAddressField } from './membership.js';
import { revision } from './etcd-client.js';

/**
 * Who leads, and since when. The epoch is the leader key's create revision: etcd gives every write a
 * revision larger than all before it, so each new leader's epoch is larger than every earlier one's, and
 * the same number fences the leader's writes (a transaction that compares it fails once the key is gone
 * or is another leader's).
 */
export interface LeaderRecord {
  readonly nodeId: string;
  readonly advertise: string;
  /** host:port of the leader's cluster port. */
  readonly cluster?: string;
  readonly epoch: bigint;
  /** The lease the leader key is attached to: the leader's own. */
  readonly leaseId: string;
}

export function decodeLeader(kv: IKeyValue): LeaderRecord {
  const key = kv.key.toString();
  const record = decodeRecord(key, kv.value);
  return {
    nodeId: stringField(key, record, 'nodeId'),
    advertise: stringField(key, record, 'advertise'),
    ...clusterAddressField(record),
    epoch: revision(kv.create_revision),
    leaseId: kv.lease,
  };
}
