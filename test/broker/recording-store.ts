import type { Message } from '../../src/broker/message.js';
import type { MessageStore, StoreWatcher } from '../../src/broker/persistence.js';
import type { Queue } from '../../src/broker/queue.js';

const decoder = new TextDecoder();

/**
 * A message store for domain tests: it writes nothing, and the test says when what was added is "on
 * disk" (`sync`) or "refused" (`fail`), as the real store reports through its watcher.
 */
/** Records what reaches it as the real store would write it: adds since the last sync are one batch. */
export class RecordingStore implements MessageStore {
  readonly added: Message[] = [];
  /** Settlements, as `queue:body`. */
  readonly removed: string[] = [];
  watcher: StoreWatcher | undefined;
  private synced = 0;

  add(message: Message): void {
    message.storeRef = this.added.length;
    this.added.push(message);
  }

  remove(message: Message, queue: Queue): void {
    this.removed.push(`${queue.name}:${decoder.decode(message.body)}`);
  }

  delivered(): void {}
  returned(): void {}
  queueDeleted(): void {}

  load(messages: readonly Message[]): never {
    throw new Error(`messages ${messages.map((m) => m.id).join(', ')} have no content on disk here`);
  }

  watch(watcher: StoreWatcher): void {
    this.watcher = watcher;
    watcher.storedThrough(0);
  }

  /** Everything added so far is on disk. */
  sync(): void {
    this.synced = this.added.length;
    const last = this.added[this.added.length - 1];
    if (last) this.watcher?.storedThrough(last.id);
  }

  /**
   * The write of what was added since the last sync failed: those messages no queue handed out are
   * refused; the rest are kept (returned), as the real store writes them again with its retry.
   */
  fail(): Message[] {
    const failed = this.added.slice(this.synced);
    this.synced = this.added.length;
    const refused = failed.filter((message) => !message.handedOut);
    const kept = failed.filter((message) => message.handedOut);
    // As the real store: what is added while the broker takes the refusal belongs to the next write.
    this.watcher?.refused(new Set(refused));
    const through = (kept[0]?.id ?? Number.POSITIVE_INFINITY) - 1;
    const last = refused.filter((message) => message.id <= through).pop();
    if (last) this.watcher?.storedThrough(last.id);
    return kept;
  }
}
