import { bindingEnds, endKey, recordKey, type DefinitionRecord } from './definition-record.js';

/**
 * The live definitions: the last upsert of every key that has not been deleted since. It is what the
 * log would replay to, kept in memory so that compaction writes it out without walking the broker.
 * Deletions cascade as they do in the broker — a vhost takes everything in it (policies too), an exchange
 * or a queue the bindings touching it, a user its permissions and topic permissions — so the fold stays
 * consistent even when the broker does not tell each dependent deletion.
 */
export class DefinitionsFold {
  private readonly live = new Map<string, DefinitionRecord>();
  /** vhost → keys of the permissions, exchanges, queues and bindings in it. */
  private readonly inVhost = new Map<string, Set<string>>();
  /** exchange or queue (endKey) → keys of the bindings touching it. */
  private readonly bindingsOf = new Map<string, Set<string>>();
  /** user → keys of its permissions and topic permissions. */
  private readonly permissionsOf = new Map<string, Set<string>>();

  get size(): number {
    return this.live.size;
  }

  records(): IterableIterator<DefinitionRecord> {
    return this.live.values();
  }

  hasVhost(name: string): boolean {
    return this.live.has(recordKey({ k: 'vhost', n: name, del: true }));
  }

  /** Returns false when the record changes nothing: a deletion of something already gone. */
  apply(record: DefinitionRecord): boolean {
    const key = recordKey(record);
    if (record.del !== true) {
      if (!this.live.has(key)) this.index(key, record);
      this.live.set(key, record);
      return true;
    }
    let changed = this.remove(key);
    switch (record.k) {
      case 'vhost':
        changed = this.removeAll(this.inVhost.get(record.n)) || changed;
        break;
      case 'user':
        changed = this.removeAll(this.permissionsOf.get(record.n)) || changed;
        break;
      case 'exchange':
      case 'queue':
        changed = this.removeAll(this.bindingsOf.get(endKey(record.v, record.k, record.n))) || changed;
        break;
    }
    return changed;
  }

  private removeAll(keys: Set<string> | undefined): boolean {
    if (!keys || keys.size === 0) return false;
    for (const key of [...keys]) this.remove(key);
    return true;
  }

  private remove(key: string): boolean {
    const record = this.live.get(key);
    if (!record) return false;
    this.live.delete(key);
    switch (record.k) {
      case 'permission':
      case 'topic-permission':
        unlink(this.inVhost, record.v, key);
        unlink(this.permissionsOf, record.u, key);
        break;
      case 'exchange':
      case 'queue':
      case 'policy':
      case 'operator-policy':
        unlink(this.inVhost, record.v, key);
        break;
      case 'binding':
        unlink(this.inVhost, record.v, key);
        for (const end of bindingEnds(record)) unlink(this.bindingsOf, end, key);
        break;
    }
    return true;
  }

  private index(key: string, record: DefinitionRecord): void {
    switch (record.k) {
      case 'permission':
      case 'topic-permission':
        link(this.inVhost, record.v, key);
        link(this.permissionsOf, record.u, key);
        break;
      case 'exchange':
      case 'queue':
      case 'policy':
      case 'operator-policy':
        link(this.inVhost, record.v, key);
        break;
      case 'binding':
        link(this.inVhost, record.v, key);
        for (const end of bindingEnds(record)) link(this.bindingsOf, end, key);
        break;
    }
  }
}

function link(index: Map<string, Set<string>>, at: string, key: string): void {
  let keys = index.get(at);
  if (!keys) index.set(at, (keys = new Set()));
  keys.add(key);
}

function unlink(index: Map<string, Set<string>>, at: string, key: string): void {
  const keys = index.get(at);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(at);
}
