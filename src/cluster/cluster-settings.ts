import type { Etcd3 } from 'etcd3';
import { ClusterError, ClusterErrorCodes, etcdFailure } from './cluster-errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { decodeRecord, encodeRecord, integerField } from './cluster-record.js';

/** Settings every node must agree on, so they live in etcd rather than in each node's flags. */
export interface ClusterSettings {
  /** ISR members (the leader included) that must hold a message before it is confirmed. */
  readonly minInsync: number;
}

export function validateSettings(settings: ClusterSettings): ClusterSettings {
  if (!Number.isInteger(settings.minInsync) || settings.minInsync < 1) {
    throw new RangeError(`min-insync must be a positive integer, got ${settings.minInsync}`);
  }
  return settings;
}

export class SettingsStore {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: ClusterKeys,
  ) {}

  /** The first node to start writes its settings; every later one reads what is there. */
  async ensure(defaults: ClusterSettings): Promise<ClusterSettings> {
    validateSettings(defaults);
    let result;
    try {
      result = await this.client
        .if(this.keys.settings, 'Create', '==', 0)
        .then(this.client.put(this.keys.settings).value(encodeRecord({ minInsync: defaults.minInsync })))
        .else(this.client.get(this.keys.settings))
        .commit();
    } catch (error) {
      throw etcdFailure('reading the cluster settings', error);
    }
    if (result.succeeded) return defaults;
    const kv = result.responses[0]?.response_range?.kvs[0];
    if (!kv) return this.ensure(defaults);
    return this.decode(kv.value);
  }

  async read(): Promise<ClusterSettings | undefined> {
    try {
      const value = await this.client.get(this.keys.settings).buffer();
      return value ? this.decode(value) : undefined;
    } catch (error) {
      throw etcdFailure('reading the cluster settings', error);
    }
  }

  /** Changes the settings as the leader of `epoch` (guarded as the ISR is). */
  async write(settings: ClusterSettings, epoch: bigint): Promise<void> {
    validateSettings(settings);
    let result;
    try {
      result = await this.client
        .if(this.keys.leader, 'Create', '==', epoch.toString())
        .then(this.client.put(this.keys.settings).value(encodeRecord({ minInsync: settings.minInsync })))
        .commit();
    } catch (error) {
      throw etcdFailure('writing the cluster settings', error);
    }
    if (!result.succeeded) throw new ClusterError(ClusterErrorCodes.NOT_LEADER, `settings not changed: epoch ${epoch} no longer holds the leader key`);
  }

  private decode(raw: Buffer): ClusterSettings {
    const record = decodeRecord(this.keys.settings, raw);
    return { minInsync: integerField(this.keys.settings, record, 'minInsync') };
  }
}
