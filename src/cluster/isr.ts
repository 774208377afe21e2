import type { Etcd3 } from 'etcd3';
import { ClusterError, ClusterErrorCodes, etcdFailure } from './cluster-errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { decodeRecord, encodeRecord, stringField, stringListField } from './cluster-record.js';
import { revision } from './etcd-client.js';

export interface IsrRecord {
  /** Node ids that hold every confirmed byte: the only nodes that may become leader. */
  readonly members: readonly string[];
  /** The epoch of the leader that wrote it. */
  readonly epoch: bigint;
  /** The key's mod revision: an election transaction compares it, so the ISR cannot change under it. */
  readonly modRevision: bigint;
}

/**
 * The in-sync replica set. Only the current leader writes it, and etcd checks that: the write is a
 * transaction whose guard is the leader key's create revision (the epoch), so a leader that lost its
 * lease — and with it the key — cannot change the ISR any more, however late its write arrives.
 */
export class IsrStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: ClusterKeys,
  ) {}

  async read(): Promise<IsrRecord | undefined> {
    let response;
    try {
      response = await this.client.get(this.keys.isr).exec();
    } catch (error) {
      throw etcdFailure('reading the ISR', error);
    }
    const kv = response.kvs[0];
    if (!kv) return undefined;
    const record = decodeRecord(this.keys.isr, kv.value);
    const epoch = stringField(this.keys.isr, record, 'epoch');
    if (!/^\d+$/.test(epoch)) throw new ClusterError(ClusterErrorCodes.BAD_RECORD, `etcd key ${this.keys.isr}: epoch '${epoch}' is not a revision`);
    return { members: stringListField(this.keys.isr, record, 'members'), epoch: BigInt(epoch), modRevision: revision(kv.mod_revision) };
  }

  /** Writes the ISR as the leader of `epoch`; NOT_LEADER if the leader key is gone or another leader's. */
  async write(members: readonly string[], epoch: bigint): Promise<IsrRecord> {
    const unique = [...new Set(members)].sort();
    const value = encodeRecord({ members: unique, epoch: epoch.toString() });
    let result;
    try {
      result = await this.client
        .if(this.keys.leader, 'Create', '==', epoch.toString())
        .then(this.client.put(this.keys.isr).value(value))
        .commit();
    } catch (error) {
      throw etcdFailure('writing the ISR', error);
    }
    if (!result.succeeded) {
      throw new ClusterError(ClusterErrorCodes.NOT_LEADER, `the ISR was not changed: epoch ${epoch} no longer holds the leader key`);
    }
    return { members: unique, epoch, modRevision: revision(result.header.revision) };
  }
}
