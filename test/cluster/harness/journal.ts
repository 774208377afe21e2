// What the load driver saw, as it happened: every confirm, delivery and ack with one shared counter
// (the checker's order), plus every connection it opened, so a fault case can tell which node served
// a confirm.
import type { AckRecord, ConfirmRecord, DeliveryRecord, Journal } from './checker.js';

export interface ConnectionRecord {
  readonly label: string;
  readonly role: 'publisher' | 'consumer';
  /** The node whose client port it was opened on (a follower tunnels it to the leader). */
  readonly node: string;
  readonly openedAt: number;
  closedAt?: number;
  closeReason?: string;
}

export interface DriverJournal extends Journal {
  readonly connections: readonly ConnectionRecord[];
}

export class JournalWriter {
  readonly confirms: ConfirmRecord[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  readonly acks: AckRecord[] = [];
  readonly connections: ConnectionRecord[] = [];
  #n = 0;

  confirm(record: Omit<ConfirmRecord, 'n' | 'at'>): ConfirmRecord {
    const full = { ...record, n: this.#n++, at: Date.now() };
    this.confirms.push(full);
    return full;
  }

  delivery(record: Omit<DeliveryRecord, 'n' | 'at'>): void {
    this.deliveries.push({ ...record, n: this.#n++, at: Date.now() });
  }

  ack(record: Omit<AckRecord, 'n' | 'at'>): void {
    this.acks.push({ ...record, n: this.#n++, at: Date.now() });
  }

  /** `openedAt`: when the AMQP handshake completed (before the channel was set up). */
  opened(label: string, role: ConnectionRecord['role'], node: string, openedAt: number): ConnectionRecord {
    const record: ConnectionRecord = { label, role, node, openedAt };
    this.connections.push(record);
    return record;
  }

  snapshot(): DriverJournal {
    return {
      confirms: [...this.confirms],
      deliveries: [...this.deliveries],
      acks: [...this.acks],
      connections: this.connections.map((c) => ({ ...c })),
    };
  }
}
